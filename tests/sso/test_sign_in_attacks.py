"""Company sign-in turned against a member, as an attacker would try it: each test is the
attack, through the URLs, against the real test provider (tests/partners), and what must
hold instead (docs/threat-model.md, "Company sign-in")."""

from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount
from django.core import mail
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import Membership, Organisation, User
from sso.models import SingleSignOn
from sso.saml import pem_body, self_signed_certificate
from sso.services import connect_link_send
from tests.factories import TEST_PASSWORD, HRAdminMembershipFactory, MembershipFactory
from tests.helpers import links_in_last_email, path_of, text
from tests.sso.test_oidc_sign_in import _connect, _sign_in
from tests.sso.test_saml_sign_in import _connect as saml_connect
from tests.sso.test_saml_sign_in import _sign_in as saml_sign_in

pytestmark = pytest.mark.django_db


def test_attack_an_unverified_address_captures_a_newcomers_company_identity_is_refused(
    client, acme, acme_hr, oidc_provider, django_capture_on_commit_callbacks
):
    """Mallory types her future colleague's address into her own account (it stays
    unverified). Before, the colleague's first company sign-in found "an account with this
    address" (hers) and mailed the joining link to Mallory's own address."""
    mallory = MembershipFactory(organisation=acme, user__email="mallory@acme.test").user
    EmailAddress.objects.create(user=mallory, email="nia.new@acme.test", verified=False)
    _connect(client, acme_hr, oidc_provider)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        person, response = _sign_in(oidc_provider, "nia.new@acme.test", "nia")

    # Nia joins as a member of her own; nobody is sent a joining link.
    assert response.status_code == 302 and response["Location"] == reverse("home"), text(response)
    nia = User.objects.get(email="nia.new@acme.test")
    assert nia != mallory
    assert SocialAccount.objects.get().user == nia
    assert not any("/company/connect/" in m.body for m in mail.outbox)
    # Mallory's unproven claim on the address is gone.
    assert not EmailAddress.objects.filter(user=mallory, email="nia.new@acme.test").exists()
    assert Membership.objects.get(user=nia).organisation == acme


def test_attack_an_unverified_sign_up_with_a_newcomers_address_is_no_obstacle(
    client, acme, acme_hr, oidc_provider
):
    """A sign-up (never verified) squats the address a company's provider will vouch for."""
    Client().post(
        reverse("account_signup"),
        {
            "display_name": "Squatter",
            "email": "nia.new@acme.test",
            "organisation_name": "Squat Ltd",
            "password1": "correct-horse-battery-9",
            "password2": "correct-horse-battery-9",
        },
    )
    assert User.objects.filter(email="nia.new@acme.test").exists()
    _connect(client, acme_hr, oidc_provider)

    _, response = _sign_in(oidc_provider, "nia.new@acme.test", "nia")

    assert response.status_code == 302 and response["Location"] == reverse("home"), text(response)
    nia = User.objects.get(email="nia.new@acme.test")
    assert Membership.objects.get(user=nia).organisation == acme
    assert not Organisation.objects.filter(name="Squat Ltd").exists()


def test_the_joining_link_goes_to_the_address_the_provider_vouched_for(
    client, acme, acme_hr, oidc_provider, django_capture_on_commit_callbacks
):
    """Eve's account proved two addresses; her login is the other one. The link goes to the
    address her company's provider vouched for, never elsewhere."""
    eve = MembershipFactory(organisation=acme, user__email="eve.home@example.com").user
    EmailAddress.objects.create(user=eve, email="eve.existing@acme.test", verified=True)
    _connect(client, acme_hr, oidc_provider)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        _, response = _sign_in(oidc_provider, "eve.existing@acme.test", "eve")

    assert "Check your email" in text(response)
    (sent,) = [m for m in mail.outbox if "/company/connect/" in m.body]
    assert sent.to == ["eve.existing@acme.test"]


def test_attack_an_unverified_sign_up_keeps_a_company_from_connecting_its_domain_is_refused(
    client, acme, acme_hr, oidc_provider
):
    """One unverified sign-up at @acme.test founds an organisation; before, Acme's real HR
    was then told for good that "people of another organisation" use acme.test."""
    Client().post(
        reverse("account_signup"),
        {
            "display_name": "Squatter",
            "email": "squatter@acme.test",
            "organisation_name": "Squat Ltd",
            "password1": "correct-horse-battery-9",
            "password2": "correct-horse-battery-9",
        },
    )
    assert Organisation.objects.filter(name="Squat Ltd").exists()

    _connect(client, acme_hr, oidc_provider)  # asserts the provider is connected

    # And the unverified sign-up itself is removed once a day has passed.
    with time_machine.travel(timezone.now() + timedelta(days=1, minutes=1)):
        call_command("run_checkins", stdout=(out := StringIO()))
    assert "Removed 1 sign-up(s) never verified" in out.getvalue()
    assert not User.objects.filter(email="squatter@acme.test").exists()
    assert not Organisation.objects.filter(name="Squat Ltd").exists()
    assert User.objects.filter(pk=acme_hr.pk).exists()


