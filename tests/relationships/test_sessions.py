import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from relationships.models import CoachingRelationship, CoachingSession
from relationships.prompts import agenda_for
from tests.factories import ActionItemFactory, NoteFactory, RelationshipFactory, SessionFactory
from tests.helpers import queries_of, text

pytestmark = pytest.mark.django_db
Focus = CoachingSession.Focus


def _log(client, relationship, **data):
    return client.post(
        reverse("session_create", args=[relationship.public_id]),
        {
            "held_on": timezone.localdate().isoformat(),
            "duration_minutes": "50",
            "focus": Focus.RECAST_THE_PAST,
            "agenda": agenda_for(Focus.RECAST_THE_PAST),
            "summary": "",
            "client_token": uuid.uuid4(),
            **data,
        },
    )


def test_the_first_session_suggests_recast_the_past_with_its_prompts(coach_client, relationship):
    page = coach_client.get(reverse("session_create", args=[relationship.public_id]))

    html = page.content.decode()
    assert "Your first session: Recast the past is a good place to start." in text(page)
    assert '<option value="recast_the_past" selected>' in html
    assert "Why are we sitting down together?" in html


def test_the_coach_sees_private_prompts_that_are_not_in_the_shared_agenda(client, relationship):
    client.force_login(relationship.coach)
    coach_page = text(client.get(reverse("session_create", args=[relationship.public_id])))
    client.force_login(relationship.coachee)
    coachee_page = text(client.get(reverse("session_create", args=[relationship.public_id])))

    prompt = "What past experiences could be getting in the way of trust?"
    assert prompt in coach_page and "Just for you" in coach_page
    assert prompt not in coachee_page
    assert prompt not in agenda_for(Focus.RECAST_THE_PAST)


def test_later_sessions_default_to_master_the_moment(coach_client, relationship):
    SessionFactory(relationship=relationship)

    html = coach_client.get(
        reverse("session_create", args=[relationship.public_id])
    ).content.decode()

    assert '<option value="master_the_moment" selected>' in html


@pytest.mark.parametrize("focus", [Focus.MASTER_THE_MOMENT, Focus.CO_CREATE_THE_FUTURE])
def test_changing_focus_with_htmx_refreshes_an_untouched_agenda(coach_client, relationship, focus):
    response = coach_client.post(
        reverse("session_create", args=[relationship.public_id]),
        {"focus": focus, "agenda": agenda_for(Focus.RECAST_THE_PAST), "refresh_agenda": "1"},
        headers={"HX-Request": "true"},
    )

    html = response.content.decode()
    assert html.lstrip().startswith('<div id="agenda"')
    assert agenda_for(focus).splitlines()[0] in html


def test_changing_focus_never_replaces_what_the_person_wrote(coach_client, relationship):
    response = coach_client.post(
        reverse("session_create", args=[relationship.public_id]),
        {"focus": Focus.CO_CREATE_THE_FUTURE, "agenda": "My own plan", "refresh_agenda": "1"},
        headers={"HX-Request": "true"},
    )

    assert "My own plan" in response.content.decode()


def test_without_javascript_a_button_refreshes_the_prompts(coach_client, relationship):
    response = _log(
        coach_client, relationship, focus=Focus.CO_CREATE_THE_FUTURE, refresh_agenda="1"
    )

    assert response.status_code == 200
    assert "Which decisions are yours to make?" in response.content.decode()
    assert not CoachingSession.objects.exists()


@pytest.mark.parametrize("who", ["coach", "coachee"])
def test_either_party_logs_a_session_and_both_see_it(client, relationship, who):
    client.force_login(getattr(relationship, who))
    response = _log(client, relationship, summary="We talked about trust.")

    session = CoachingSession.objects.get()
    assert response["Location"] == reverse("session_detail", args=[session.public_id])
    assert (session.duration_minutes, session.focus, session.summary) == (
        50,
        Focus.RECAST_THE_PAST,
        "We talked about trust.",
    )
    for user in (relationship.coach, relationship.coachee):
        client.force_login(user)
        page = text(client.get(reverse("session_detail", args=[session.public_id])))
        assert "We talked about trust." in page
        assert "Why are we sitting down together?" in page


