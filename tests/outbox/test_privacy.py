"""What the outbox lets anyone learn: a superuser sees who was emailed and why, never the
message; the database holds the message encrypted, bound to its recipients, and erased
once sent; a deleted account's queued email never goes out (issue 16)."""

import json
import re

import pytest
from allauth.mfa.models import Authenticator
from django.core import mail
from django.db import connection
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from outbox.models import OutgoingEmail
from outbox.services import deliver
from privacy.services import account_delete
from tests.factories import RelationshipFactory

pytestmark = pytest.mark.django_db
LINK = re.compile(r"https?://\S+")


@pytest.fixture
def queued_only(settings):
    """Workers are not running: what requests queue stays queued."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def _invite(hr_client, team, email="ivy@example.com") -> OutgoingEmail:
    hr_client.post(
        reverse("invitation_create"),
        {"invite-email": email, "invite-team": team.public_id, "invite-role": "member"},
    )
    return OutgoingEmail.objects.get(recipients=[email])


def test_the_admin_never_shows_a_message_even_to_a_superuser(
    queued_only, admin_client, admin_user, hr_client, team
):
    Authenticator.objects.create(user=admin_user, type=Authenticator.Type.TOTP, data={})
    email = _invite(hr_client, team)
    (accept_link,) = [link for link in LINK.findall(email.message["body"]) if "invit" in link]
    token = accept_link.rstrip("/").rsplit("/", 1)[-1]
    task = DBTaskResult.objects.get()
    pages = [
        "/admin/outbox/outgoingemail/",
        f"/admin/outbox/outgoingemail/{email.pk}/change/",
        "/admin/django_tasks_database/dbtaskresult/",
        f"/admin/django_tasks_database/dbtaskresult/{task.pk}/change/",
    ]
    for page in pages:
        response = admin_client.get(page)
        assert response.status_code == 200, page
        assert token not in response.content.decode(), page
    listing = admin_client.get(pages[0]).content.decode()
    assert "ivy@example.com" in listing and "accounts/email/invitation.txt" in listing
    # At rest: the message is encrypted, and the task holds the email's id only.
    assert token not in email.message_ciphertext
    assert task.args_kwargs == {"args": [str(email.public_id)], "kwargs": {}}


def test_attack_redirecting_a_queued_email_in_the_database_sends_nothing(
    queued_only, hr_client, team
):
    email = _invite(hr_client, team)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE outbox_outgoingemail SET recipients = %s WHERE id = %s",
            [json.dumps(["attacker@evil.example"]), email.pk],
        )
    mail.outbox.clear()

    assert deliver(str(email.public_id)) == "failed"

    assert mail.outbox == []
    email.refresh_from_db()
    assert email.status == "failed" and "cannot be decrypted" in email.last_error


def test_a_deleted_accounts_queued_email_is_cancelled_and_erased(queued_only, client):
    coachee = RelationshipFactory().coachee
    client.post(reverse("account_reset_password"), {"email": coachee.email})
    email = OutgoingEmail.objects.get(recipients=[coachee.email])
    assert email.status == "queued"

    account_delete(user=coachee)

    email.refresh_from_db()
    assert (email.status, email.message_ciphertext) == ("cancelled", "")
    mail.outbox.clear()
    assert deliver(str(email.public_id)) == "cancelled"
    assert mail.outbox == []
