"""Scheduled sessions as iCalendar (RFC 5545), for the download of one session.

A calendar is read by assistants, phones and servers Rapport cannot vouch for, so an
event carries only when the session is, for how long, the other person's name and a link
back: never an agenda, a note, a talking point or the session's focus."""

from datetime import datetime
from zoneinfo import ZoneInfo

from django.utils import timezone
from icalendar import Calendar, Event

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
