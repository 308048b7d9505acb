import pytest
from django.urls import reverse

from accounts.models import Membership, Team
from tests.factories import HRAdminMembershipFactory, MembershipFactory, TeamFactory
from tests.helpers import text

pytestmark = pytest.mark.django_db


def test_hr_admin_sees_members_teams_and_invitations(hr_client, member, team):
    response = hr_client.get(reverse("organisation"))

    page = text(response)
    assert response.status_code == 200
    assert member.email in page
    assert "Platform" in page
    assert "no-store" in response["Cache-Control"]


@pytest.mark.parametrize("url_name", ["organisation"])
def test_organisation_page_is_a_404_for_members(member_client, url_name):
    assert member_client.get(reverse(url_name)).status_code == 404


@pytest.mark.parametrize("url_name", ["organisation_settings", "team_create", "invitation_create"])
def test_organisation_writes_are_a_404_for_members(member_client, organisation, url_name):
    response = member_client.post(reverse(url_name), {"team-name": "Sneaky", "org-name": "Mine"})

    assert response.status_code == 404
    organisation.refresh_from_db()
    assert organisation.name == "Acme Coaching"
    assert not Team.objects.filter(name="Sneaky").exists()


def test_hr_admin_creates_a_team_and_duplicates_are_explained(hr_client, organisation):
    hr_client.post(reverse("team_create"), {"team-name": "Design"})
    response = hr_client.post(reverse("team_create"), {"team-name": "design"})

    assert list(organisation.teams.values_list("name", flat=True)) == ["Design"]
    assert "There is already a team called “design”." in text(response)


def test_hr_admin_puts_a_member_in_a_team(hr_client, member, team):
    membership = member.membership
    response = hr_client.post(
        reverse("membership_update", args=[membership.public_id]),
        {"team": team.public_id, "role": "member"},
    )

    assert response.status_code == 302
    membership.refresh_from_db()
    assert membership.team == team


def test_a_team_from_another_organisation_is_not_a_valid_choice(hr_client, member):
    foreign_team = TeamFactory()
    membership = member.membership

    response = hr_client.post(
        reverse("membership_update", args=[membership.public_id]),
        {"team": foreign_team.public_id, "role": "member"},
    )

    assert "Select a valid choice." in text(response)
    membership.refresh_from_db()
    assert membership.team is None


def test_the_last_hr_admin_cannot_step_down(hr_client, hr_admin):
    membership = hr_admin.membership
    response = hr_client.post(
        reverse("membership_update", args=[membership.public_id]), {"team": "", "role": "member"}
    )

    assert "An organisation needs at least one HR admin." in text(response)
    membership.refresh_from_db()
    assert membership.role == Membership.Role.HR_ADMIN


def test_an_hr_admin_can_step_down_when_another_remains(hr_client, hr_admin, organisation):
    HRAdminMembershipFactory(organisation=organisation)
    response = hr_client.post(
        reverse("membership_update", args=[hr_admin.membership.public_id]),
        {"team": "", "role": "member"},
    )

    assert response["Location"] == reverse("home")
    assert hr_client.get(reverse("organisation")).status_code == 404


def test_hr_admin_of_another_organisation_cannot_change_a_member(other_hr_client, member):
    membership = member.membership
    response = other_hr_client.post(
        reverse("membership_update", args=[membership.public_id]),
        {"team": "", "role": "hr_admin"},
    )

    assert response.status_code == 404
    membership.refresh_from_db()
    assert membership.role == Membership.Role.MEMBER


def test_other_organisations_page_shows_none_of_ours(other_hr_client, member, team):
    page = text(other_hr_client.get(reverse("organisation")))

    assert member.email not in page
    assert "Platform" not in page


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("2", "can't be below 3"),
        ("0", "can't be below 3"),
        ("-4", "can't be below 3"),
        ("lots", "Enter a whole number."),
        ("", "This field is required."),
    ],
)
def test_minimum_group_size_can_never_go_below_three(hr_client, organisation, value, message):
    response = hr_client.post(
        reverse("organisation_settings"), {"org-name": "Acme", "org-anonymity_threshold": value}
    )

    assert response.status_code == 200
    assert message in text(response)
    organisation.refresh_from_db()
    assert organisation.anonymity_threshold == 5


def test_hr_admin_raises_the_minimum_group_size(hr_client, organisation):
    hr_client.post(
        reverse("organisation_settings"), {"org-name": "Acme", "org-anonymity_threshold": "8"}
    )

    organisation.refresh_from_db()
    assert (organisation.name, organisation.anonymity_threshold) == ("Acme", 8)


def test_organisation_page_queries_do_not_grow_with_members(
    hr_client, organisation, team, django_assert_max_num_queries
):
    MembershipFactory.create_batch(3, organisation=organisation, team=team)
    hr_client.get(reverse("organisation"))  # the first request also records the session
    with django_assert_max_num_queries(12) as small:
        hr_client.get(reverse("organisation"))
    MembershipFactory.create_batch(30, organisation=organisation, team=team)
    with django_assert_max_num_queries(len(small.captured_queries)):
        hr_client.get(reverse("organisation"))


def test_a_team_made_with_htmx_is_offered_in_the_invitation_form_at_once(hr_client):
    response = hr_client.post(
        reverse("team_create"), {"team-name": "Research"}, headers={"HX-Request": "true"}
    )

    page = response.content.decode()
    assert 'id="people"' in page
    invitations = page[page.index('id="invitations"') :]
    assert 'hx-swap-oob="true"' in page[page.index('<section id="invitations"') :][:200]
    assert ">Research</option>" in invitations
    assert page.count("Team “Research” created.") == 1, "the message is said once"
