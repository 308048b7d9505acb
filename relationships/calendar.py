"""Scheduled sessions as iCalendar (RFC 5545): the download of one session, and each
person's private calendar feed.

A calendar is read by assistants, phones and servers Rapport cannot vouch for, so an
event carries only when the session is, for how long, the other person's name and a link
back: never an agenda, a note, a talking point or the session's focus."""

from datetime import datetime
from functools import partial
from zoneinfo import ZoneInfo

from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from icalendar import Calendar, Event, vRecur

from relationships.models import ScheduledSession

PRODUCT = "-//Rapport//Coaching sessions//EN"


def session_event(scheduled: ScheduledSession, *, other_name: str, url: str, now: datetime):
    """One session as a VEVENT, on the clocks of the zone it was scheduled in."""
    zone = ZoneInfo(scheduled.time_zone)
    event = Event()
    event.add("uid", f"{scheduled.public_id}@rapport")
    event.add("dtstamp", now)
    event.add("dtstart", scheduled.starts_at.astimezone(zone))
    event.add("dtend", scheduled.ends_at.astimezone(zone))
    event.add("summary", f"Coaching session with {other_name}")
    event.add("url", url)
    event.add("description", f"In Rapport: {url}")
    # Moved or cancelled: a calendar keeps the event with the highest SEQUENCE.
    event.add("sequence", scheduled.version - 1)
    cancelled = scheduled.status == ScheduledSession.Status.CANCELLED
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    return event


def calendar_bytes(events) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", PRODUCT)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    for event in events:
        calendar.add_component(event)
    # Each TZID the events use, defined (VTIMEZONE) as RFC 5545 requires.
    calendar.add_missing_timezones()
    return calendar.to_ical()


def session_calendar(scheduled: ScheduledSession, *, other_name: str, url: str) -> bytes:
    return calendar_bytes(
        [session_event(scheduled, other_name=other_name, url=url, now=timezone.now())]
    )


# A series' rule, as the series makes its sessions (relationships.services._next_slot):
# the same time of day in its zone, every week, two weeks or month, a month's 29th to
# 31st falling back to the month's last day when it has none.
_FREQUENCY = {
    ScheduledSession.Cadence.WEEKLY: ("WEEKLY", 1),
    ScheduledSession.Cadence.FORTNIGHTLY: ("WEEKLY", 2),
    ScheduledSession.Cadence.MONTHLY: ("MONTHLY", 1),
}


def _rule(scheduled: ScheduledSession) -> vRecur:
    frequency, interval = _FREQUENCY[scheduled.cadence]
    rule = {"FREQ": frequency, "INTERVAL": interval}
    day = scheduled.day_of_month or 0
    if frequency == "MONTHLY" and day > 28:
        rule |= {"BYMONTHDAY": list(range(28, day + 1)), "BYSETPOS": -1}
    return vRecur(rule)


def feed_events(upcoming, *, name_of, url_of, now: datetime) -> list:
    """Each upcoming session as an event; a series' next session as the series' event,
    repeating by its rule from that session's slot, with the session itself as an
    exception (RECURRENCE-ID) when it was moved off its slot. `name_of(scheduled)` is the
    other person's name; `url_of(scheduled)` its page."""
    events = []
    for scheduled in upcoming:
        event = partial(
            session_event, scheduled, other_name=name_of(scheduled), url=url_of(scheduled), now=now
        )
        if scheduled.series is None:
            events.append(event())
            continue
        slot = scheduled.slot_starts_at.astimezone(ZoneInfo(scheduled.time_zone))
        series = event()
        series["UID"] = f"{scheduled.series}@rapport"
        del series["DTSTART"], series["DTEND"]
        series.add("dtstart", slot)
        series.add("dtend", slot + (scheduled.ends_at - scheduled.starts_at))
        series.add("rrule", _rule(scheduled))
        events.append(series)
        if scheduled.starts_at != scheduled.slot_starts_at:
            moved = event()
            moved["UID"] = series["UID"]
            moved.add("recurrence-id", slot)
            events.append(moved)
    return events


def feed_token(user) -> str:
    """The secret part of the person's feed address: an HMAC (keyed by SECRET_KEY) of
    their public id and feed key, so the database alone cannot give the address away."""
    message = f"{user.public_id}:{user.calendar_feed_key}"
    return salted_hmac("rapport.calendar-feed", message, algorithm="sha256").hexdigest()[:40]


def feed_opens(user, token: str) -> bool:
    """Whether `token` is this person's current feed address (never when it is off)."""
    return bool(user.calendar_feed_key) and constant_time_compare(feed_token(user), token)
