"""A new HR admin's first minutes, in real Chromium: sign up, verify the email,
sign in, see the home page, invite a colleague."""

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from accounts.models import Invitation
from tests.helpers import links_in_last_email, path_of, totp_code

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
PASSWORD = "correct-horse-battery-9"


def _shot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)


def test_sign_up_verify_sign_in_and_invite(page: Page, live_server, mailoutbox):
    csp_violations = []

    def record_csp_violation(message):
        if "Content Security Policy" in message.text:
            csp_violations.append(message.text)

    page.on("console", record_csp_violation)

    page.goto(f"{live_server.url}/accounts/signup/")
    page.get_by_label("Your name").fill("Fern Founder")
    page.get_by_label("Email").fill("fern@example.com")
    page.get_by_label("Organisation name").fill("Fern & Co")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password (again)").fill(PASSWORD)
    _shot(page, "01-signup")
    page.get_by_role("button", name="Create account").click()

    expect(page.get_by_role("heading", name="Verify Your Email Address")).to_be_visible()
    page.goto(live_server.url + path_of(links_in_last_email("fern@example.com")[0]))
    page.get_by_role("button", name="Confirm").click()

    # Confirming signs them in; sign out and back in, as they would tomorrow.
    expect(page.get_by_role("heading", name="Hello, Fern Founder")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    page.get_by_label("Email").fill("fern@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()

    expect(page.get_by_role("heading", name="Hello, Fern Founder")).to_be_visible()
    expect(page.get_by_text("Fern & Co · HR admin")).to_be_visible()
    _shot(page, "02-home")

    # The organisation page is for HR admins with two-factor authentication: set it up.
    page.get_by_role("link", name="Invite your colleagues").click()
    page.get_by_role("link", name="Set up an authenticator app").click()
    page.get_by_label("Password").fill(PASSWORD)  # allauth confirms it is really them
    page.get_by_role("button", name="Confirm").click()
    secret = page.locator("#authenticator_secret").input_value()
    page.get_by_label("Authenticator code").fill(totp_code(secret))
    page.get_by_role("button", name="Activate").click()
    expect(page.get_by_role("heading", name="Recovery Codes")).to_be_visible()
    page.get_by_role("link", name="Organisation").click()
    page.get_by_label("Email address").fill("ivy@example.com")
    page.get_by_role("button", name="Send invitation").click()

    # htmx swaps the invitations region in place and announces the result.
    # In the page itself, not the screen reader's hidden copy of the message.
    expect(page.locator("main").get_by_text("Invitation sent to ivy@example.com.")).to_be_visible()
    expect(page.get_by_role("cell", name="ivy@example.com", exact=True)).to_be_visible()
    _shot(page, "03-invited")
    assert Invitation.objects.get().email == "ivy@example.com"
    assert links_in_last_email("ivy@example.com")
    assert csp_violations == []