def test_a_verified_member_of_another_organisation_still_keeps_the_domain(
    client, acme, acme_hr, oidc_provider
):
    MembershipFactory(user__email="someone@acme.test")  # verified, another organisation's
    client.force_login(acme_hr)
    response = client.post(
        reverse("sso_settings"),
        {
            "protocol": "oidc",
            "oidc-issuer": oidc_provider.issuer,
            "oidc-client_id": "c",
            "oidc-client_secret": "s",
        },
    )
    assert response.status_code == 400
    assert "People of another organisation sign in with acme.test" in text(response)


def test_attack_a_demoted_hr_admin_keeps_the_break_glass_password_is_refused(
    client, acme, acme_hr, oidc_provider
):

    _connect(client, acme_hr, oidc_provider)
    client.post(reverse("sso_only"), {"only": "on"})
    successor = HRAdminMembershipFactory(organisation=acme).user
    heir = Client()
    heir.force_login(successor)
    membership = Membership.objects.get(user=acme_hr)
    response = heir.post(
        reverse("membership_update", args=[membership.public_id]),
        {"team": "", "role": Membership.Role.MEMBER},
    )
    assert response.status_code in (200, 302), text(response)
    assert Membership.objects.get(user=acme_hr).role == Membership.Role.MEMBER

    response = Client().post(
        reverse("account_login"), {"login": acme_hr.email, "password": TEST_PASSWORD}
    )

    assert response.status_code == 200
    assert "Acme signs in through company sign-in only" in text(response)


def test_attack_hr_swaps_the_saml_provider_under_the_same_entity_id_inherits_nobody(
    client, acme, acme_hr, saml_provider, django_capture_on_commit_callbacks
):
    """HR pastes metadata with the old entity ID but a certificate and sign-in address of
    an identity provider HR runs. Before, every linked member stayed linked, so HR could
    sign in as any of them there."""
    import re

    saml_connect(client, acme_hr, saml_provider)
    saml_sign_in(saml_provider, "nia.new@acme.test", "nia")
    nia = User.objects.get(email="nia.new@acme.test")
    assert SocialAccount.objects.filter(user=nia).exists()
    genuine = saml_provider.metadata()
    _, hrs_certificate = self_signed_certificate("HR's own identity provider")
    forged = re.sub(
        r"(<(?:\w+:)?X509Certificate>)[^<]+(</(?:\w+:)?X509Certificate>)",
        lambda m: m.group(1) + pem_body(hrs_certificate) + m.group(2),
        genuine,
    )
    assert forged != genuine
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("sso_settings"), {"protocol": "saml", "saml-metadata_xml": forged}
        )

    assert response.status_code == 302, text(response)
    assert not SocialAccount.objects.filter(user=nia).exists()
    (told,) = [m for m in mail.outbox if m.to == [nia.email]]
    assert told.subject == "[Rapport] Your company sign-in has changed"

    # The genuine provider back (a certificate rollover looks the same): Nia is joined
    # again only through the link emailed to her.
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("sso_settings"), {"protocol": "saml", "saml-metadata_xml": genuine})
        _, again = saml_sign_in(saml_provider, "nia.new@acme.test", "nia")
    assert "Check your email" in text(again)
    assert not SocialAccount.objects.filter(user=nia).exists()


def test_a_joining_link_dies_with_any_change_of_the_provider(
    client, acme, acme_hr, oidc_provider, django_capture_on_commit_callbacks
):

    eve = MembershipFactory(organisation=acme, user__email="eve.existing@acme.test").user
    _connect(client, acme_hr, oidc_provider)
    with django_capture_on_commit_callbacks(execute=True):
        _sign_in(oidc_provider, "eve.existing@acme.test", "eve")
    (link,) = [path_of(u) for u in links_in_last_email(eve.email) if "/company/connect/" in u]

    _connect(client, acme_hr, oidc_provider)  # another client at the provider

    response = Client().post(link)
    assert response.status_code == 400
    assert "company sign-in has changed since" in text(response)
    assert not SocialAccount.objects.filter(user=eve).exists()


def test_joining_links_are_limited_per_address_and_say_so(
    client, acme, acme_hr, oidc_provider, django_capture_on_commit_callbacks
):

    eve = MembershipFactory(organisation=acme, user__email="eve.existing@acme.test").user
    _connect(client, acme_hr, oidc_provider)
    config = SingleSignOn.objects.get(organisation=acme)
    mail.outbox.clear()
    # Three links in the hours before (the provider's tokens are for now, so the earlier
    # sign-ins are the service's own calls); the same hour again is the same link.
    for hours_ago in (3, 2, 1, 1):
        with (
            time_machine.travel(timezone.now() - timedelta(hours=hours_ago)),
            django_capture_on_commit_callbacks(execute=True),
        ):
            connect_link_send(
                user=eve, email=eve.email, config=config, uid="eve", site_url="http://testserver"
            )
    assert len([m for m in mail.outbox if "/company/connect/" in m.body]) == 3

    with django_capture_on_commit_callbacks(execute=True):
        _, response = _sign_in(oidc_provider, "eve.existing@acme.test", "eve")

    assert response.status_code == 429
    assert "Rapport has sent 3 links to join your account today" in text(response)
    assert len([m for m in mail.outbox if "/company/connect/" in m.body]) == 3
