"""Company sign-in in real Chromium against a real OpenID Connect provider (django-oauth-
toolkit in a process of its own, tests/partners/oidc_provider): an HR admin connects it
on the organisation's pages, a colleague signs in through it for the first time and lands
in the organisation, and the organisation becomes SSO-only."""

import secrets

import pytest
import requests
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import generate_totp_secret
from playwright.sync_api import Browser, Page, expect

from accounts.models import AuditEvent, Membership, User
from sso.models import SingleSignOn
from tests.browser.test_passkey_journey import _sign_in_with_password
from tests.browser.test_signup_journey import _shot
from tests.factories import (
    HRAdminMembershipFactory,
    MembershipFactory,
    OrganisationFactory,
)
from tests.helpers import totp_code
from tests.partners.oidc import PASSWORD as IDP_PASSWORD
from tests.partners.saml_idp import PASSWORD as SAML_PASSWORD
from tests.partners.simplesamlphp import PASSWORD as SSP_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _acme():
    acme = OrganisationFactory(name="Acme", email_domains="acme.test")
    hana = HRAdminMembershipFactory(organisation=acme, mfa=False, user__email="hana@acme.test")
    secret = generate_totp_secret()
    Authenticator.objects.create(
        user=hana.user, type=Authenticator.Type.TOTP, data={"secret": secret}
    )
    return acme, hana, secret


def _hr_at_company_sign_in(browser: Browser, live_server, hr_user, secret: str) -> Page:
    """HR signs in (password and authenticator code) and goes from the organisation
    page to company sign-in."""
    hr = browser.new_context().new_page()
    _sign_in_with_password(hr, live_server.url, hr_user.email)
    hr.get_by_label("Code").fill(totp_code(secret))
    hr.get_by_role("button", name="Sign In").click()
    hr.goto(f"{live_server.url}/organisation/")
    hr.get_by_role("link", name="Company sign-in").click()
    expect(hr.get_by_role("heading", name="Company sign-in", exact=True)).to_be_visible()
    expect(hr.get_by_text("Not connected")).to_be_visible()
    return hr


def _to_company_sign_in(page: Page, base_url: str, email: str) -> None:
    """From Rapport's sign-in page to the provider's, by the work email."""
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_role("link", name="Sign in with your company account").click()
    page.get_by_label("Work email").fill(email)
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_text("You are going to Acme's sign-in page")).to_be_visible()
    page.get_by_role("button", name="Continue").click()


def test_hr_connects_oidc_a_colleague_joins_and_sso_becomes_the_only_way_in(
    browser: Browser, live_server, oidc_provider
):
    acme, hana, secret = _acme()
    pat = MembershipFactory(organisation=acme, user__email="pat@acme.test").user

    hr = _hr_at_company_sign_in(browser, live_server, hana.user, secret)

    # At the provider's console, Rapport is registered with the redirect URI shown.
    redirect_uri = hr.get_by_label("Redirect URI").input_value()
    client_id, client_secret = "rapport-acme", secrets.token_urlsafe(24)
    oidc_provider.register_client(
        client_id=client_id, client_secret=client_secret, redirect_uri=redirect_uri
    )
    hr.get_by_label("Issuer URL").fill(oidc_provider.issuer)
    hr.get_by_label("Client ID").fill(client_id)
    hr.get_by_label("Client secret").fill(client_secret)
    hr.get_by_role("button", name="Connect with OpenID Connect").click()
    expect(hr.get_by_text("Company sign-in is connected")).to_be_visible()
    expect(
        hr.get_by_text(f"Connected over OpenID Connect to {oidc_provider.issuer}")
    ).to_be_visible()
    # The secret is never sent back to the browser.
    assert client_secret not in hr.content()
    assert hr.get_by_label("Client secret").input_value() == ""
    _shot(hr, "70-company-sign-in-settings")

    # A colleague with no Rapport account: work email, then the provider's pages.
    nia = browser.new_context().new_page()
    _to_company_sign_in(nia, live_server.url, "nia.new@acme.test")
    expect(nia.get_by_role("heading", name="Acme identity provider")).to_be_visible()
    nia.get_by_label("Username").fill("nia")
    nia.get_by_label("Password").fill(IDP_PASSWORD)
    nia.get_by_role("button", name="Log in to Acme").click()
    # The provider's consent page.
    expect(nia.get_by_text("Application requires the following permissions")).to_be_visible()
    nia.get_by_role("button", name="Authorize").click()
    # Back in Rapport, signed in, a member of Acme.
    expect(nia.get_by_role("heading", name="Hello, Nia New")).to_be_visible()
    expect(nia.get_by_text("Acme · Member")).to_be_visible()
    _shot(nia, "71-first-company-sign-in")
    newcomer = User.objects.get(email="nia.new@acme.test")
    assert Membership.objects.get(user=newcomer).organisation == acme

    # HR makes company sign-in the only way in.
    hr.get_by_role("button", name="Make company sign-in the only way in").click()
    expect(hr.get_by_text("Members now sign in only through company sign-in")).to_be_visible()
    expect(hr.get_by_text("Break-glass account: hana@acme.test")).to_be_visible()
    assert SingleSignOn.objects.get(organisation=acme).sso_only

    # Pat's password no longer works, and the page says where to go instead.
    member = browser.new_context().new_page()
    _sign_in_with_password(member, live_server.url, pat.email)
    expect(member.get_by_text("Acme signs in through company sign-in only")).to_be_visible()
    expect(member.get_by_role("heading", name="Hello,")).not_to_be_visible()
    _shot(member, "72-password-refused-sso-only")

    # Every change is in HR's audit log.
    hr.goto(f"{live_server.url}/organisation/audit/")
    expect(hr.get_by_text("connected company sign-in")).to_be_visible()
    expect(hr.get_by_text("made company sign-in the only way to sign in")).to_be_visible()
    expect(hr.get_by_text("Nia New joined through company sign-in")).to_be_visible()
    assert AuditEvent.objects.filter(action="account.company_signed_in", actor=newcomer).exists()


