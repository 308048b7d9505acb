"""Passkeys through the site (their ceremony runs in real Chromium in
tests/browser/test_passkey_journey.py): whose they are, and who is told."""

import pytest
from allauth.mfa.models import Authenticator
from django.core import mail
from django.urls import reverse

from accounts.models import AuditEvent
from tests.factories import TEST_PASSWORD, MembershipFactory
from tests.helpers import text

pytestmark = pytest.mark.django_db


def _passkey(user, name="Laptop"):
    return Authenticator.objects.create(
        user=user, type=Authenticator.Type.WEBAUTHN, data={"name": name, "credential": {}}
    )


def _signed_in_again(client, user):
    client.force_login(user)
    client.post(reverse("account_reauthenticate"), {"password": TEST_PASSWORD})


def test_someone_elses_passkey_cannot_be_renamed_or_removed(client):
    owner, other = MembershipFactory().user, MembershipFactory().user
    passkey = _passkey(owner)
    _signed_in_again(client, other)

    for name in ("mfa_edit_webauthn", "mfa_remove_webauthn"):
        url = reverse(name, args=[passkey.pk])
        assert client.get(url).status_code == 404, name
        assert client.post(url, {"name": "Mine now"}).status_code == 404, name
    assert Authenticator.objects.filter(pk=passkey.pk, data__name="Laptop").exists()


def test_removing_a_passkey_is_told_and_audited(client, django_capture_on_commit_callbacks):
    person = MembershipFactory().user
    passkey = _passkey(person)
    _signed_in_again(client, person)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("mfa_remove_webauthn", args=[passkey.pk]))

    assert response.status_code == 302
    assert not Authenticator.objects.filter(pk=passkey.pk).exists()
    (message,) = [m for m in mail.outbox if m.to == [person.email]]
    assert message.subject == "[Rapport] A passkey was removed from your account"
    assert AuditEvent.objects.filter(subject=person, action="account.passkey_removed").exists()
    activity = text(client.get(reverse("my_activity")))
    assert "A passkey was removed from your account" in activity


def test_the_profile_counts_passkeys_and_offers_one(client):
    person = MembershipFactory().user
    client.force_login(person)
    page = text(client.get(reverse("profile")))
    assert "Add a passkey" in page and "You have" not in page

    _passkey(person)
    _passkey(person, "Phone")
    assert "You have 2 passkeys." in text(client.get(reverse("profile")))


def test_the_sign_in_page_offers_a_passkey_with_its_scripts_as_files(client):
    page = client.get(reverse("account_login")).content.decode()
    assert 'id="passkey_login"' in page
    assert "mfa/js/webauthn.js" in page
    # Only JSON data inline, which the strict CSP allows (it is never run).
    for script in page.split("<script")[1:]:
        head = script.split(">", 1)[0]
        assert "src=" in head or 'type="application/json"' in head, head