def test_the_same_session_form_sent_twice_logs_one_session(coach_client, relationship):
    token = uuid.uuid4()
    _log(coach_client, relationship, client_token=token)
    _log(coach_client, relationship, client_token=token)

    assert CoachingSession.objects.count() == 1


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("held_on", "someday", "Enter a valid date."),
        ("duration_minutes", "0", "Ensure this value is greater than or equal to 5."),
        ("duration_minutes", "lots", "Enter a whole number."),
        ("focus", "vibes", "Select a valid choice."),
    ],
)
def test_bad_session_input_is_explained(coach_client, relationship, field, value, message):
    response = _log(coach_client, relationship, **{field: value})

    assert message in text(response)
    assert not CoachingSession.objects.exists()


def test_no_sessions_before_the_invitation_is_accepted(client, coach, coachee, organisation):
    relationship = RelationshipFactory(
        organisation=organisation, coach=coach, coachee=coachee, status="invited"
    )
    client.force_login(coach)

    response = _log(client, relationship)

    assert "This relationship starts once the invitation is accepted." in text(response)
    assert not CoachingSession.objects.exists()


def test_the_summary_is_shared_and_editable_by_both_with_conflict_detection(client, relationship):
    session = SessionFactory(relationship=relationship, summary="Draft summary")
    form = {
        "held_on": session.held_on.isoformat(),
        "duration_minutes": "45",
        "focus": Focus.MASTER_THE_MOMENT,
        "agenda": "",
        "version": "1",
    }
    client.force_login(relationship.coachee)
    first = client.post(
        reverse("session_edit", args=[session.public_id]), {**form, "summary": "Coachee's view"}
    )
    client.force_login(relationship.coach)
    second = client.post(
        reverse("session_edit", args=[session.public_id]), {**form, "summary": "Coach's view"}
    )

    assert first.status_code == 302
    assert second.status_code == 409
    assert "Coach's view" in text(second), "the coach's text is kept in the form"
    assert "Coachee's view" in text(second), "the latest saved summary is shown"
    session.refresh_from_db()
    assert (session.summary, session.version) == ("Coachee's view", 2)


def test_another_pairs_session_is_a_404_and_unchanged(other_coach_client, relationship):
    session = SessionFactory(relationship=relationship, summary="Theirs")

    page = other_coach_client.get(reverse("session_detail", args=[session.public_id]))
    edit = other_coach_client.post(
        reverse("session_edit", args=[session.public_id]),
        {
            "held_on": "2026-11-20",
            "duration_minutes": "45",
            "focus": "other",
            "summary": "Mine now",
            "version": "1",
        },
    )

    assert (page.status_code, edit.status_code) == (404, 404)
    session.refresh_from_db()
    assert (session.summary, session.version) == ("Theirs", 1)


def test_the_relationship_page_shows_the_timeline(coach_client, relationship):
    SessionFactory(relationship=relationship, held_on="2026-10-01", focus=Focus.RECAST_THE_PAST)
    SessionFactory(relationship=relationship, held_on="2026-11-01")

    page = text(coach_client.get(reverse("relationship_detail", args=[relationship.public_id])))

    assert page.index("1 November 2026") < page.index("1 October 2026"), "newest first"
    assert "Recast the past" in page


def test_relationship_and_session_pages_keep_a_fixed_number_of_queries(client, relationship):
    def grow(times):
        for _ in range(times):
            session = SessionFactory(relationship=relationship)
            NoteFactory(relationship=relationship, session=session)
            NoteFactory(relationship=relationship, visibility="shared")
            ActionItemFactory(relationship=relationship, session=session)

    client.force_login(relationship.coach)
    grow(1)
    session = CoachingSession.objects.first()
    pages = [
        reverse("relationship_detail", args=[relationship.public_id]),
        reverse("session_detail", args=[session.public_id]),
        reverse("relationship_list"),
    ]
    client.get(pages[0])
    counts = {page: queries_of(client, page) for page in pages}
    assert max(counts.values()) <= 12
    grow(9)
    assert {page: queries_of(client, page) for page in pages} == counts


def test_an_ended_relationship_refuses_new_sessions(coach_client, relationship):
    relationship.status = CoachingRelationship.Status.ENDED
    relationship.save()

    response = _log(coach_client, relationship)

    assert "read-only" in text(response)
    assert not CoachingSession.objects.exists()


