"""Company sign-in over OpenID Connect, against a real provider (django-oauth-toolkit in
a process of its own: tests/partners/oidc_provider). Rapport's side runs through the test
client; the person's side (signing in at the provider, consenting) through HTTP, as the
browser would; tests/browser/test_company_sign_in_journey.py does it all in Chromium."""

import base64
import hashlib
import secrets
import time
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
import requests
import time_machine
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.socialaccount.internal.statekit import STATES_SESSION_KEY
from allauth.socialaccount.models import SocialAccount
from allauth.socialaccount.providers.oauth2.client import OAuth2Error
from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts.models import AuditEvent, Membership, User
from sso.models import SignInFailure, SingleSignOn
from tests.factories import (
    TEST_PASSWORD,
    HRAdminMembershipFactory,
    MembershipFactory,
    OrganisationFactory,
    SingleSignOnFactory,
)
from tests.helpers import links_in_last_email, path_of, text, totp_code
from tests.partners.oidc import signing_key_pem

pytestmark = pytest.mark.django_db


def _connect(client, hr, provider, *, client_id=None, secret=None):
    """HR registers Rapport at the provider (with the redirect URI the page shows) and
    connects it on the company sign-in page."""
    client.force_login(hr)
    page = client.get(reverse("sso_settings")).content.decode()
    redirect_uri = page.split('id="redirect-uri" type="url" value="', 1)[1].split('"', 1)[0]
    client_id = client_id or f"rapport-{secrets.token_hex(4)}"
    secret = secret or secrets.token_urlsafe(24)
    provider.register_client(client_id=client_id, client_secret=secret, redirect_uri=redirect_uri)
    response = client.post(reverse("sso_settings"), _oidc(provider.issuer, client_id, secret))
    assert response.status_code == 302, text(response)
    return client_id, secret


def _oidc(issuer: str, client_id: str, client_secret: str) -> dict:
    """The OpenID Connect form on the company sign-in page, as the browser posts it."""
    return {
        "protocol": "oidc",
        "oidc-issuer": issuer,
        "oidc-client_id": client_id,
        "oidc-client_secret": client_secret,
    }


def _sign_in(provider, email: str, username: str, *, consent: bool = True, client=None):
    """A person types their work email on Rapport's page, signs in at the provider and
    comes back: the response to the callback."""
    client = client or Client()
    callback = provider.sign_in(_to_provider(client, email), username, consent=consent)
    return client, client.get(path_of(callback))


def _to_provider(client, email: str) -> str:
    """Rapport's side of leaving for the provider: the work email, then allauth's page
    that asks first. Returns the provider's address the browser is sent to."""
    response = client.post(reverse("sso_start"), {"email": email})
    assert response.status_code == 302, text(response)
    ask = client.get(response["Location"])
    assert ask.status_code == 200, text(ask)
    response = client.post(response["Location"])
    assert response.status_code == 302, text(response)
    return response["Location"]


def test_hr_connects_a_provider_and_a_colleague_joins_on_first_sign_in(
    client, acme, acme_hr, oidc_provider
):
    _, secret = _connect(client, acme_hr, oidc_provider)

    config = SingleSignOn.objects.get(organisation=acme)
    assert config.issuer == oidc_provider.issuer
    # Encrypted at rest, and never shown again.
    assert secret not in config.client_secret_ciphertext and config.client_secret == secret
    assert secret not in client.get(reverse("sso_settings")).content.decode()
    assert AuditEvent.objects.filter(action="sso.connected", organisation=acme).exists()

    person, response = _sign_in(oidc_provider, "nia.new@acme.test", "nia")

    assert response.status_code == 302 and response["Location"] == reverse("home")
    nia = User.objects.get(email="nia.new@acme.test")
    assert nia.display_name == "Nia New"
    membership = Membership.objects.get(user=nia)
    assert membership.organisation == acme and membership.role == Membership.Role.MEMBER
    assert EmailAddress.objects.get(user=nia).verified
    assert "Hello, Nia New" in text(person.get(reverse("home")))
    assert AuditEvent.objects.filter(action="sso.joined", subject=nia, organisation=acme).exists()
    # The sign-in is the person's own event: in their activity, not HR's log.
    signed_in = AuditEvent.objects.get(action="account.company_signed_in", subject=nia)
    assert signed_in.organisation is None
    assert "You signed in through company sign-in" in text(person.get(reverse("my_activity")))

    # The second time, the same account.
    person.post(reverse("account_logout"))
    _, again = _sign_in(oidc_provider, "nia.new@acme.test", "nia")
    assert again["Location"] == reverse("home")
    assert User.objects.filter(email="nia.new@acme.test").count() == 1


