"""Passkeys in real Chromium, with its virtual authenticator (through a CDP session) in
place of a fingerprint: a person adds one on their profile and signs in with it alone,
and for an HR admin it is the second factor the organisation page asks for."""

import pytest
from allauth.mfa.models import Authenticator
from playwright.sync_api import Browser, Page, expect

from tests.browser.test_signup_journey import _shot
from tests.factories import TEST_PASSWORD, HRAdminMembershipFactory, MembershipFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _with_virtual_authenticator(page: Page) -> dict:
    """A platform authenticator that holds passkeys and says the person was verified,
    as Touch ID or Windows Hello would. Returns what the test needs to read it back."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    added = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    return {"cdp": cdp, "id": added["authenticatorId"]}


def _sign_in_with_password(page: Page, base_url: str, email: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()


def _confirm_password(page: Page) -> None:
    # allauth asks for the password again before a new way to sign in is added.
    expect(page.get_by_role("heading", name="Confirm Access")).to_be_visible()
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Confirm").click()


def _add_passkey(page: Page, base_url: str, name: str) -> None:
    page.goto(f"{base_url}/profile/")
    page.get_by_role("link", name="Add a passkey").click()
    _confirm_password(page)
    expect(page.get_by_role("heading", name="Add a passkey")).to_be_visible()
    page.get_by_label("Name").fill(name)
    expect(page.get_by_label("Use it to sign in without a password")).to_be_checked()
    page.get_by_role("button", name="Add the passkey").click()


def test_a_member_adds_a_passkey_and_signs_in_with_it_alone(browser: Browser, live_server):
    person = MembershipFactory(user__email="pat@example.com", user__display_name="Pat").user
    page = browser.new_context().new_page()
    authenticator = _with_virtual_authenticator(page)

    _sign_in_with_password(page, live_server.url, person.email)
    _add_passkey(page, live_server.url, "Work laptop")
    # The first second factor comes with recovery codes, as allauth shows them.
    expect(page.get_by_role("heading", name="Recovery Codes")).to_be_visible()
    passkey = Authenticator.objects.get(user=person, type=Authenticator.Type.WEBAUTHN)
    assert passkey.wrap().name == "Work laptop"
    assert passkey.wrap().is_passwordless
    # The browser's authenticator holds it, as a passkey (a resident credential).
    (credential,) = authenticator["cdp"].send(
        "WebAuthn.getCredentials", {"authenticatorId": authenticator["id"]}
    )["credentials"]
    assert credential["isResidentCredential"]

    page.goto(f"{live_server.url}/profile/")
    expect(page.get_by_text("You have 1 passkey.")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()

    # No email, no password: the passkey says who they are.
    page.goto(f"{live_server.url}/accounts/login/")
    _shot(page, "60-sign-in-with-passkey")
    page.get_by_role("button", name="Sign in with a passkey").click()
    expect(page.get_by_role("heading", name="Hello, Pat")).to_be_visible()
    # The authenticator was really asked: its signature counter moved.
    (used,) = authenticator["cdp"].send(
        "WebAuthn.getCredentials", {"authenticatorId": authenticator["id"]}
    )["credentials"]
    assert used["signCount"] > credential["signCount"]


def test_a_passkey_is_the_second_factor_an_hr_admin_needs(browser: Browser, live_server):
    hr = HRAdminMembershipFactory(mfa=False, user__email="hana@example.com").user
    page = browser.new_context().new_page()
    _with_virtual_authenticator(page)

    _sign_in_with_password(page, live_server.url, hr.email)
    page.goto(f"{live_server.url}/organisation/")
    # Sent to choose a second factor first.
    expect(page.get_by_role("heading", name="Two-factor authentication")).to_be_visible()
    expect(page.get_by_text("set up an authenticator app or a passkey")).to_be_visible()
    page.get_by_role("link", name="Add a passkey").click()
    _confirm_password(page)
    page.get_by_role("button", name="Add the passkey").click()
    expect(page.get_by_role("heading", name="Recovery Codes")).to_be_visible()

    page.goto(f"{live_server.url}/organisation/")
    expect(page.get_by_role("heading", name=hr.membership.organisation.name)).to_be_visible()

    # Next time, the password alone is not enough: the passkey is asked for too.
    page.get_by_role("button", name="Sign out").click()
    _sign_in_with_password(page, live_server.url, hr.email)
    expect(page.get_by_role("heading", name="Two-Factor Authentication")).to_be_visible()
    page.get_by_role("button", name="Use a security key").click()
    expect(page.get_by_role("heading", name="Hello,")).to_be_visible()
