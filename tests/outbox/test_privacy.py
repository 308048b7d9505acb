"""What the outbox lets anyone learn: a superuser sees who was emailed and why, never the
message; the database holds the message encrypted, bound to its recipients, and erased
once sent; a deleted account's queued email never goes out (issue 16)."""

import json
import re

import pytest
from allauth.mfa.models import Authenticator
from django.core import mail
from django.db import connection
from django.test import Client
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


def test_a_second_report_with_other_recipients_rewrites_the_queued_email(queued_only, coach):
    """An email change reported twice in one transaction, the second time with the old
    address too: one email, to both, readable (its message is bound to its recipients)."""
    from django.db import transaction

    from accounts.services import credential_change_notify

    with transaction.atomic():
        credential_change_notify(user=coach, kind="email_changed")
        credential_change_notify(user=coach, kind="email_changed", also_to=("old@example.com",))

    (email,) = OutgoingEmail.objects.all()
    assert email.recipients == sorted({coach.email.lower(), "old@example.com"})
    assert "email address" in email.message["body"]


def test_a_deleted_person_is_forgotten_by_the_outbox_but_not_anothers_invitation(
    queued_only, hr_client, team, client
):
    from allauth.account.models import EmailAddress

    from tests.factories import HRAdminMembershipFactory, OrganisationFactory

    relationship = RelationshipFactory()
    coachee = relationship.coachee
    EmailAddress.objects.create(user=coachee, email="second@example.com", verified=True)
    client.post(reverse("account_reset_password"), {"email": coachee.email})
    sent = OutgoingEmail.objects.get(recipients=[coachee.email])
    OutgoingEmail.objects.filter(pk=sent.pk).update(status="sent", message_ciphertext="")
    failed = OutgoingEmail.objects.create(
        idempotency_key="x",
        template="t",
        recipients=["second@example.com"],
        status="failed",
        last_error="550 second@example.com unknown",
    )
    elsewhere = Client()
    elsewhere.force_login(HRAdminMembershipFactory(organisation=OrganisationFactory()).user)
    elsewhere.post(
        reverse("invitation_create"), {"invite-email": coachee.email, "invite-role": "member"}
    )
    theirs = OutgoingEmail.objects.get(template="accounts/email/invitation.txt")
    address = coachee.email

    account_delete(user=coachee)

    sent.refresh_from_db()
    failed.refresh_from_db()
    theirs.refresh_from_db()
    assert sent.recipients[0].endswith("@deleted.invalid") and sent.status == "sent"
    assert failed.recipients[0].endswith("@deleted.invalid") and failed.last_error == ""
    assert failed.status == "cancelled"
    assert (theirs.status, theirs.recipients) == ("queued", [address.lower()])