def test_the_redirect_carries_a_nonce_and_pkce(client, acme, acme_hr, oidc_provider):
    _connect(client, acme_hr, oidc_provider)
    to_provider = _to_provider(Client(), "nia.new@acme.test")
    query = parse_qs(urlsplit(to_provider).query)
    assert to_provider.startswith(oidc_provider.issuer + "/authorize/")
    assert len(query["nonce"][0]) >= 32
    assert query["code_challenge_method"] == ["S256"]


@pytest.mark.parametrize(
    ("email", "username", "refusal"),
    [
        ("olu@elsewhere.test", "olu", "olu@elsewhere.test is not an address of Acme"),
        ("una.unverified@acme.test", "una", "did not confirm your email address"),
    ],
)
def test_a_first_sign_in_outside_the_domains_or_unverified_is_refused(
    client, acme, acme_hr, oidc_provider, email, username, refusal
):
    _connect(client, acme_hr, oidc_provider)
    users_before = User.objects.count()

    # Olu types an Acme address, but the provider says who they are.
    _, response = _sign_in(oidc_provider, "anyone@acme.test", username)

    assert response.status_code == 403
    assert refusal in text(response)
    assert User.objects.count() == users_before
    assert not SocialAccount.objects.exists()


def test_declining_at_the_provider_is_a_page_not_an_error(client, acme, acme_hr, oidc_provider):
    _connect(client, acme_hr, oidc_provider)
    person, response = _sign_in(oidc_provider, "nia.new@acme.test", "nia", consent=False)
    assert response.status_code == 302
    page = person.get(response["Location"])
    assert page.status_code == 200
    assert "You stopped at your company's sign-in" in text(page)
    assert not User.objects.filter(email="nia.new@acme.test").exists()


def test_an_id_token_for_another_sign_in_is_refused(client, acme, acme_hr, oidc_provider):
    """The nonce: the ID token must carry the one this browser's sign-in sent."""
    _connect(client, acme_hr, oidc_provider)
    person = Client()
    callback = oidc_provider.sign_in(_to_provider(person, "nia.new@acme.test"), "nia")
    # The browser's stashed state now expects another nonce (as if this answer had been
    # captured from some other sign-in and replayed here).
    session = person.session
    states = session[STATES_SESSION_KEY]
    for state, *_ in states.values():
        state["nonce"] = "another-sign-in"
    session[STATES_SESSION_KEY] = states
    session.save()

    response = person.get(path_of(callback))

    assert response.status_code == 403
    assert "not for this sign-in" in text(response)
    assert not User.objects.filter(email="nia.new@acme.test").exists()


