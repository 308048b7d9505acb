"""Issue 17, scheduling: Alex schedules a weekly series with Sam and moves one session;
Sam sees the next session first on his home page and takes it into his calendar. In
Chromium, on a phone and a desktop, with JavaScript on and off."""

from datetime import timedelta
from pathlib import Path

import icalendar
import pytest
from django.utils import timezone
from django.utils.dateformat import format as format_date
from playwright.sync_api import Browser, expect

from tests.browser.test_journeys import (
    DESKTOP,
    PHONE,
    _open_nav,
    _person,
    _sign_in,
    alex_and_sam,
)
from tests.factories import TEST_PASSWORD, RelationshipFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize(
    ("javascript", "viewport"), [(True, PHONE), (False, PHONE), (True, DESKTOP)]
)
def test_alex_schedules_a_series_moves_one_and_sam_takes_it_into_his_calendar(
    browser: Browser, live_server, javascript, viewport
):
    organisation, alex, sam = alex_and_sam()
    relationship = RelationshipFactory(organisation=organisation, coach=alex, coachee=sam)
    day = timezone.localdate() + timedelta(days=3)
    moved = day + timedelta(days=1)
    alex_sees = _person(browser, "alex-schedule", javascript, viewport)
    page = alex_sees.page

    _sign_in(alex_sees, live_server.url, alex.email, TEST_PASSWORD)
    page.goto(f"{live_server.url}/relationships/{relationship.public_id}/")
    expect(page.get_by_text("Nothing scheduled yet.")).to_be_visible()
    page.get_by_role("link", name="Schedule a session").click()
    alex_sees.look("schedule-form")
    page.get_by_label("Date").fill(day.isoformat())
    page.get_by_label("Start time").fill("10:00")
    page.get_by_label("Repeats").select_option("weekly")
    page.get_by_role("button", name="Schedule").click()

    expect(page.get_by_text("Session scheduled. Sam Lee will get an email.")).to_be_visible()
    alex_sees.look("scheduled-session")
    page.get_by_label("Date").fill(moved.isoformat())
    page.get_by_label("Start time").fill("14:30")
    page.get_by_role("button", name="Move it").click()
    expect(page.get_by_text("Session moved.")).to_be_visible()
    when = f"{format_date(moved, 'l j F')}, 14:30"
    page.goto(f"{live_server.url}/relationships/{relationship.public_id}/")
    expect(page.get_by_role("link", name=when)).to_be_visible()
    assert not alex_sees.problems, "\n".join(alex_sees.problems)

    sam_sees = _person(browser, "sam-schedule", javascript, viewport)
    _sign_in(sam_sees, live_server.url, sam.email, TEST_PASSWORD)
    upcoming = sam_sees.page.get_by_role("region", name="Your next sessions")
    expect(upcoming.get_by_role("link", name=when)).to_be_visible()
    upcoming.get_by_role("link", name=when).click()
    with sam_sees.page.expect_download() as download:
        sam_sees.page.get_by_role("link", name="Add to my calendar (.ics)").click()
    calendar = icalendar.Calendar.from_ical(Path(download.value.path()).read_bytes())
    (event,) = calendar.walk("VEVENT")
    assert event.decoded("DTSTART").date() == moved
    assert str(event["SUMMARY"]) == "Coaching session with Alex Coach"
    # Sam may not move it: Alex schedules their sessions.
    expect(sam_sees.page.get_by_role("button", name="Move it")).to_have_count(0)
    sam_sees.look("sams-view")

    # Sam subscribes to his private feed: the series, from a client that is not signed in.
    _open_nav(sam_sees, "Account")
    sam_sees.page.get_by_role("button", name="Turn the calendar feed on").click()
    address = sam_sees.page.get_by_label("Your private address").input_value()
    sam_sees.look("calendar-feed")
    calendar_app = browser.new_context()
    feed = icalendar.Calendar.from_ical(calendar_app.request.get(address).body())
    calendar_app.close()
    # The weekly series, and the session Alex moved as its exception.
    series, moved_one = feed.walk("VEVENT")
    assert series["RRULE"].to_ical() == b"FREQ=WEEKLY;INTERVAL=1"
    assert moved_one.decoded("DTSTART").date() == moved and "RECURRENCE-ID" in moved_one
    assert str(series["SUMMARY"]) == "Coaching session with Alex Coach"
    assert not sam_sees.problems, "\n".join(sam_sees.problems)