def test_hr_connects_saml_and_a_colleague_joins_through_it(
    browser: Browser, live_server, saml_provider
):
    acme, hana, secret = _acme()
    hr = _hr_at_company_sign_in(browser, live_server, hana.user, secret)

    hr.get_by_label("Metadata URL", exact=True).fill(saml_provider.metadata_url)
    hr.get_by_role("button", name="Connect with SAML").click()
    expect(hr.get_by_text("Company sign-in is connected")).to_be_visible()
    expect(hr.get_by_text("Connected over SAML 2.0")).to_be_visible()
    # The provider's administrator adds Rapport from the metadata address HR's page shows.
    rapport_metadata = hr.get_by_label("Rapport's metadata URL").input_value()
    saml_provider.register_service_provider(requests.get(rapport_metadata, timeout=10).text)
    _shot(hr, "73-company-sign-in-saml")

    nia = browser.new_context().new_page()
    _to_company_sign_in(nia, live_server.url, "nia.new@acme.test")
    expect(nia.get_by_role("heading", name="Acme SAML sign-in")).to_be_visible()
    nia.get_by_label("Username").fill("nia")
    nia.get_by_label("Password").fill(SAML_PASSWORD)
    nia.get_by_role("button", name="Sign in to Acme SAML").click()
    # The provider's page posts the signed assertion back to Rapport.
    nia.get_by_role("button", name="Continue to Rapport").click()
    expect(nia.get_by_role("heading", name="Hello, Nia New")).to_be_visible()
    expect(nia.get_by_text("Acme · Member")).to_be_visible()
    newcomer = User.objects.get(email="nia.new@acme.test")
    assert Membership.objects.get(user=newcomer).organisation == acme


def test_hr_publishes_saml_metadata_first_and_simplesamlphp_signs_the_same_person_in_twice(
    browser: Browser, live_server, simplesamlphp
):
    """SimpleSAMLphp as it ships (an independent provider, with a transient NameID): IT
    registers Rapport before HR has the provider's metadata, and Nia lands in the same
    account each time."""
    acme, hana, secret = _acme()
    hr = _hr_at_company_sign_in(browser, live_server, hana.user, secret)

    hr.get_by_role("button", name="Publish Rapport's SAML metadata").click()
    expect(hr.get_by_text("Rapport's SAML metadata is published")).to_be_visible()
    rapport_metadata = hr.get_by_label("Rapport's metadata URL").input_value()
    simplesamlphp.register_service_provider(requests.get(rapport_metadata, timeout=10).text)
    hr.get_by_label("Metadata URL", exact=True).fill(simplesamlphp.metadata_url)
    hr.get_by_role("button", name="Connect with SAML").click()
    expect(hr.get_by_text("Connected over SAML 2.0")).to_be_visible()

    for _ in range(2):
        nia = browser.new_context().new_page()
        _to_company_sign_in(nia, live_server.url, "nia.new@acme.test")
        nia.locator("#username").fill("nia")
        nia.locator("#password").fill(SSP_PASSWORD)
        nia.locator("#password").press("Enter")
        # SimpleSAMLphp's page posts the answer back to Rapport by itself.
        expect(nia.get_by_role("heading", name="Hello, Nia New")).to_be_visible()
        nia.context.close()
    nia = User.objects.get(email="nia.new@acme.test")
    assert Membership.objects.get(user=nia).organisation == acme
    assert nia.socialaccount_set.count() == 1
