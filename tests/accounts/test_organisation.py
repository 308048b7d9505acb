import pytest
from django.urls import reverse

from accounts.models import Membership, Team
from accounts.selectors import MEMBERS_PER_PAGE
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
    # 13: the member list is one page of it (a count and the page's rows).
    with django_assert_max_num_queries(13) as small:
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


# --- Finding people: search, filters and pages, through the URL ------------------------


def _member(organisation, name, email, **kwargs):
    return MembershipFactory(
        organisation=organisation, user__display_name=name, user__email=email, **kwargs
    )


def test_attack_of_the_endless_list_search_finds_by_name_or_email(hr_client, organisation):
    _member(organisation, "Noor Haddad", "noor@acme.example")
    _member(organisation, "Kim Park", "kim.p@acme.example")
    _member(organisation, "Lee Chan", "lee@acme.example")

    by_name = text(hr_client.get(reverse("organisation"), {"q": "noor"}))
    by_email = text(hr_client.get(reverse("organisation"), {"q": "KIM.P@"}))

    assert "Noor Haddad" in by_name and "Kim Park" not in by_name and "Lee Chan" not in by_name
    assert "1 of 4 members matches." in by_name
    assert "Kim Park" in by_email and "Noor Haddad" not in by_email


def test_members_are_filtered_by_team_role_and_sign_in(hr_client, organisation, team):
    _member(organisation, "Tia Team", "tia@acme.example", team=team)
    _member(organisation, "Nia Noteam", "nia@acme.example")
    gone = _member(organisation, "Dee Parted", "dee@acme.example")
    gone.user.is_active = False
    gone.user.save()

    in_team = text(hr_client.get(reverse("organisation"), {"team": team.public_id}))
    no_team = text(hr_client.get(reverse("organisation"), {"team": "none", "role": "member"}))
    admins = text(hr_client.get(reverse("organisation"), {"role": "hr_admin"}))
    deactivated = text(hr_client.get(reverse("organisation"), {"active": "no"}))

    assert "Tia Team" in in_team and "Nia Noteam" not in in_team
    assert "Nia Noteam" in no_team and "Tia Team" not in no_team and "Harper HR" not in no_team
    assert "Harper HR" in admins and "Nia Noteam" not in admins
    assert "Dee Parted" in deactivated and "Nia Noteam" not in deactivated


def test_members_come_a_page_at_a_time_with_links_that_keep_the_filters(hr_client, organisation):
    for n in range(MEMBERS_PER_PAGE + 5):
        _member(organisation, f"Person {n:02}", f"p{n:02}@acme.example")

    first = hr_client.get(reverse("organisation"), {"q": "acme.example"})
    second = hr_client.get(reverse("organisation"), {"q": "acme.example", "page": "2"})

    assert text(first).count("@acme.example") == MEMBERS_PER_PAGE
    assert "Page 1 of 2" in text(first)
    assert 'href="?q=acme.example&amp;page=2#members"' in first.content.decode()
    assert text(second).count("@acme.example") == 5
    last = f"Person {MEMBERS_PER_PAGE + 4:02}"
    assert last in text(second) and "Person 00" not in text(second)


@pytest.mark.parametrize(
    ("query", "says"),
    [
        ({"team": "not-a-team"}, "Select a valid choice."),
        ({"role": "emperor"}, "Select a valid choice."),
        ({"active": "maybe"}, "Select a valid choice."),
        ({"q": "x" * 500}, "Ensure this value has at most 100 characters"),
        ({"page": "lots"}, "Page 1 of 2"),
        ({"page": "999"}, "Page 2 of 2"),
    ],
)
def test_attack_a_hand_made_filter_url_gets_a_page_and_a_reason_not_a_500(
    hr_client, organisation, query, says
):
    for n in range(MEMBERS_PER_PAGE + 5):
        _member(organisation, f"Person {n:02}", f"p{n:02}@acme.example")

    response = hr_client.get(reverse("organisation"), query)

    assert response.status_code == 200
    assert says in text(response)


def test_an_unknown_team_in_the_url_is_explained(hr_client, member):
    page = text(hr_client.get(reverse("organisation"), {"team": "not-a-team"}))

    assert "Select a valid choice." in page
    assert member.email in page, "the rest of the list still shows"


def test_with_htmx_the_search_swaps_only_the_member_list(hr_client, organisation):
    _member(organisation, "Noor Haddad", "noor@acme.example")

    response = hr_client.get(
        reverse("organisation"),
        {"q": "noor"},
        headers={"HX-Request": "true", "HX-Target": "member-results"},
    )

    page = response.content.decode()
    assert page.lstrip().startswith('<div id="member-results">')
    assert "Invite someone" not in page
    assert "Noor Haddad" in page and "Harper HR" not in page
    assert "HX-Target" in response["Vary"]


def test_the_search_form_works_without_javascript(hr_client):
    page = hr_client.get(reverse("organisation")).content.decode()

    form = page[page.index('<form class="inline-add member-filter"') :]
    form = form[: form.index("</form>")]
    assert 'method="get"' in form and 'name="q"' in form and 'type="submit"' in form
    assert 'hx-push-url="true"' in form


def test_saving_a_member_returns_to_the_same_filtered_list(hr_client, organisation, team):
    noor = _member(organisation, "Noor Haddad", "noor@acme.example")

    response = hr_client.post(
        reverse("membership_update", args=[noor.public_id]) + "?q=noor",
        {"team": team.public_id, "role": "member"},
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("organisation") + "?q=noor#members"


def test_filtered_member_list_queries_do_not_grow_with_members(
    hr_client, organisation, team, django_assert_max_num_queries
):
    MembershipFactory.create_batch(3, organisation=organisation, team=team)
    url = reverse("organisation") + f"?q=example&team={team.public_id}&page=1"
    hr_client.get(url)
    # 15: a filtered list also counts everyone, for "3 of 34 members match".
    with django_assert_max_num_queries(15) as small:
        hr_client.get(url)
    MembershipFactory.create_batch(30, organisation=organisation, team=team)
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = hr_client.get(url)
    assert text(response).count("@example.com") == MEMBERS_PER_PAGE


@pytest.mark.parametrize("name", ["Whole organisation", "other teams and people without a team"])
def test_attack_a_team_named_like_hrs_rows_is_refused(hr_client, organisation, name):
    """A team called "Whole organisation" collided with HR's own row label, and every
    month after silently failed to publish."""
    response = hr_client.post(reverse("team_create"), {"team-name": name})

    assert response.status_code == 200
    assert "is a name HR's trends use" in text(response)
    assert not organisation.teams.filter(name__iexact=name).exists()


def test_attack_searching_for_another_organisations_member_finds_nobody(hr_client, organisation):
    elsewhere = MembershipFactory(user__display_name="Olu Outsider", user__email="olu@other.test")

    page = text(hr_client.get(reverse("organisation"), {"q": "olu"}))

    assert elsewhere.user.name not in page and "olu@other.test" not in page
    assert "0 of" in page