def test_id_tokens_are_checked_against_the_providers_keys_and_audience(
    client, acme, acme_hr, oidc_provider, rf
):
    from allauth.socialaccount.adapter import get_adapter

    from sso.provider import CompanySignInAdapter

    client_id, _ = _connect(client, acme_hr, oidc_provider)
    request = rf.get("/")
    request.user = acme_hr
    config = SingleSignOn.objects.get(organisation=acme)
    app = get_adapter().get_app(request, config.provider_id)
    adapter = CompanySignInAdapter(request, config.provider_id)
    keys = requests.get(f"{oidc_provider.issuer}/.well-known/jwks.json", timeout=5).json()
    kid = keys["keys"][0]["kid"]

    def token(key_pem, **claims):
        now = int(time.time())
        body = {"iss": oidc_provider.issuer, "aud": client_id, "sub": "1", "iat": now}
        body |= {"exp": now + 300, **claims}
        return jwt.encode(body, key_pem, algorithm="RS256", headers={"kid": kid})

    # Signed by a key that is not the provider's: refused, though it came "from" it.
    with pytest.raises(OAuth2Error):
        adapter._decode_id_token(app, token(signing_key_pem()))
    # Unsigned ("alg": "none"), with or without a key id; signed with the client secret
    # (HS256), which Rapport holds as well as the provider: refused.
    claims = {"iss": oidc_provider.issuer, "aud": client_id, "exp": int(time.time()) + 60}
    for forged in (
        jwt.encode(claims, None, algorithm="none"),
        jwt.encode(claims, None, algorithm="none", headers={"kid": kid}),
        jwt.encode(claims, app.secret, algorithm="HS256", headers={"kid": kid}),
    ):
        with pytest.raises(OAuth2Error):
            adapter._decode_id_token(app, forged)
    # A real ID token, signed by the provider, for another client: refused here for its
    # audience, refused to that client too once expired, and accepted by that client
    # while fresh (so the checks above refuse for their reason, not for any).
    other_client = f"other-{secrets.token_hex(4)}"
    real = _real_token(oidc_provider, audience=other_client)
    with pytest.raises(OAuth2Error):
        adapter._decode_id_token(app, real)
    app.client_id = other_client
    with time_machine.travel(time.time() + 2 * 60 * 60), pytest.raises(OAuth2Error):
        adapter._decode_id_token(app, real)
    assert adapter._decode_id_token(app, real)["aud"] == other_client


def _real_token(provider, *, audience: str) -> str:
    """An ID token the provider itself signs, for a client registered as `audience`."""
    redirect_uri = "http://testserver/elsewhere/callback/"
    secret = secrets.token_urlsafe(16)
    provider.register_client(client_id=audience, client_secret=secret, redirect_uri=redirect_uri)
    verifier = secrets.token_urlsafe(48)
    challenge = (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    )
    authorize = (
        f"{provider.issuer}/authorize/?response_type=code&client_id={audience}"
        f"&redirect_uri={redirect_uri}&scope=openid+email&state=s&nonce=n"
        f"&code_challenge={challenge}&code_challenge_method=S256"
    )
    callback = provider.sign_in(authorize, "nia")
    code = parse_qs(urlsplit(callback).query)["code"][0]
    response = requests.post(
        f"{provider.issuer}/token/",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "client_id": audience,
            "client_secret": secret,
            "code_verifier": verifier,
        },
        timeout=10,
    )
    response.raise_for_status()
    return response.json()["id_token"]


# --- An account that exists already --------------------------------------------------------


def test_an_existing_member_joins_their_account_from_a_link_to_their_address(
    client, acme, acme_hr, oidc_provider, django_capture_on_commit_callbacks
):
    eve = MembershipFactory(organisation=acme, user__email="eve.existing@acme.test").user
    _connect(client, acme_hr, oidc_provider)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        person, response = _sign_in(oidc_provider, "eve.existing@acme.test", "eve")

    # Not signed in: the provider's word is not enough to enter an account it did not make.
    assert response.status_code == 200
    assert "Check your email" in text(response)
    assert "_auth_user_id" not in person.session
    assert not SocialAccount.objects.filter(user=eve).exists()
    (link,) = [path_of(u) for u in links_in_last_email(eve.email) if "/company/connect/" in u]

    page = Client()
    assert "Join my account" in text(page.get(link))
    with django_capture_on_commit_callbacks(execute=True):
        response = page.post(link)
    assert response.status_code == 302
    assert SocialAccount.objects.filter(user=eve).count() == 1
    assert any(
        m.subject == "[Rapport] Your account now signs in through company sign-in"
        for m in mail.outbox
    )

    _, response = _sign_in(oidc_provider, "eve.existing@acme.test", "eve")
    assert response["Location"] == reverse("home")
    assert User.objects.filter(email="eve.existing@acme.test").count() == 1


