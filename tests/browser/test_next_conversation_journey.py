"""Issue 17, the next conversation: during the week Sam and Alex add talking points to
their next session (Sam keeps one to himself), Alex is told and reads his notifications,
they hold the session, and what they did not get to is waiting on the next one with the
open action items; then each searches their history. In Chromium, on a phone and a
desktop, with JavaScript on and off. (Scheduling the series and subscribing to the
calendar feed: tests/browser/test_scheduling_journey.py.)"""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, expect

from tests.browser.test_journeys import (
    DESKTOP,
    PHONE,
    _open_nav,
    _person,
    _sign_in,
    alex_and_sam,
)
from tests.factories import (
    TEST_PASSWORD,
    ActionItemFactory,
    RelationshipFactory,
    ScheduledSessionFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _add_point(person, words: str, *, private: bool = False) -> None:
    page = person.page
    page.get_by_label("Talking point").fill(words)
    if private:
        page.get_by_label("Private — a reminder only you see").check()
    page.get_by_role("button", name="Add to the agenda").click()
    agenda = page.get_by_role("region", name="Agenda")
    expect(agenda.get_by_role("listitem").filter(has_text=words)).to_be_visible()


def _point(page, words: str):
    agenda = page.get_by_role("region", name="Agenda")
    return agenda.get_by_role("listitem").filter(has_text=words)


def _search(person, words: str):
    page = person.page
    _open_nav(person, "Search")
    page.get_by_label("Search your notes").fill(words)
    page.get_by_role("button", name="Search", exact=True).click()
    results = page.locator("#results")
    expect(results.get_by_role("heading")).not_to_have_text("")
    assert page.url.endswith("/search/"), "the query never goes into the address"
    return results


@pytest.mark.parametrize(
    ("javascript", "viewport"), [(True, PHONE), (False, PHONE), (True, DESKTOP)]
)
def test_both_prepare_the_next_session_hold_it_and_find_what_carried_over(
    browser: Browser, live_server, javascript, viewport
):
    organisation, alex, sam = alex_and_sam()
    # Begun a week ago: a session that started ten minutes ago must not predate it (at
    # ten past midnight it did, and its log was refused as before the relationship began).
    relationship = RelationshipFactory(
        organisation=organisation,
        coach=alex,
        coachee=sam,
        accepted_at=timezone.now() - timedelta(days=7),
    )
    # A weekly series whose session has just begun.
    ScheduledSessionFactory(
        relationship=relationship,
        starts_at=timezone.now() - timedelta(minutes=10),
        cadence="weekly",
        series="5f0c6a3e-0000-4000-8000-0000000000b1",
    )
    ActionItemFactory(
        relationship=relationship,
        owner="coachee",
        text="Draft the onboarding plan",
        due_on=timezone.localdate() + timedelta(days=5),
    )

    # Sam adds a shared point and a private reminder, and puts the reminder first.
    sam_sees = _person(browser, "sam-agenda", javascript, viewport)
    page = sam_sees.page
    _sign_in(sam_sees, live_server.url, sam.email, TEST_PASSWORD)
    upcoming = page.get_by_role("region", name="Your next sessions")
    upcoming.get_by_role("link").first.click()
    _add_point(sam_sees, "Ask about the conference budget")
    _add_point(sam_sees, "Stay calm about the reorg", private=True)
    _point(page, "Stay calm about the reorg").get_by_role("button", name="Move up").click()
    agenda = page.get_by_role("region", name="Agenda")
    expect(agenda.get_by_role("listitem").first).to_contain_text("Stay calm about the reorg")
    expect(agenda).to_contain_text("Draft the onboarding plan")
    sam_sees.look("agenda-sam")
    assert not sam_sees.problems, "\n".join(sam_sees.problems)

    # Alex is told, opens it, adds his own point and they talk it through.
    alex_sees = _person(browser, "alex-agenda", javascript, viewport)
    page = alex_sees.page
    _sign_in(alex_sees, live_server.url, alex.email, TEST_PASSWORD)
    _open_nav(alex_sees, "Notifications")
    told = page.get_by_role("link", name="Sam Lee added a talking point for your session on")
    alex_sees.look("notifications")
    told.click()
    agenda = page.get_by_role("region", name="Agenda")
    expect(agenda).to_contain_text("Ask about the conference budget")
    expect(agenda).not_to_contain_text("reorg")
    _add_point(alex_sees, "How the launch went")
    _point(page, "How the launch went").get_by_role("button", name="Discussed").click()
    expect(
        _point(page, "How the launch went").get_by_role("button", name="Not discussed yet")
    ).to_be_visible()
    alex_sees.look("agenda-alex")

    # They hold it: the log's agenda starts from the shared points.
    page.get_by_role("link", name="Log this session").click()
    agenda_field = page.get_by_label("Agenda")
    expect(agenda_field).to_have_value("- Ask about the conference budget\n- How the launch went")
    page.get_by_role("button", name="Log session").click()
    expect(page.get_by_text("Session logged.")).to_be_visible()

    # The next session of the series has what they did not get to, first.
    page.goto(f"{live_server.url}/relationships/{relationship.public_id}/")
    page.locator("main a[href*='/scheduled/']").first.click()
    agenda = page.get_by_role("region", name="Agenda")
    expect(agenda.get_by_role("listitem").first).to_contain_text("Ask about the conference budget")
    expect(agenda).to_contain_text("carried from")
    expect(agenda).not_to_contain_text("How the launch went")
    expect(agenda).to_contain_text("Draft the onboarding plan")
    alex_sees.look("next-agenda-alex")
    assert not alex_sees.problems, "\n".join(alex_sees.problems)

    # Sam's private reminder carried for him alone; his history is searchable.
    page = sam_sees.page
    page.reload()
    page.goto(f"{live_server.url}/")
    page.get_by_role("region", name="Your next sessions").get_by_role("link").first.click()
    agenda = page.get_by_role("region", name="Agenda")
    expect(agenda).to_contain_text("Stay calm about the reorg")
    expect(agenda).to_contain_text("carried from")
    results = _search(sam_sees, "reorg")
    expect(results).to_contain_text("Talking point")
    expect(results).to_contain_text("Private — only you")
    sam_sees.look("search-sam")
    assert not sam_sees.problems, "\n".join(sam_sees.problems)

    results = _search(alex_sees, "reorg")
    expect(results).to_contain_text("Nothing found")
    results = _search(alex_sees, "conference")
    expect(results).to_contain_text("Shared with you")
    assert not alex_sees.problems, "\n".join(alex_sees.problems)
