"""A coach and a coachee in two real browsers: invitation, consent, a first session
with a private and a shared note and an action item, and what each of them sees."""

import pytest
from playwright.sync_api import Browser, Page, expect

from relationships.models import ActionItem, Note
from tests.browser.test_signup_journey import _shot
from tests.factories import TEST_PASSWORD, MembershipFactory, OrganisationFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _sign_in(page: Page, base_url: str, email: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("heading", name="Hello,")).to_be_visible()


def test_coach_and_coachee_build_a_first_session(browser: Browser, live_server):
    organisation = OrganisationFactory(name="Acme Coaching")
    coach = MembershipFactory(
        organisation=organisation, user__display_name="Alex Coach", user__email="alex@example.com"
    ).user
    coachee = MembershipFactory(
        organisation=organisation, user__display_name="Sam Lee", user__email="sam@example.com"
    ).user
    coach_page = browser.new_context().new_page()
    coachee_page = browser.new_context().new_page()

    # The coach invites Sam.
    _sign_in(coach_page, live_server.url, coach.email)
    coach_page.get_by_role("link", name="Relationships").click()
    coach_page.get_by_role("link", name="Invite a coachee").click()
    coach_page.get_by_label("Colleague").select_option(label="Sam Lee")
    coach_page.get_by_label("Why are we sitting down together?").fill(
        "Help Sam grow into leading the platform team."
    )
    coach_page.get_by_role("button", name="Send invitation").click()
    expect(coach_page.get_by_text("Waiting for Sam Lee to accept.")).to_be_visible()

    # Sam accepts.
    _sign_in(coachee_page, live_server.url, coachee.email)
    coachee_page.get_by_role("link", name="Relationships").click()
    coachee_page.get_by_role("link", name="Read and answer").click()
    expect(
        coachee_page.get_by_text("Help Sam grow into leading the platform team.")
    ).to_be_visible()
    coachee_page.get_by_role("button", name="Accept").click()
    expect(coachee_page.get_by_text("You're now working with Alex Coach.")).to_be_visible()

    # The coach logs a "recast the past" session with its prompts.
    coach_page.reload()
    coach_page.get_by_role("link", name="Log a session").first.click()
    expect(coach_page.get_by_label("Focus")).to_have_value("recast_the_past")
    expect(coach_page.get_by_label("Agenda")).to_have_value(
        "- Why are we sitting down together?\n"
        "- What kind of relationship do we have now?\n"
        "- What kind of relationship do we want?"
    )
    expect(coach_page.get_by_text("How might they see me now?")).to_be_visible()
    coach_page.get_by_label("Shared summary").fill("We agreed to meet every two weeks.")
    coach_page.get_by_role("button", name="Log session").click()
    expect(coach_page.get_by_role("heading", name="Session on")).to_be_visible()

    # A private note, a shared note (each saved in place by htmx) and an action item.
    notes = coach_page.locator("#notes")
    coach_page.get_by_role("textbox", name="Note").fill(
        "Sam seemed wary of me; remember last year's reorg."
    )
    coach_page.get_by_role("button", name="Save note").click()
    private = notes.locator("article", has_text="remember last year's reorg")
    expect(private.get_by_text("Private — only you", exact=True)).to_be_visible()
    coach_page.get_by_role("textbox", name="Note").fill("Thanks for being open today.")
    coach_page.get_by_label("Shared — you and Sam Lee can read it").check()
    coach_page.get_by_role("button", name="Save note").click()
    shared = notes.locator("article", has_text="Thanks for being open today.")
    expect(shared.get_by_text("Shared with Sam Lee", exact=True)).to_be_visible()
    coach_page.get_by_label("What will be done").fill("Write down what I want from coaching")
    coach_page.get_by_label("Who owns it").select_option(label="Sam Lee (coachee)")
    coach_page.get_by_role("button", name="Add", exact=True).click()
    expect(
        coach_page.locator("#actions").get_by_text(
            "Write down what I want from coaching", exact=True
        )
    ).to_be_visible()
    _shot(coach_page, "10-coach-session")
    private_note = Note.objects.get(visibility="private")

    # Sam sees the shared note and the action item, not the private note.
    session_url = coach_page.url
    coachee_page.goto(session_url)
    expect(coachee_page.get_by_text("Thanks for being open today.")).to_be_visible()
    expect(
        coachee_page.get_by_text("Write down what I want from coaching", exact=True)
    ).to_be_visible()
    expect(coachee_page.get_by_text("remember last year's reorg")).to_have_count(0)
    response = coachee_page.goto(f"{live_server.url}/notes/{private_note.public_id}/edit/")
    assert response.status == 404
    expect(coachee_page.get_by_role("heading", name="We can't find that page")).to_be_visible()

    # Sam ticks the item off without a page reload.
    coachee_page.goto(session_url)
    coachee_page.evaluate("window.__notReloaded = true")
    coachee_page.get_by_role("button", name="Mark done").click()
    expect(coachee_page.get_by_text("Done (1)")).to_be_visible()
    assert coachee_page.evaluate("window.__notReloaded") is True
    _shot(coachee_page, "11-coachee-session")
    assert ActionItem.objects.get().done_at is not None
