from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from accounts.models import Invitation, Membership, User
from tests.factories import (
    TEST_PASSWORD,
    InvitationFactory,
    MembershipFactory,
    OrganisationFactory,
    UserFactory,
)
from tests.helpers import links_in_last_email, path_of, text

pytestmark = pytest.mark.django_db


def _signup_data(email, **extra):
    return {
        "display_name": "Ivy Invitee",
        "email": email,
        "password1": "correct-horse-battery-9",
        "password2": "correct-horse-battery-9",
        **extra,
    }


def test_hr_admin_invites_and_the_invitee_joins_their_team(
    hr_client, organisation, team, client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = hr_client.post(
            reverse("invitation_create"),
            {
                "invite-email": "Ivy@Example.com",
                "invite-team": team.public_id,
                "invite-role": "member",
            },
        )
    assert response.status_code == 302
    invitation = Invitation.objects.get(organisation=organisation)
    assert invitation.email == "ivy@example.com"
    assert invitation.is_pending

    accept_path = path_of(links_in_last_email("ivy@example.com")[0])
    hr_client.logout()

    landing = client.get(accept_path)
    assert landing.status_code == 200
    assert "Join Acme Coaching on Rapport" in text(landing)

    assert client.post(accept_path)["Location"] == reverse("account_signup")
    form = text(client.get(reverse("account_signup")))
    assert "You're joining Acme Coaching" in form
    raw_form = client.get(reverse("account_signup")).content.decode()
    assert 'value="ivy@example.com"' in raw_form
    assert "Organisation name" not in form

    response = client.post(reverse("account_signup"), _signup_data("ivy@example.com"))

    assert response.status_code == 302
    user = User.objects.get(email="ivy@example.com")
    membership = Membership.objects.get(user=user)
    assert (membership.organisation, membership.team, membership.role) == (
        organisation,
        team,
        Membership.Role.MEMBER,
    )
    invitation.refresh_from_db()
    assert invitation.accepted_by == user
    # The link proved the address: no second verification email, signed in at once.
    assert client.get(reverse("home")).status_code == 200


def test_the_token_is_not_stored_only_its_hash(
    hr_client, organisation, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        hr_client.post(
            reverse("invitation_create"),
            {"invite-email": "ivy@example.com", "invite-role": "member"},
        )
    token = path_of(links_in_last_email("ivy@example.com")[0]).split("/")[2]
    invitation = Invitation.objects.get()
    assert token not in invitation.token_hash
    assert Invitation.objects.with_token(token).get() == invitation


def test_an_invitation_cannot_be_reused(client, organisation):
    InvitationFactory(organisation=organisation, email="ivy@example.com", token="once")
    client.post(reverse("invitation_accept", args=["once"]))
    client.post(reverse("account_signup"), _signup_data("ivy@example.com"))
    client.logout()

    response = client.get(reverse("invitation_accept", args=["once"]))

    assert response.status_code == 410
    assert "This invitation has already been used." in text(response)
    assert Membership.objects.filter(organisation=organisation).count() == 1


def test_an_expired_invitation_explains_itself(client, organisation):
    InvitationFactory(organisation=organisation, token="late")

    with time_machine.travel(timezone.now() + timedelta(days=15)):
        response = client.get(reverse("invitation_accept", args=["late"]))

    assert response.status_code == 410
    assert "This invitation has expired." in text(response)


def test_an_expired_invitation_cannot_be_used_even_if_the_form_was_open(client, organisation):
    InvitationFactory(
        organisation=organisation,
        email="ivy@example.com",
        token="slow",
        expires_at=timezone.now() + timedelta(hours=1),
    )
    client.post(reverse("invitation_accept", args=["slow"]))

    with time_machine.travel(timezone.now() + timedelta(hours=2)):
        response = client.post(reverse("account_signup"), _signup_data("ivy@example.com"))

    assert response.status_code == 200
    assert "This invitation has expired." in text(response)
    assert not User.objects.filter(email="ivy@example.com").exists()


def test_a_revoked_invitation_explains_itself(hr_client, client, organisation):
    invitation = InvitationFactory(organisation=organisation, token="gone")

    response = hr_client.post(reverse("invitation_revoke", args=[invitation.public_id]))
    assert response.status_code == 302
    hr_client.logout()
    response = client.get(reverse("invitation_accept", args=["gone"]))

    assert response.status_code == 410
    assert "This invitation was withdrawn." in text(response)


def test_an_unknown_token_is_a_404_that_explains_itself(client):
    response = client.get(reverse("invitation_accept", args=["no-such-token"]))

    assert response.status_code == 404
    assert "This invitation link isn't valid." in text(response)


def test_revoked_between_form_and_submit_rolls_the_account_back(client, organisation):
    invitation = InvitationFactory(organisation=organisation, email="ivy@example.com", token="t")
    client.post(reverse("invitation_accept", args=["t"]))
    form = client.get(reverse("account_signup"))
    Invitation.objects.filter(pk=invitation.pk).update(revoked_at=timezone.now())

    response = client.post(reverse("account_signup"), _signup_data("ivy@example.com"))

    assert form.status_code == 200
    assert response.status_code == 200
    assert not User.objects.filter(email="ivy@example.com").exists()


def test_signing_up_with_another_address_than_invited_is_refused(client, organisation):
    InvitationFactory(organisation=organisation, email="ivy@example.com", token="t")
    client.post(reverse("invitation_accept", args=["t"]))

    response = client.post(reverse("account_signup"), _signup_data("someone-else@example.com"))

    assert response.status_code == 200
    assert "Your invitation was sent to ivy@example.com." in text(response)
    assert not User.objects.filter(email="someone-else@example.com").exists()


def test_member_of_another_organisation_cannot_accept(client, organisation):
    elsewhere = MembershipFactory(
        organisation=OrganisationFactory(name="Elsewhere"), user__email="ivy@example.com"
    )
    InvitationFactory(organisation=organisation, email="ivy@example.com", token="t")
    client.force_login(elsewhere.user)

    page = client.get(reverse("invitation_accept", args=["t"]))
    response = client.post(reverse("invitation_accept", args=["t"]))

    assert "You already belong to Elsewhere" in text(page)
    assert response.status_code == 200
    elsewhere.refresh_from_db()
    assert elsewhere.organisation.name == "Elsewhere"
    assert Invitation.objects.get().accepted_at is None


def test_an_existing_account_without_organisation_signs_in_and_accepts(client, organisation):
    user = UserFactory(email="ivy@example.com")
    InvitationFactory(organisation=organisation, email="ivy@example.com", token="t")
    client.post(
        reverse("account_login") + "?next=" + reverse("invitation_accept", args=["t"]),
        {"login": "ivy@example.com", "password": TEST_PASSWORD},
    )

    response = client.post(reverse("invitation_accept", args=["t"]))

    assert response.status_code == 302
    assert Membership.objects.get(user=user).organisation == organisation


def test_hr_admin_of_another_organisation_cannot_revoke(other_hr_client, organisation):
    invitation = InvitationFactory(organisation=organisation)

    response = other_hr_client.post(reverse("invitation_revoke", args=[invitation.public_id]))

    assert response.status_code == 404
    invitation.refresh_from_db()
    assert invitation.revoked_at is None


def test_inviting_an_existing_member_is_refused(hr_client, member):
    response = hr_client.post(
        reverse("invitation_create"), {"invite-email": member.email, "invite-role": "member"}
    )

    assert response.status_code == 200
    assert "is already a member of Acme Coaching" in text(response)
    assert not Invitation.objects.exists()


def test_a_new_invitation_replaces_a_pending_one(hr_client, organisation):
    hr_client.post(
        reverse("invitation_create"), {"invite-email": "ivy@example.com", "invite-role": "member"}
    )
    hr_client.post(
        reverse("invitation_create"), {"invite-email": "ivy@example.com", "invite-role": "member"}
    )

    statuses = sorted(i.status for i in Invitation.objects.all())
    assert statuses == [Invitation.Status.PENDING, Invitation.Status.REVOKED]


def test_invitation_form_with_htmx_returns_the_invitations_region(hr_client):
    response = hr_client.post(
        reverse("invitation_create"),
        {"invite-email": "ivy@example.com", "invite-role": "member"},
        HTTP_HX_REQUEST="true",
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert page.lstrip().startswith('<section id="invitations"')
    assert "ivy@example.com" in page
    assert "Invitation sent to ivy@example.com." in page
    assert "<html" not in page
    assert "HX-Request" in response["Vary"]


def test_no_email_is_sent_for_an_invitation_that_was_not_saved(
    hr_client, member, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        hr_client.post(
            reverse("invitation_create"), {"invite-email": member.email, "invite-role": "member"}
        )

    assert mailoutbox == []