def test_a_connect_link_that_is_tampered_or_expired_says_so(
    client, acme, acme_hr, oidc_provider, django_capture_on_commit_callbacks, settings
):
    eve = MembershipFactory(organisation=acme, user__email="eve.existing@acme.test").user
    _connect(client, acme_hr, oidc_provider)
    with django_capture_on_commit_callbacks(execute=True):
        _sign_in(oidc_provider, "eve.existing@acme.test", "eve")
    (link,) = [path_of(u) for u in links_in_last_email(eve.email) if "/company/connect/" in u]

    tampered = link.replace("/connect/", "/connect/x")
    response = Client().post(tampered)
    assert response.status_code == 400 and "not valid" in text(response)

    with time_machine.travel(time.time() + 2 * 60 * 60):
        response = Client().post(link)
        assert response.status_code == 400 and "expired" in text(response)
        assert not SocialAccount.objects.exists()


def test_an_address_of_another_organisations_account_is_refused(
    client, acme, acme_hr, oidc_provider
):
    _connect(client, acme_hr, oidc_provider)
    # Someone in another organisation with an Acme address (which, had they been there
    # first, would have kept Acme from routing acme.test to its provider at all).
    MembershipFactory(user__email="eve.existing@acme.test")
    _, response = _sign_in(oidc_provider, "eve.existing@acme.test", "eve")
    assert response.status_code == 403
    assert "outside Acme already uses" in text(response)
    assert not mail.outbox or "connect" not in mail.outbox[-1].body


def test_a_new_provider_unlinks_everyone_linked_through_the_old_one(
    client, acme, acme_hr, oidc_provider
):
    _connect(client, acme_hr, oidc_provider)
    _sign_in(oidc_provider, "nia.new@acme.test", "nia")
    assert SocialAccount.objects.count() == 1

    # The same client with a new secret: nothing changes for anyone.
    config = SingleSignOn.objects.get(organisation=acme)
    client.post(reverse("sso_settings"), _oidc(config.issuer, config.client_id, "rotated"))
    assert SocialAccount.objects.count() == 1
    assert SingleSignOn.objects.get(organisation=acme).client_secret == "rotated"

    # Another client: a new provider, linked to nobody.
    _connect(client, acme_hr, oidc_provider)
    assert not SocialAccount.objects.exists()
    changes = AuditEvent.objects.filter(action="sso.changed", organisation=acme).order_by("id")
    assert [e.details["fields"] for e in changes] == [
        ["client secret"],
        ["client ID", "client secret"],
    ]


# --- SSO-only --------------------------------------------------------------------------------


