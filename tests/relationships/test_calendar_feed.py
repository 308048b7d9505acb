"""The private calendar feed (issue 17): an unguessable, regenerable address per person,
with every upcoming session in valid iCalendar (time zones and series included), and
nothing anyone typed in Rapport."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
import time_machine
from dateutil.rrule import rrulestr
from django.test import Client
from django.urls import reverse

from accounts.services import calendar_feed_set
from relationships.calendar import feed_token
from relationships.models import ScheduledSession
from relationships.services import _next_slot
from tests.factories import (
    NoteFactory,
    RelationshipFactory,
    ScheduledSessionFactory,
    SessionFactory,
)
from tests.helpers import text

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
LONDON = ZoneInfo("Europe/London")


def _feed_url(user):
    return reverse("calendar_feed", args=[user.public_id, feed_token(user)])


def _read(url):
    response = Client().get(url)  # a calendar app: not signed in
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    return icalendar.Calendar.from_ical(response.content), response.content.decode()


@pytest.mark.travel(NOW)
def test_the_profile_turns_the_feed_on_and_lists_its_address(coach_client, coach):
    page = text(coach_client.get(reverse("profile")))
    assert "Turn the calendar feed on" in page

    coach_client.post(reverse("calendar_feed_settings"), {"feed": "on"})

    coach.refresh_from_db()
    html = coach_client.get(reverse("profile")).content.decode()
    assert f'value="http://testserver{_feed_url(coach)}"' in html


@pytest.mark.travel(NOW)
def test_the_feed_has_every_upcoming_session_and_no_text(relationship):
    coach = relationship.coach
    calendar_feed_set(user=coach, on=True)
    SessionFactory(relationship=relationship, agenda="Agenda canary", summary="Summary canary")
    NoteFactory(relationship=relationship, body="Note canary")
    once = ScheduledSessionFactory(relationship=relationship, time_zone="Europe/London")
    series = ScheduledSessionFactory(
        relationship=relationship,
        starts_at=datetime(2026, 12, 2, 15, 0, tzinfo=UTC),
        time_zone="Europe/London",
        cadence="fortnightly",
        series="5f0c6a3e-0000-4000-8000-0000000000f1",
    )
    ScheduledSessionFactory(relationship=relationship, status="cancelled")
    ScheduledSessionFactory(relationship=relationship, starts_at=NOW - timedelta(days=3))
    ScheduledSessionFactory(relationship=RelationshipFactory())  # another pair's

    calendar, body = _read(_feed_url(coach))

    events = {str(e["UID"]): e for e in calendar.walk("VEVENT")}
    assert set(events) == {f"{once.public_id}@rapport", f"{series.series}@rapport"}
    repeating = events[f"{series.series}@rapport"]
    assert repeating.decoded("DTSTART") == datetime(2026, 12, 2, 15, 0, tzinfo=LONDON)
    assert repeating["RRULE"].to_ical() == b"FREQ=WEEKLY;INTERVAL=2"
    assert [z["TZID"] for z in calendar.walk("VTIMEZONE")] == ["Europe/London"]
    assert str(repeating["SUMMARY"]) == f"Coaching session with {relationship.coachee.name}"
    for secret in ("Agenda canary", "Summary canary", "Note canary", "master_the_moment"):
        assert secret not in body


@pytest.mark.travel(NOW)
def test_a_moved_session_of_a_series_is_the_series_exception(relationship):
    calendar_feed_set(user=relationship.coachee, on=True)
    slot = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)
    ScheduledSessionFactory(
        relationship=relationship,
        starts_at=slot + timedelta(hours=4),
        slot_starts_at=slot,
        time_zone="Europe/London",
        cadence="weekly",
        series="5f0c6a3e-0000-4000-8000-0000000000f2",
        version=2,
    )

    calendar, _body = _read(_feed_url(relationship.coachee))

    master, moved = calendar.walk("VEVENT")
    assert master["UID"] == moved["UID"]
    assert moved.decoded("RECURRENCE-ID") == master.decoded("DTSTART") == slot
    assert moved.decoded("DTSTART") == slot + timedelta(hours=4)
    assert int(moved["SEQUENCE"]) == 1
    assert str(moved["SUMMARY"]) == f"Coaching session with {relationship.coach.name}"


@pytest.mark.parametrize(
    ("cadence", "first"),
    [
        ("weekly", datetime(2027, 3, 18, 10, 0, tzinfo=LONDON)),  # across the clock change
        ("fortnightly", datetime(2027, 10, 21, 9, 30, tzinfo=LONDON)),
        ("monthly", datetime(2027, 1, 31, 9, 0, tzinfo=LONDON)),  # 28 Feb, 31 Mar, 30 Apr
        ("monthly", datetime(2027, 1, 30, 9, 0, tzinfo=LONDON)),
    ],
)
def test_a_series_rule_expands_to_the_sessions_the_series_makes(relationship, cadence, first):
    """What a calendar app computes from the feed's rule is what Rapport schedules."""
    calendar_feed_set(user=relationship.coach, on=True)
    with time_machine.travel(first - timedelta(days=1), tick=False):
        scheduled = ScheduledSessionFactory(
            relationship=relationship,
            starts_at=first,
            time_zone="Europe/London",
            cadence=cadence,
            series="5f0c6a3e-0000-4000-8000-0000000000f3",
        )
        calendar, _body = _read(_feed_url(relationship.coach))

    (event,) = calendar.walk("VEVENT")
    rule = rrulestr(event["RRULE"].to_ical().decode(), dtstart=event.decoded("DTSTART"))
    from_calendar = [moment.astimezone(UTC) for moment in rule[:4]]
    from_rapport = [scheduled.slot_starts_at]
    for _ in range(3):
        from_rapport.append(_next_slot(scheduled, from_rapport[-1]))
    assert from_calendar == from_rapport


@pytest.mark.travel(NOW)
def test_a_new_address_or_turning_it_off_closes_the_old_one(coach_client, relationship):
    coach = relationship.coach
    calendar_feed_set(user=coach, on=True)
    old = _feed_url(coach)
    assert Client().get(old).status_code == 200

    coach_client.post(reverse("calendar_feed_settings"), {"feed": "on"})
    coach.refresh_from_db()
    new = _feed_url(coach)
    assert Client().get(old).status_code == 404
    assert Client().get(new).status_code == 200

    coach_client.post(reverse("calendar_feed_settings"), {"feed": "off"})
    coach.refresh_from_db()
    assert Client().get(new).status_code == 404
    assert Client().get(_feed_url(coach)).status_code == 404, "no feed while it is off"


@pytest.mark.travel(NOW)
def test_attack_a_guessed_or_borrowed_token_opens_nothing(relationship, other_coach):
    coach = relationship.coach
    calendar_feed_set(user=coach, on=True)
    calendar_feed_set(user=other_coach, on=True)
    mine = feed_token(coach)

    for person, token in (
        (coach.public_id, "0" * 40),
        (coach.public_id, mine[:-1]),
        (other_coach.public_id, mine),  # my token with someone else's id
    ):
        url = reverse("calendar_feed", args=[person, token])
        assert Client().get(url).status_code == 404
    coach.is_active = False
    coach.save()
    assert Client().get(_feed_url(coach)).status_code == 404


def test_an_unknown_feed_choice_is_explained(coach_client):
    response = coach_client.post(reverse("calendar_feed_settings"), {"feed": "maybe"}, follow=True)

    assert "Choose whether to turn the calendar feed on or off." in text(response)
    assert not ScheduledSession.objects.exists()