# --- Dates that cannot be right (issue 14, bug 4) ------------------------------------


@pytest.mark.parametrize("held_on", ["2999-01-01", "1900-01-01"])
def test_attack_an_implausible_session_date_is_accepted_and_heads_the_list(
    coach_client, relationship, held_on
):
    SessionFactory(relationship=relationship, summary="The real one")

    response = _log(coach_client, relationship, held_on=held_on)

    assert response.status_code == 200
    page = text(response)
    assert (
        "Choose a date no later than today" in page
        or "when this coaching relationship began" in page
    )
    assert CoachingSession.objects.count() == 1


def test_a_session_cannot_be_logged_for_tomorrow(coach_client, relationship):
    tomorrow = timezone.localdate() + timedelta(days=1)

    response = _log(coach_client, relationship, held_on=tomorrow.isoformat())

    today = timezone.localdate()
    assert f"Choose a date no later than today ({today:%-d %B %Y})" in text(response)
    assert not CoachingSession.objects.exists()


def test_a_session_cannot_predate_the_relationship(coach_client, relationship):
    began = timezone.localdate() - timedelta(days=10)
    relationship.accepted_at = timezone.now() - timedelta(days=10)
    relationship.save()

    refused = _log(coach_client, relationship, held_on=(began - timedelta(days=1)).isoformat())
    accepted = _log(coach_client, relationship, held_on=began.isoformat())

    assert f"Choose a date on or after {began:%-d %B %Y}" in text(refused)
    assert "when this coaching relationship began" in text(refused)
    assert accepted.status_code == 302
    assert CoachingSession.objects.get().held_on == began


def test_today_and_the_first_day_are_on_the_loggers_own_calendar(client, relationship):
    """Decision: both limits are read in the time zone of the person typing the date.
    At 12:00 UTC on 2 March it is already 3 March in Kiritimati (UTC+14)."""
    relationship.accepted_at = datetime(2026, 3, 2, 11, 0, tzinfo=UTC)
    relationship.save()
    relationship.coach.time_zone = "Pacific/Kiritimati"
    relationship.coach.save()
    client.force_login(relationship.coach)

    with time_machine.travel(datetime(2026, 3, 2, 12, 0, tzinfo=UTC), tick=False):
        client.force_login(relationship.coach)
        early = _log(client, relationship, held_on="2026-03-02")
        ok = _log(client, relationship, held_on="2026-03-03")

    assert "Choose a date on or after 3 March 2026" in text(early)
    assert ok.status_code == 302
    assert CoachingSession.objects.get().held_on == date(2026, 3, 3)


def test_a_persons_time_zone_ends_with_their_request(client, relationship, settings):
    # Left active, it set "today" for whatever the thread ran next: here, a test whose
    # factory logged a session on Kiritimati's date and then compared it with UTC's.
    relationship.coach.time_zone = "Pacific/Kiritimati"
    relationship.coach.save()
    client.force_login(relationship.coach)

    client.get(reverse("relationship_detail", args=[relationship.public_id]))

    assert timezone.get_current_timezone_name() == settings.TIME_ZONE


def test_editing_a_session_into_the_future_is_refused(coach_client, relationship):
    session = SessionFactory(relationship=relationship)
    form = {"duration_minutes": "45", "focus": Focus.OTHER, "agenda": "", "version": "1"}

    response = coach_client.post(
        reverse("session_edit", args=[session.public_id]), {**form, "held_on": "2999-01-01"}
    )

    assert "Choose a date no later than today" in text(response)
    session.refresh_from_db()
    assert session.held_on == timezone.localdate()


def test_an_old_session_date_is_not_rejudged_when_only_the_summary_changes(
    coach_client, relationship
):
    """Existing data is not the problem: a session stored before the rule (dated before
    the relationship began) can still have its summary edited."""
    session = SessionFactory(relationship=relationship, held_on=date(2020, 1, 1))
    form = {"duration_minutes": "45", "focus": Focus.OTHER, "agenda": "", "version": "1"}

    response = coach_client.post(
        reverse("session_edit", args=[session.public_id]),
        {**form, "held_on": "2020-01-01", "summary": "Fixed a typo"},
    )

    assert response.status_code == 302
    session.refresh_from_db()
    assert session.summary == "Fixed a typo"
