"""Scheduling the next conversation (issue 17): the coach (or the coachee, if allowed)
puts a session or a series in both calendars; moving and cancelling tell the other person;
holding a session logs it, and a series goes on."""

from datetime import UTC, date, datetime, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import icalendar
import pytest
import time_machine
from django.core.management import call_command
from django.urls import reverse

from relationships.models import CoachingSession, ScheduledSession
from relationships.services import HELD_AFTER, scheduled_sessions_roll
from tests.factories import RelationshipFactory, ScheduledSessionFactory, SessionFactory
from tests.helpers import text

pytestmark = pytest.mark.django_db
LONDON = ZoneInfo("Europe/London")
# A Monday, when London is on UTC.
NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def _schedule(client, relationship, **data):
    return client.post(
        reverse("session_schedule", args=[relationship.public_id]),
        {
            "day": "2026-12-03",
            "start_time": "10:00",
            "duration_minutes": "45",
            "cadence": "once",
            **data,
        },
    )


@pytest.fixture
def london(relationship):
    for person in (relationship.coach, relationship.coachee):
        person.time_zone = "Europe/London"
        person.save()
    return relationship


@pytest.mark.travel(NOW)
def test_the_coach_schedules_a_series_and_both_see_it_first(
    client, london, mailoutbox, django_capture_on_commit_callbacks
):
    relationship = london
    SessionFactory(relationship=relationship, agenda="Secret agenda words")
    client.force_login(relationship.coach)

    with django_capture_on_commit_callbacks(execute=True):
        response = _schedule(client, relationship, cadence="weekly")

    scheduled = ScheduledSession.objects.get()
    assert response["Location"] == reverse("scheduled_detail", args=[scheduled.public_id])
    assert scheduled.starts_at == datetime(2026, 12, 3, 10, 0, tzinfo=UTC)
    assert (scheduled.time_zone, scheduled.cadence) == ("Europe/London", "weekly")
    assert scheduled.series is not None
    (email,) = mailoutbox
    assert email.to == [relationship.coachee.email]
    assert f"{relationship.coach.name} scheduled a coaching session" in email.subject
    assert "Thursday 3 December 2026, 10:00–10:45 (Europe/London)" in email.body
    assert "Secret agenda words" not in email.body
    for person in (relationship.coach, relationship.coachee):
        client.force_login(person)
        home = text(client.get(reverse("home")))
        assert home.index("Your next sessions") < home.index("What you can do next")
        assert "Thursday 3 December, 10:00" in home and "every week" in home
        page = text(client.get(reverse("relationship_detail", args=[relationship.public_id])))
        assert "Next session Thursday 3 December, 10:00" in page


@pytest.mark.travel(NOW)
def test_the_coachee_schedules_only_when_the_coach_allows_it(client, london):
    relationship = london
    client.force_login(relationship.coachee)

    refused = _schedule(client, relationship)
    assert refused.status_code == 302
    assert "schedules your sessions" in text(client.get(refused["Location"]))
    assert not ScheduledSession.objects.exists()

    client.force_login(relationship.coach)
    client.post(
        reverse("schedule_permission", args=[relationship.public_id]), {"coachee_schedules": "1"}
    )
    client.force_login(relationship.coachee)
    _schedule(client, relationship)
    assert ScheduledSession.objects.get().created_by == relationship.coachee
    # Only the coach decides.
    client.post(
        reverse("schedule_permission", args=[relationship.public_id]), {"coachee_schedules": "0"}
    )
    relationship.refresh_from_db()
    assert relationship.coachee_schedules


@pytest.mark.travel(NOW)
def test_a_time_already_past_or_bad_input_is_explained(coach_client, london):
    past = _schedule(coach_client, london, day="2026-11-30", start_time="08:00")
    bad = _schedule(coach_client, london, day="soon", start_time="25:99", duration_minutes="7")

    assert past.status_code == 200 and "Choose a time that is still to come." in text(past)
    page = text(bad)
    assert "Enter a valid date." in page and "Enter a valid time." in page
    assert "Select a valid choice." in page
    assert not ScheduledSession.objects.exists()


