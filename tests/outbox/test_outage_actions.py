"""With the mail server down, every action that sends email succeeds for the person who
took it (no 5xx, the usual answer), and its email waits in the queue (issue 16)."""

import uuid

import pytest
from django.test import Client
from django.urls import reverse

from outbox.models import OutgoingEmail
from tests.accounts.test_bulk_invite import BULK, SEND, _send_form
from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)


def _hr_invites(hr_client, team, **_):
    return hr_client.post(
        reverse("invitation_create"),
        {"invite-email": "ivy@example.com", "invite-team": team.public_id, "invite-role": "member"},
    )


def _hr_invites_many(hr_client, **_):
    preview = hr_client.post(BULK, {"bulk-addresses": "ada@example.com\nbo@example.com"})
    return hr_client.post(SEND, _send_form(preview))


def _coach_invites_a_colleague(coach_client, coachee, **_):
    return coach_client.post(
        reverse("relationship_invite"), {"coachee": coachee.public_id, "purpose": "Grow"}
    )


def _someone_signs_up(**_):
    return Client().post(
        reverse("account_signup"),
        {
            "display_name": "Fern Founder",
            "email": f"fern-{uuid.uuid4().hex[:8]}@example.com",
            "organisation_name": "Fern & Co",
            "password1": "correct-horse-battery-9",
            "password2": "correct-horse-battery-9",
        },
    )


def _someone_resets_their_password(coach, **_):
    return Client().post(reverse("account_reset_password"), {"email": coach.email})


def _someone_changes_their_password(coach_client, **_):
    return coach_client.post(
        reverse("account_change_password"),
        {"oldpassword": TEST_PASSWORD, "password1": "n3w-horse-9-b", "password2": "n3w-horse-9-b"},
    )


ACTIONS = {
    "hr invites": (_hr_invites, 1),
    "hr invites many": (_hr_invites_many, 2),
    "coach invites a colleague": (_coach_invites_a_colleague, 1),
    "sign-up": (_someone_signs_up, 1),
    "password reset": (_someone_resets_their_password, 1),
    "password change": (_someone_changes_their_password, 1),
}


@pytest.mark.parametrize("action", ACTIONS)
def test_with_the_mail_server_down_the_action_succeeds_and_its_email_waits(
    action, real_outbox, hr_client, coach_client, team, coach, coachee
):
    real_outbox.stop()
    take, emails = ACTIONS[action]

    response = take(
        hr_client=hr_client, coach_client=coach_client, team=team, coach=coach, coachee=coachee
    )

    assert response.status_code == 302, response.content.decode()[-3000:]
    rows = list(OutgoingEmail.objects.values_list("template", "status", "attempts"))
    assert [row for row in rows if row[1] == "queued"] == rows and len(rows) == emails, rows
