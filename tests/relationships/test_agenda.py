"""The shared agenda (issue 17): both people add talking points to a session still to
come, reorder them and mark them discussed; a private point is its author's alone; what
was not discussed moves to the next session, and the open action items are on it too."""

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.urls import reverse

from relationships.models import ScheduledSession, TalkingPoint
from relationships.services import HELD_AFTER, scheduled_sessions_roll
from tests.factories import (
    ActionItemFactory,
    RelationshipFactory,
    ScheduledSessionFactory,
    TalkingPointFactory,
)
from tests.helpers import text

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
SERIES = "5f0c6a3e-0000-4000-8000-0000000000a1"


def _page(client, scheduled) -> str:
    response = client.get(reverse("scheduled_detail", args=[scheduled.public_id]))
    assert response.status_code == 200
    return text(response)


def _add(client, scheduled, body, visibility="shared", **headers):
    return client.post(
        reverse("talking_point_add", args=[scheduled.public_id]),
        {"text": body, "visibility": visibility, "client_token": str(uuid.uuid4())},
        headers=headers,
    )


def _agenda(scheduled, person) -> list[str]:
    return [p.text for p in TalkingPoint.objects.visible_to(person).filter(scheduled=scheduled)]


@pytest.mark.travel(NOW)
def test_both_people_add_points_and_a_private_one_is_its_authors_alone(client, relationship):
    scheduled = ScheduledSessionFactory(relationship=relationship)
    client.force_login(relationship.coach)
    assert _add(client, scheduled, "How the launch went").status_code == 302
    client.force_login(relationship.coachee)
    _add(client, scheduled, "Ask for the training budget")
    _add(client, scheduled, "Stay calm about the reorg", visibility="private")

    coachee_page = _page(client, scheduled)
    assert coachee_page.index("How the launch went") < coachee_page.index("training budget")
    assert "Stay calm about the reorg You Private — only you" in coachee_page
    assert "Shared with you" in coachee_page
    client.force_login(relationship.coach)
    coach_page = _page(client, scheduled)
    assert "How the launch went" in coach_page and "Ask for the training budget" in coach_page
    assert "Stay calm about the reorg" not in coach_page
    private = TalkingPoint.objects.get(visibility="private")
    assert (
        client.post(reverse("talking_point_discussed", args=[private.public_id])).status_code == 404
    )
    # Encrypted at rest, like a private note.
    with connection.cursor() as cursor:
        cursor.execute("SELECT text_ciphertext FROM relationships_talkingpoint")
        stored = " ".join(row[0] for row in cursor.fetchall())
    assert "reorg" not in stored and "launch" not in stored


@pytest.mark.travel(NOW)
def test_a_point_sent_twice_is_added_once_and_bad_input_is_explained(coach_client, relationship):
    scheduled = ScheduledSessionFactory(relationship=relationship)
    url = reverse("talking_point_add", args=[scheduled.public_id])
    data = {"text": "Once only", "visibility": "shared", "client_token": str(uuid.uuid4())}
    coach_client.post(url, data)
    coach_client.post(url, data)
    assert TalkingPoint.objects.count() == 1

    empty = coach_client.post(url, {"text": "  ", "visibility": "shared"})
    assert empty.status_code == 200
    assert "Write the point you want to talk about." in text(empty)
    kept = coach_client.post(url, {"text": "Kept words", "visibility": "nobody"})
    assert 'value="Kept words"' in kept.content.decode()  # what was typed is not lost
    too_long = coach_client.post(
        url,
        {"text": "x" * 501, "visibility": "nobody", "client_token": str(uuid.uuid4())},
        headers={"HX-Request": "true"},
    )
    assert too_long.status_code == 200
    assert "at most 500 characters" in text(too_long)
    assert TalkingPoint.objects.count() == 1


