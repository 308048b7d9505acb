import re
from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEvent, Invitation, Membership, User
from relationships.models import CoachingRelationship
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


def _hr_invites(hr_client, capture, email="ivy@example.com", **extra):
    with capture(execute=True):
        return hr_client.post(
            reverse("invitation_create"),
            {"invite-email": email, "invite-role": "member", **extra},
            follow=True,
        )


def test_attack_reinviting_sends_a_second_invitation_and_adds_a_second_row(
    hr_client, organisation, team, mailoutbox, django_capture_on_commit_callbacks
):
    first = _hr_invites(hr_client, django_capture_on_commit_callbacks)
    old_link = path_of(links_in_last_email("ivy@example.com")[0])
    again = _hr_invites(
        hr_client, django_capture_on_commit_callbacks, **{"invite-team": team.public_id}
    )

    assert "Invitation sent to ivy@example.com." in text(first)
    assert "Invitation sent again to ivy@example.com." in text(again)
    invitation = Invitation.objects.get()  # one row, renewed in place
    assert invitation.is_pending and invitation.team == team
    # Only the hash is stored, so the renewal needs a fresh token: the new link works,
    # the old one no longer does.
    new_link = path_of(links_in_last_email("ivy@example.com")[0])
    assert new_link != old_link
    assert len([m for m in mailoutbox if "ivy@example.com" in m.to]) == 2
    hr_client.logout()
    assert hr_client.get(new_link).status_code == 200
    assert hr_client.get(old_link).status_code == 404


def test_reinviting_renews_the_invitation_period(
    hr_client, hr_admin, organisation, django_capture_on_commit_callbacks
):
    _hr_invites(hr_client, django_capture_on_commit_callbacks)
    later = timezone.now() + timedelta(days=10)
    with time_machine.travel(later):
        hr_client.force_login(hr_admin)  # an HR admin's session lasts a working day
        _hr_invites(hr_client, django_capture_on_commit_callbacks)

    assert Invitation.objects.get().expires_at > later + timedelta(days=10)


def test_hr_reinviting_an_address_waiting_for_approval_approves_and_sends_it(
    coach_client, hr_client, hr_admin, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        coach_client.post(
            reverse("relationship_invite"), {"email": "friend@elsewhere.test", "purpose": "Hi"}
        )
    assert Invitation.objects.get().is_awaiting_approval

    response = _hr_invites(hr_client, django_capture_on_commit_callbacks, "friend@elsewhere.test")

    assert "Invitation to friend@elsewhere.test approved and sent." in text(response)
    invitation = Invitation.objects.get()
    assert invitation.is_pending
    link = path_of(links_in_last_email("friend@elsewhere.test")[0])
    assert Invitation.objects.with_token(link.split("/")[2]).get() == invitation
    # The coach's relationship still points at the one, now usable, invitation.
    assert CoachingRelationship.objects.get().invitation == invitation
    assert AuditEvent.objects.filter(action="invitation.approved", actor=hr_admin).exists()


def test_an_expired_invitation_is_history_and_a_new_one_is_sent(
    hr_client, hr_admin, organisation, django_capture_on_commit_callbacks
):
    _hr_invites(hr_client, django_capture_on_commit_callbacks)
    with time_machine.travel(timezone.now() + timedelta(days=30)):
        hr_client.force_login(hr_admin)
        response = _hr_invites(hr_client, django_capture_on_commit_callbacks)

        assert "Invitation sent to ivy@example.com." in text(response)
        statuses = sorted(i.status for i in Invitation.objects.all())
    assert statuses == [Invitation.Status.EXPIRED, Invitation.Status.PENDING]


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


def test_a_members_second_request_for_an_outside_address_still_waits_for_hr(
    coach, organisation, mailoutbox, django_capture_on_commit_callbacks
):
    """Asking twice is not approval: one row, still waiting, no email, no usable link."""
    from accounts.services import invitation_create

    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            invitation, token = invitation_create(
                organisation=organisation,
                email="friend@elsewhere.test",
                team=None,
                role=Membership.Role.MEMBER,
                invited_by=coach,
                site_url="https://rapport.example",
            )

    assert token == ""
    assert Invitation.objects.get() == invitation and invitation.is_awaiting_approval
    assert mailoutbox == []


def test_attack_the_status_pill_is_empty(
    hr_client, organisation, django_capture_on_commit_callbacks
):
    """The template called get_status_display on a property: every pill was blank."""
    _hr_invites(hr_client, django_capture_on_commit_callbacks)
    invitation = Invitation.objects.get()
    InvitationFactory(organisation=organisation, email="gone@example.com", token="gone")
    Invitation.objects.filter(email="gone@example.com").update(revoked_at=timezone.now())

    page = hr_client.get(reverse("organisation")).content.decode()

    assert re.search(r'class="badge badge-pending">\s*Pending\s*<', page), invitation.status
    assert re.search(r'class="badge badge-revoked">\s*Revoked\s*<', page)
