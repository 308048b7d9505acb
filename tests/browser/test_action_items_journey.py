"""Issue 17, action items everywhere: Sam finds what he owes across his relationships,
moves a due date, and ticks an item off; Alex sees the change on their relationship page.
In Chromium, on a phone and a desktop, with JavaScript on and off."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, expect

from tests.browser.test_journeys import DESKTOP, PHONE, _open_nav, _person, _sign_in, alex_and_sam
from tests.factories import TEST_PASSWORD, ActionItemFactory, RelationshipFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize(
    ("javascript", "viewport"), [(True, PHONE), (False, PHONE), (True, DESKTOP)]
)
def test_sam_moves_a_due_date_and_ticks_an_item_off(
    browser: Browser, live_server, javascript, viewport
):
    organisation, alex, sam = alex_and_sam()
    relationship = RelationshipFactory(organisation=organisation, coach=alex, coachee=sam)
    today = timezone.localdate()
    ActionItemFactory(
        relationship=relationship, owner="coachee", text="Draft my goals", due_on=today
    )
    ActionItemFactory(relationship=relationship, owner="coachee", text="Read the book")
    ActionItemFactory(relationship=relationship, owner="coach", text="Alex's own item")
    new_due = today + timedelta(days=10)
    sam_sees = _person(browser, "sam-actions", javascript, viewport)
    page = sam_sees.page

    _sign_in(sam_sees, live_server.url, sam.email, TEST_PASSWORD)
    _open_nav(sam_sees, "Action items")
    expect(page.get_by_role("heading", name="My action items")).to_be_visible()
    expect(page.get_by_text("Alex's own item")).to_have_count(0)
    sam_sees.look("my-action-items")

    page.get_by_role("listitem").filter(has_text="Draft my goals").get_by_role(
        "link", name="Edit"
    ).click()
    expect(page.get_by_role("heading", name="Edit an action item")).to_be_visible()
    sam_sees.look("edit-action-item")
    page.get_by_label("Due").fill(new_due.isoformat())
    page.get_by_role("button", name="Save").click()

    expect(page.get_by_text("Action item saved.")).to_be_visible()
    moved = f"moved the due date to {new_due.day} {new_due:%b}"
    expect(page.get_by_text(f"You {moved}")).to_be_visible()
    page.get_by_role("listitem").filter(has_text="Read the book").get_by_role(
        "button", name="Mark done"
    ).click()
    expect(page.get_by_text("Marked done.")).to_be_visible()
    expect(page.get_by_text("Read the book")).to_have_count(0)
    sam_sees.look("after-done")
    assert not sam_sees.problems, "\n".join(sam_sees.problems)

    alex_sees = _person(browser, "alex-actions", javascript, viewport)
    _sign_in(alex_sees, live_server.url, alex.email, TEST_PASSWORD)
    alex_sees.page.goto(f"{live_server.url}/relationships/{relationship.public_id}/")
    expect(alex_sees.page.get_by_text(f"Sam Lee {moved}")).to_be_visible()
    assert not alex_sees.problems, "\n".join(alex_sees.problems)