@pytest.mark.travel(NOW)
def test_either_person_reorders_and_the_other_persons_private_point_keeps_its_place(
    client, relationship
):
    scheduled = ScheduledSessionFactory(relationship=relationship)
    TalkingPointFactory(scheduled=scheduled, text="First")
    hidden = TalkingPointFactory(scheduled=scheduled, text="Coach's reminder", visibility="private")
    third = TalkingPointFactory(scheduled=scheduled, author=relationship.coachee, text="Third")
    client.force_login(relationship.coachee)

    client.post(reverse("talking_point_move", args=[third.public_id]), {"direction": "up"})

    assert _agenda(scheduled, relationship.coachee) == ["Third", "First"]
    assert _agenda(scheduled, relationship.coach) == ["Third", "First", "Coach's reminder"]
    client.force_login(relationship.coach)
    client.post(reverse("talking_point_move", args=[hidden.public_id]), {"direction": "up"})
    client.post(reverse("talking_point_move", args=[hidden.public_id]), {"direction": "up"})
    assert _agenda(scheduled, relationship.coach) == ["Coach's reminder", "Third", "First"]
    # Already first: nothing moves, nothing breaks.
    response = client.post(
        reverse("talking_point_move", args=[hidden.public_id]),
        {"direction": "up"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200 and 'id="agenda"' in response.content.decode()
    assert _agenda(scheduled, relationship.coachee) == ["Third", "First"]


@pytest.mark.travel(NOW)
def test_the_other_person_marks_a_shared_point_discussed_but_only_its_author_removes_it(
    client, relationship
):
    scheduled = ScheduledSessionFactory(relationship=relationship)
    point = TalkingPointFactory(scheduled=scheduled, text="Roadmap")
    client.force_login(relationship.coachee)

    client.post(reverse("talking_point_discussed", args=[point.public_id]), {"discussed": "1"})
    point.refresh_from_db()
    assert point.discussed_at == NOW
    page = _page(client, scheduled)
    assert f"Roadmap {relationship.coach.name} · discussed Shared with you" in page
    assert "Not discussed yet" in page
    assert client.post(reverse("talking_point_delete", args=[point.public_id])).status_code == 404

    client.force_login(relationship.coach)
    client.post(reverse("talking_point_delete", args=[point.public_id]))
    assert not TalkingPoint.objects.exists()


@pytest.mark.travel(NOW)
def test_holding_a_session_of_a_series_carries_what_was_not_discussed(client, relationship):
    scheduled = ScheduledSessionFactory(
        relationship=relationship,
        starts_at=NOW - timedelta(hours=2),
        cadence="weekly",
        series=SERIES,
    )
    TalkingPointFactory(scheduled=scheduled, text="Done already", discussed_at=NOW)
    TalkingPointFactory(scheduled=scheduled, text="Still open")
    TalkingPointFactory(
        scheduled=scheduled, author=relationship.coachee, text="My own", visibility="private"
    )
    client.force_login(relationship.coach)

    form = client.get(
        reverse("session_create", args=[relationship.public_id]),
        {"scheduled": str(scheduled.public_id)},
    )
    # The log's agenda starts from the shared points; a private one is never on it.
    assert "- Done already\n- Still open" in form.content.decode()
    assert "My own" not in form.content.decode()
    logged = client.post(
        reverse("session_create", args=[relationship.public_id]),
        {
            "held_on": "2026-11-30",
            "duration_minutes": 45,
            "focus": "master_the_moment",
            "agenda": "- Done already\n- Still open",
            "scheduled": str(scheduled.public_id),
        },
    )
    assert logged.status_code == 302

    following = ScheduledSession.objects.get(status="scheduled")
    assert _agenda(following, relationship.coach) == ["Still open"]
    assert _agenda(following, relationship.coachee) == ["Still open", "My own"]
    assert _agenda(scheduled, relationship.coach) == ["Done already"]
    page = _page(client, following)
    assert "Still open You · carried from 30 Nov 2026" in page
    client.force_login(relationship.coachee)
    assert "My own You · carried from 30 Nov 2026" in _page(client, following)
    # The held session's agenda is closed.
    closed = _add(client, scheduled, "Too late")
    assert closed.status_code == 302
    assert "its agenda is closed" in text(client.get(closed["Location"]))
    assert not TalkingPoint.objects.filter(scheduled=scheduled, discussed_at=None).exists()


def test_a_session_over_unlogged_carries_its_points_when_run_checkins_rolls_it(relationship):
    with time_machine.travel(NOW, tick=False):
        scheduled = ScheduledSessionFactory(
            relationship=relationship, cadence="fortnightly", series=SERIES
        )
        TalkingPointFactory(scheduled=scheduled, text="Carry me")
    with time_machine.travel(scheduled.ends_at + timedelta(hours=1), tick=False):
        # Just after the meeting its agenda is still open, to tick off what was discussed.
        assert scheduled_sessions_roll() == 0
    with time_machine.travel(scheduled.ends_at + HELD_AFTER, tick=False):
        assert scheduled_sessions_roll() == 1

    point = TalkingPoint.objects.get()
    assert point.scheduled.starts_at == scheduled.starts_at + timedelta(days=14)
    assert point.carried_from == date(2026, 12, 2)


@pytest.mark.travel(NOW)
def test_a_one_off_leaves_its_points_waiting_for_the_next_session_scheduled(
    coach_client, relationship
):
    scheduled = ScheduledSessionFactory(relationship=relationship)
    TalkingPointFactory(scheduled=scheduled, text="Waiting point")
    TalkingPointFactory(
        scheduled=scheduled, author=relationship.coachee, visibility="private", text="Sam's own"
    )
    coach_client.post(reverse("scheduled_cancel", args=[scheduled.public_id]))
    point = TalkingPoint.objects.get(visibility="shared")
    assert point.scheduled is None and point.carried_from == date(2026, 12, 2)
    page = text(coach_client.get(reverse("relationship_detail", args=[relationship.public_id])))
    assert "Waiting for the next session scheduled, not discussed last time: Waiting point" in page
    assert "Sam's own" not in page  # the coachee's private point waits for them alone
    schedule_form = text(
        coach_client.get(reverse("session_schedule", args=[relationship.public_id]))
    )
    assert "On its agenda already" in schedule_form and "Waiting point" in schedule_form

    coach_client.post(
        reverse("session_schedule", args=[relationship.public_id]),
        {"day": "2026-12-09", "start_time": "10:00", "duration_minutes": "45", "cadence": "once"},
    )

    following = ScheduledSession.objects.get(status="scheduled")
    assert _agenda(following, relationship.coach) == ["Waiting point"]
    assert "carried from 2 Dec 2026" in _page(coach_client, following)
    # The coach's scheduling brought the coachee's private point along, unseen by the coach
    # (on PostgreSQL through the database's agenda context: privacy/rls.py).
    assert TalkingPoint.objects.filter(scheduled=following).count() == 2


@pytest.mark.travel(NOW)
def test_cancelling_one_of_a_series_moves_its_points_to_the_next_first(coach_client, relationship):
    scheduled = ScheduledSessionFactory(relationship=relationship, cadence="weekly", series=SERIES)
    TalkingPointFactory(scheduled=scheduled, text="From the cancelled one")
    coach_client.post(reverse("scheduled_cancel", args=[scheduled.public_id]), {"series": "one"})

    following = ScheduledSession.objects.get(status="scheduled")
    _add(coach_client, following, "Added later")
    assert _agenda(following, relationship.coach) == ["From the cancelled one", "Added later"]


@pytest.mark.travel(NOW)
def test_the_agenda_shows_open_action_items_and_the_focus_prompts_as_suggestions(
    coach_client, relationship
):
    scheduled = ScheduledSessionFactory(relationship=relationship)
    ActionItemFactory(relationship=relationship, text="Draft the plan", due_on=date(2026, 12, 4))
    ActionItemFactory(relationship=relationship, text="Old and done", done_at=NOW)

    page = _page(coach_client, scheduled)

    assert "Open action items Draft the plan" in page
    assert f"{relationship.coachee.name} · due 4 Dec 2026" in page
    assert "Old and done" not in page
    assert "Suggestions Recast the past Why are we sitting down together?" in page
    assert not TalkingPoint.objects.exists()  # suggestions, not the agenda itself
    _add(coach_client, scheduled, "Which decisions are yours to make?")
    assert _agenda(scheduled, relationship.coach) == ["Which decisions are yours to make?"]


@pytest.mark.travel(NOW)
def test_another_pair_cannot_see_or_change_an_agenda(other_coach_client, relationship):
    scheduled = ScheduledSessionFactory(relationship=relationship)
    point = TalkingPointFactory(scheduled=scheduled, text="Not for them")
    RelationshipFactory()

    assert _add(other_coach_client, scheduled, "Intruder").status_code == 404
    for name in ("talking_point_discussed", "talking_point_move", "talking_point_delete"):
        assert other_coach_client.post(reverse(name, args=[point.public_id])).status_code == 404
    point.refresh_from_db()
    assert point.discussed_at is None and TalkingPoint.objects.count() == 1


@pytest.mark.travel(NOW)
def test_a_cancelled_session_never_sends_its_points_back_to_an_earlier_one(
    coach_client, relationship
):
    earlier = ScheduledSessionFactory(relationship=relationship)  # in two days
    later = ScheduledSessionFactory(
        relationship=relationship, starts_at=earlier.starts_at + timedelta(days=7)
    )
    TalkingPointFactory(scheduled=later, text="For the later one")

    coach_client.post(reverse("scheduled_cancel", args=[later.public_id]))

    point = TalkingPoint.objects.get()
    assert point.scheduled is None  # it waits for a session after the cancelled one
    assert _agenda(earlier, relationship.coach) == []


@pytest.mark.travel(NOW)
def test_a_held_sessions_agenda_is_a_record_its_points_stay(client, relationship):
    scheduled = ScheduledSessionFactory(
        relationship=relationship, status=ScheduledSession.Status.HELD
    )
    point = TalkingPointFactory(scheduled=scheduled, text="Discussed then", discussed_at=NOW)
    client.force_login(relationship.coach)

    response = client.post(reverse("talking_point_delete", args=[point.public_id]), follow=True)

    assert "its agenda is closed" in text(response)
    assert TalkingPoint.objects.filter(pk=point.pk).exists()