@pytest.mark.travel(NOW)
def test_moving_a_session_tells_the_other_person_and_two_moves_keep_the_first(
    client, london, mailoutbox, django_capture_on_commit_callbacks
):
    relationship = london
    scheduled = ScheduledSessionFactory(relationship=relationship, time_zone="Europe/London")
    client.force_login(relationship.coach)
    move = reverse("scheduled_move", args=[scheduled.public_id])
    data = {"day": "2026-12-04", "start_time": "15:30", "duration_minutes": "60", "version": 1}

    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(move, data).status_code == 302
    late = client.post(move, {**data, "start_time": "16:00"})

    scheduled.refresh_from_db()
    assert scheduled.starts_at == datetime(2026, 12, 4, 15, 30, tzinfo=UTC)
    assert (scheduled.duration_minutes, scheduled.version) == (60, 2)
    assert "moved" in mailoutbox[0].subject
    assert "Friday 4 December 2026, 15:30–16:30" in mailoutbox[0].body
    assert late.status_code == 409 and "moved or cancelled since you opened it" in text(late)


@pytest.mark.travel(NOW)
def test_cancelling_one_of_a_series_keeps_the_series_and_all_ends_it(coach_client, london):
    relationship = london
    first = ScheduledSessionFactory(
        relationship=relationship, cadence="weekly", series="5f0c6a3e-0000-4000-8000-000000000001"
    )

    coach_client.post(reverse("scheduled_cancel", args=[first.public_id]), {"series": "one"})
    first.refresh_from_db()
    following = ScheduledSession.objects.get(status="scheduled")
    coach_client.post(reverse("scheduled_cancel", args=[following.public_id]), {"series": "all"})

    assert first.status == "cancelled"
    assert following.starts_at == first.starts_at + timedelta(days=7)
    assert not ScheduledSession.objects.filter(status="scheduled").exists()


@pytest.mark.travel(NOW)
def test_logging_a_scheduled_session_holds_it_and_the_series_goes_on(coach_client, london):
    relationship = london
    scheduled = ScheduledSessionFactory(
        relationship=relationship,
        starts_at=NOW - timedelta(hours=2),
        cadence="fortnightly",
        series="5f0c6a3e-0000-4000-8000-000000000002",
        duration_minutes=30,
    )

    form = coach_client.get(
        reverse("session_create", args=[relationship.public_id]),
        {"scheduled": str(scheduled.public_id)},
    ).content.decode()
    assert f'name="scheduled" value="{scheduled.public_id}"' in form
    assert 'value="30"' in form and 'value="2026-11-30"' in form
    logged = coach_client.post(
        reverse("session_create", args=[relationship.public_id]),
        {
            "held_on": "2026-11-30",
            "duration_minutes": 30,
            "focus": "master_the_moment",
            "agenda": "",
            "scheduled": str(scheduled.public_id),
        },
    )

    assert logged.status_code == 302, text(logged)
    scheduled.refresh_from_db()
    assert scheduled.status == "held"
    assert scheduled.session == CoachingSession.objects.get()
    following = ScheduledSession.objects.get(status="scheduled")
    assert following.starts_at == scheduled.slot_starts_at + timedelta(days=14)


def test_a_session_whose_time_is_over_counts_as_held_once_however_often_it_runs(london):
    with time_machine.travel(NOW, tick=False):
        scheduled = ScheduledSessionFactory(
            relationship=london, cadence="weekly", series="5f0c6a3e-0000-4000-8000-000000000003"
        )
    with time_machine.travel(scheduled.ends_at + HELD_AFTER, tick=False):
        assert scheduled_sessions_roll() == 1
        assert scheduled_sessions_roll() == 0
        call_command("run_checkins", stdout=StringIO())

    statuses = list(ScheduledSession.objects.order_by("starts_at").values_list("status", flat=True))
    assert statuses == ["held", "scheduled"]