def test_sso_only_refuses_members_passwords_and_audits_the_break_glass_account(
    client, acme, acme_hr, oidc_provider
):
    member = MembershipFactory(organisation=acme, user__email="pat@acme.test").user
    _connect(client, acme_hr, oidc_provider)
    client.post(reverse("sso_only"), {"only": "on"})
    config = SingleSignOn.objects.get(organisation=acme)
    assert config.sso_only and config.break_glass == acme_hr
    assert AuditEvent.objects.filter(action="sso.only_on", organisation=acme).exists()

    response = Client().post(
        reverse("account_login"), {"login": member.email, "password": TEST_PASSWORD}
    )
    assert response.status_code == 200
    assert "Acme signs in through company sign-in only" in text(response)
    # A wrong password gets the usual answer: the form tells no one who is SSO-only.
    wrong = Client().post(reverse("account_login"), {"login": member.email, "password": "nope"})
    assert "company sign-in" not in text(wrong)

    # The break-glass HR admin still signs in with their password (and second factor).
    hr = Client()
    response = hr.post(
        reverse("account_login"), {"login": acme_hr.email, "password": TEST_PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_authenticate")

    # Through the provider, members still come in.
    _, response = _sign_in(oidc_provider, "nia.new@acme.test", "nia")
    assert response["Location"] == reverse("home")

    client.post(reverse("sso_only"), {"only": "off"})
    response = Client().post(
        reverse("account_login"), {"login": member.email, "password": TEST_PASSWORD}
    )
    assert response.status_code == 302


def test_sso_only_refuses_every_other_way_in_too(acme, acme_hr, rf, client, oidc_provider):
    """A passkey or an emailed code goes through allauth's pre_login, like a password."""
    from django.contrib.messages.storage.fallback import FallbackStorage

    from accounts.adapter import AccountAdapter

    member = MembershipFactory(organisation=acme, user__email="pat@acme.test").user
    _connect(client, acme_hr, oidc_provider)
    client.post(reverse("sso_only"), {"only": "on"})
    request = rf.post("/accounts/2fa/webauthn/login/")
    request.session = Client().session
    request._messages = FallbackStorage(request)
    hooks = {"email_verification": "none", "email": None, "signup": False, "redirect_url": None}

    refused = AccountAdapter(request).pre_login(request, member, signal_kwargs={}, **hooks)
    assert refused is not None and refused["Location"] == reverse("account_login")
    assert AccountAdapter(request).pre_login(request, acme_hr, signal_kwargs={}, **hooks) is None


def test_the_break_glass_sign_in_is_in_hrs_audit_log(client, acme, acme_hr, oidc_provider):
    _connect(client, acme_hr, oidc_provider)
    client.post(reverse("sso_only"), {"only": "on"})
    Authenticator.objects.filter(user=acme_hr).delete()
    secret = "JBSWY3DPEHPK3PXP"
    Authenticator.objects.create(
        user=acme_hr, type=Authenticator.Type.TOTP, data={"secret": secret}
    )
    hr = Client()
    hr.post(reverse("account_login"), {"login": acme_hr.email, "password": TEST_PASSWORD})
    hr.post(reverse("mfa_authenticate"), {"code": totp_code(secret)})

    event = AuditEvent.objects.get(action="sso.break_glass_used")
    assert event.organisation == acme and event.actor == acme_hr
    assert "signed in with the break-glass password" in text(hr.get(reverse("organisation_audit")))


# --- HR's page --------------------------------------------------------------------------------


def test_a_mistyped_or_unreachable_issuer_is_a_message_on_the_form(
    client, acme, acme_hr, oidc_provider
):
    client.force_login(acme_hr)
    for issuer, message in [
        (oidc_provider.url + "/nothing-here", "answered 404"),
        ("http://127.0.0.1:9/o", "could not reach"),
        (oidc_provider.issuer + "/", None),  # a trailing slash is forgiven
    ]:
        response = client.post(reverse("sso_settings"), _oidc(issuer, "c", "s"))
        if message is None:
            assert response.status_code == 302
        else:
            assert response.status_code == 400 and message in text(response), issuer
    assert SingleSignOn.objects.get(organisation=acme).issuer == oidc_provider.issuer


def test_a_domain_is_routed_to_one_organisation_only(client, acme, acme_hr, oidc_provider):
    _connect(client, acme_hr, oidc_provider)
    rival = OrganisationFactory(name="Rival", email_domains="acme.test")
    rival_hr = HRAdminMembershipFactory(organisation=rival).user
    other = Client()
    other.force_login(rival_hr)

    response = other.post(reverse("sso_settings"), _oidc(oidc_provider.issuer, "c", "s"))

    assert response.status_code == 400
    assert "acme.test is already used by another organisation" in text(response)
    assert not SingleSignOn.objects.filter(organisation=rival).exists()


def test_a_domain_added_later_follows_the_same_rule(client, acme, acme_hr, oidc_provider):
    """With company sign-in on, a domain added on the organisation page would route its
    people to the provider too: one where another organisation has members is refused."""
    _connect(client, acme_hr, oidc_provider)
    MembershipFactory(user__email="someone@globex.test")  # another organisation's

    response = client.post(
        reverse("organisation_settings"),
        {
            "org-name": "Acme",
            "org-anonymity_threshold": 5,
            "org-email_domains": "acme.test\nglobex.test",
        },
    )

    assert response.status_code == 200
    assert "People of another organisation sign in with globex.test" in text(response)
    acme.refresh_from_db()
    assert acme.domains == ["acme.test"]


def test_no_page_lists_other_organisations_providers(client, acme, acme_hr, oidc_provider, rf):
    from allauth.socialaccount.adapter import get_adapter
    from django.contrib.auth.models import AnonymousUser

    _connect(client, acme_hr, oidc_provider)
    request = rf.get("/")
    request.user = AnonymousUser()
    assert get_adapter().list_apps(request) == []
    request.user = MembershipFactory().user  # another organisation
    assert get_adapter().list_apps(request) == []
    request.user = acme_hr
    assert [app.name for app in get_adapter().list_apps(request)] == ["Acme"]


def test_leaving_for_the_provider_allows_its_address_on_that_page_only(
    client, acme, acme_hr, oidc_provider
):
    _connect(client, acme_hr, oidc_provider)
    person = Client()
    response = person.post(reverse("sso_start"), {"email": "nia.new@acme.test"})
    ask = person.get(response["Location"])
    policy = ask["Content-Security-Policy"]
    assert f"form-action 'self' {oidc_provider.url}" in policy
    assert oidc_provider.url not in person.get(reverse("account_login"))["Content-Security-Policy"]


def test_a_provider_that_is_down_is_a_page_not_an_error(acme):
    SingleSignOnFactory(organisation=acme)  # at port 9, where nothing listens
    person = Client()
    response = person.post(reverse("sso_start"), {"email": "nia.new@acme.test"})
    for page in (person.get(response["Location"]), person.post(response["Location"])):
        assert page.status_code == 200
        assert "sign-in service did not sign you in" in text(page)


def test_a_provider_moved_in_the_database_no_longer_signs_anyone_in(
    client, acme, acme_hr, oidc_provider
):
    """The secret is bound to its issuer: pointed elsewhere by a database edit, it does not
    open, and the provider is as good as gone (a 404, never the secret sent elsewhere)."""
    _connect(client, acme_hr, oidc_provider)
    SingleSignOn.objects.filter(organisation=acme).update(issuer="https://attacker.example/o")
    person = Client()
    response = person.post(reverse("sso_start"), {"email": "nia.new@acme.test"})
    assert person.get(response["Location"]).status_code == 404
    assert person.post(response["Location"]).status_code == 404


def test_an_unknown_domain_is_told_to_use_a_password(client):
    response = client.post(reverse("sso_start"), {"email": "someone@nowhere.test"})
    assert response.status_code == 400
    assert "No organisation signs in with company sign-in for nowhere.test" in text(response)


def test_a_provider_that_does_not_say_whether_it_verified_the_address_signs_in(
    client, acme, acme_hr, oidc_provider
):
    """Microsoft Entra ID sends no `email_verified`: an address at Acme's own domain is
    Acme's directory speaking, as with SAML (`email_verified: false` is still refused,
    above), and the same person lands in the same account every time."""
    _connect(client, acme_hr, oidc_provider)

    _, response = _sign_in(oidc_provider, "ena.entra@acme.test", "ena")
    assert response.status_code == 302 and response["Location"] == reverse("home")
    ena = User.objects.get(email="ena.entra@acme.test")
    assert EmailAddress.objects.get(user=ena).verified

    _, again = _sign_in(oidc_provider, "ena.entra@acme.test", "ena")
    assert again["Location"] == reverse("home")
    assert SocialAccount.objects.filter(user=ena).count() == 1
    assert User.objects.filter(email="ena.entra@acme.test").count() == 1


def test_a_provider_that_cannot_be_reached_is_a_failure_hr_can_look_up(client, acme, acme_hr):
    SingleSignOnFactory(organisation=acme)  # at port 9, where nothing listens
    person = Client()
    response = person.post(reverse("sso_start"), {"email": "nia.new@acme.test"})
    page = person.post(response["Location"])

    failure = SignInFailure.objects.get()
    assert "could not reach the provider" in failure.reason
    assert failure.reference in text(page)
    client.force_login(acme_hr)
    assert failure.reference in text(client.get(reverse("sso_settings")))
