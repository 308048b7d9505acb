"""A member cannot bring any address they like into the organisation: outside its email
domains, their invitation waits for an HR admin (issue: "smaller holes")."""

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts.models import AuditEvent, Invitation
from relationships.models import CoachingRelationship
from tests.helpers import links_in_last_email, path_of, text

pytestmark = pytest.mark.django_db

OUTSIDER = "friend@elsewhere.test"


def _invite(coach_client, email, capture):
    with capture(execute=True):
        return coach_client.post(
            reverse("relationship_invite"), {"email": email, "purpose": "Let's talk"}
        )


def test_attack_a_member_brings_an_outside_address_into_the_organisation(
    coach_client, hr_client, django_capture_on_commit_callbacks
):
    response = _invite(coach_client, OUTSIDER, django_capture_on_commit_callbacks)

    invitation = Invitation.objects.get(email=OUTSIDER)
    assert invitation.awaiting_approval and invitation.status == Invitation.Status.AWAITING_APPROVAL
    assert not [m for m in mail.outbox if OUTSIDER in m.to], "no email before HR approves"
    assert not Invitation.objects.pending().filter(email=OUTSIDER).exists(), "no usable link"
    assert "an HR admin approves the invitation" in text(coach_client.get(response["Location"]))
    page = text(hr_client.get(reverse("organisation")))
    assert "Waiting for approval" in page and "asked by Casey Coach" in page
    assert CoachingRelationship.objects.get().invitation == invitation


def test_hr_approves_and_the_invitation_goes_out_and_works(
    coach_client, hr_client, hr_admin, django_capture_on_commit_callbacks
):
    _invite(coach_client, OUTSIDER, django_capture_on_commit_callbacks)
    invitation = Invitation.objects.get(email=OUTSIDER)

    with django_capture_on_commit_callbacks(execute=True):
        response = hr_client.post(reverse("invitation_approve", args=[invitation.public_id]))

    assert response.status_code == 302
    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.PENDING
    newcomer = Client()
    assert newcomer.get(path_of(links_in_last_email(OUTSIDER)[0])).status_code == 200
    assert "Casey Coach invited you" in mail.outbox[-1].subject
    assert AuditEvent.objects.filter(action="invitation.approved", actor=hr_admin).exists()


def test_only_hr_of_that_organisation_can_approve(
    coach_client, member_client, other_hr_client, django_capture_on_commit_callbacks
):
    _invite(coach_client, OUTSIDER, django_capture_on_commit_callbacks)
    invitation = Invitation.objects.get(email=OUTSIDER)
    url = reverse("invitation_approve", args=[invitation.public_id])

    for stranger in (coach_client, member_client, other_hr_client):
        assert stranger.post(url).status_code == 404

    invitation.refresh_from_db()
    assert invitation.awaiting_approval
    assert not [m for m in mail.outbox if OUTSIDER in m.to]


def test_hr_can_decline_a_request_and_nothing_is_ever_sent(
    coach_client, hr_client, django_capture_on_commit_callbacks
):
    _invite(coach_client, OUTSIDER, django_capture_on_commit_callbacks)
    invitation = Invitation.objects.get(email=OUTSIDER)

    with django_capture_on_commit_callbacks(execute=True):
        hr_client.post(reverse("invitation_revoke", args=[invitation.public_id]))
        again = hr_client.post(reverse("invitation_approve", args=[invitation.public_id]))

    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.REVOKED
    assert "Only an invitation waiting for approval" in text(hr_client.get(again["Location"]))
    assert not [m for m in mail.outbox if OUTSIDER in m.to]


def test_an_address_in_the_organisations_domains_goes_out_at_once(
    coach_client, django_capture_on_commit_callbacks
):
    _invite(coach_client, "colleague@example.com", django_capture_on_commit_callbacks)

    assert Invitation.objects.pending().filter(email="colleague@example.com").exists()
    assert links_in_last_email("colleague@example.com")


def test_an_hr_admins_own_invitation_needs_no_approval(
    hr_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        hr_client.post(
            reverse("invitation_create"),
            {"invite-email": OUTSIDER, "invite-role": "member", "invite-team": ""},
        )

    assert Invitation.objects.pending().filter(email=OUTSIDER).exists()
    assert links_in_last_email(OUTSIDER)


@pytest.mark.parametrize(
    ("typed", "stored"),
    [("Example.com\n\n@acme.co.uk\nexample.com", "example.com\nacme.co.uk"), ("", "")],
)
def test_hr_sets_the_email_domains(hr_client, organisation, typed, stored):
    response = hr_client.post(
        reverse("organisation_settings"),
        {"org-name": organisation.name, "org-anonymity_threshold": 5, "org-email_domains": typed},
    )

    assert response.status_code == 302
    organisation.refresh_from_db()
    assert organisation.email_domains == stored


@pytest.mark.parametrize(
    "typed", ["not a domain", "someone@example.com", "example", "exa_mple.com"]
)
def test_a_mistyped_domain_gets_a_clear_message(hr_client, organisation, typed):
    response = hr_client.post(
        reverse("organisation_settings"),
        {"org-name": organisation.name, "org-anonymity_threshold": 5, "org-email_domains": typed},
    )

    assert response.status_code == 200
    assert "Write one domain a line" in text(response)
    organisation.refresh_from_db()
    assert organisation.email_domains == "example.com"