def test_a_weekly_series_keeps_its_time_of_day_across_the_clock_change(client, london):
    with time_machine.travel(datetime(2027, 3, 20, 9, 0, tzinfo=UTC), tick=False):
        client.force_login(london.coach)
        _schedule(client, london, day="2027-03-25", start_time="10:00", cadence="weekly")
    first = ScheduledSession.objects.get()
    with time_machine.travel(first.ends_at + HELD_AFTER, tick=False):
        scheduled_sessions_roll()

    following = ScheduledSession.objects.get(status="scheduled")
    assert first.starts_at == datetime(2027, 3, 25, 10, 0, tzinfo=UTC)  # GMT
    assert following.starts_at == datetime(2027, 4, 1, 9, 0, tzinfo=UTC)  # 10:00 BST
    assert following.starts_at.astimezone(LONDON).hour == 10


def test_a_monthly_series_on_the_31st_meets_on_the_last_day_of_shorter_months(client, london):
    with time_machine.travel(datetime(2027, 1, 20, 9, 0, tzinfo=UTC), tick=False):
        client.force_login(london.coach)
        _schedule(client, london, day="2027-01-31", start_time="09:00", cadence="monthly")
    first = ScheduledSession.objects.get()
    with time_machine.travel(first.ends_at + HELD_AFTER, tick=False):
        scheduled_sessions_roll()

    following = ScheduledSession.objects.get(status="scheduled")
    assert following.starts_at.astimezone(LONDON).date() == date(2027, 2, 28)


@pytest.mark.travel(NOW)
def test_the_calendar_file_is_valid_icalendar_with_nothing_but_time_and_names(coach_client, london):
    relationship = london
    SessionFactory(relationship=relationship, agenda="Agenda canary", summary="Summary canary")
    scheduled = ScheduledSessionFactory(
        relationship=relationship,
        starts_at=datetime(2027, 6, 3, 9, 0, tzinfo=UTC),  # 10:00 BST
        time_zone="Europe/London",
    )

    response = coach_client.get(reverse("scheduled_calendar", args=[scheduled.public_id]))

    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    body = response.content.decode()
    calendar = icalendar.Calendar.from_ical(body)
    (event,) = calendar.walk("VEVENT")
    (zone,) = calendar.walk("VTIMEZONE")
    assert zone["TZID"] == "Europe/London"
    start = event.decoded("DTSTART")
    assert start == datetime(2027, 6, 3, 10, 0, tzinfo=LONDON)
    assert event["DTSTART"].params["TZID"] == "Europe/London"
    assert event.decoded("DTEND") - start == timedelta(minutes=45)
    assert str(event["SUMMARY"]) == f"Coaching session with {relationship.coachee.name}"
    assert str(event["UID"]) == f"{scheduled.public_id}@rapport"
    for secret in ("Agenda canary", "Summary canary", "master_the_moment", "Master the moment"):
        assert secret not in body
    assert body.endswith("\r\n") and all(len(line) <= 75 for line in body.split("\r\n"))


@pytest.mark.travel(NOW)
def test_another_pair_cannot_see_move_cancel_or_download_a_session(other_coach_client, london):
    scheduled = ScheduledSessionFactory(relationship=london)

    for name, method in (
        ("scheduled_detail", "get"),
        ("scheduled_calendar", "get"),
        ("scheduled_move", "post"),
        ("scheduled_cancel", "post"),
    ):
        response = getattr(other_coach_client, method)(reverse(name, args=[scheduled.public_id]))
        assert response.status_code == 404, name
    assert _schedule(other_coach_client, london).status_code == 404
    scheduled.refresh_from_db()
    assert (scheduled.status, scheduled.version) == ("scheduled", 1)


@pytest.mark.travel(NOW)
def test_ending_the_relationship_cancels_what_was_scheduled(coach_client, london):
    scheduled = ScheduledSessionFactory(relationship=london)

    coach_client.post(
        reverse("relationship_transition", args=[london.public_id]), {"action": "end"}
    )

    scheduled.refresh_from_db()
    assert scheduled.status == "cancelled"
    home = text(coach_client.get(reverse("home")))
    assert "Your next sessions" not in home


@pytest.mark.travel(NOW)
def test_an_unrelated_relationship_has_nothing_scheduled(coach_client, london):
    other = RelationshipFactory(organisation=london.organisation, coach=london.coach)
    ScheduledSessionFactory(relationship=london)

    page = text(coach_client.get(reverse("relationship_detail", args=[other.public_id])))

    assert "Nothing scheduled yet." in page
