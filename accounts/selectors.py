from allauth.mfa.models import Authenticator
from django.core.paginator import Paginator
from django.db.models import Count, Q

from accounts.models import Invitation, Membership, Organisation
from config.access import scoped_get_or_404

# Members on one page of the organisation page: each row holds two selects and buttons
# (about 110 px on a desktop, 180 px on a phone), so a page of 25 was barely shorter than
# the whole demo organisation; 10 keeps the page short and searching does the rest.
MEMBERS_PER_PAGE = 10


def hr_membership_or_404(request) -> Membership:
    """The HR admin's own membership; anyone else gets a 404, as if the page did not exist."""
    return scoped_get_or_404(
        request,
        Membership.objects.select_related("organisation"),
        user=request.user,
        role=Membership.Role.HR_ADMIN,
    )


def membership_of(user) -> Membership | None:
    return Membership.objects.select_related("organisation", "team").filter(user=user).first()


def organisation_overview(organisation: Organisation) -> dict:
    """What the organisation page shows, in a fixed number of queries."""
    members = (
        Membership.objects.filter(organisation=organisation)
        .select_related("user", "team")
        .order_by("user__display_name", "user__email")
    )
    teams = organisation.teams.annotate(member_count=Count("memberships"))
    invitations = Invitation.objects.filter(organisation=organisation).select_related(
        "team", "invited_by"
    )[:50]
    return {"members": members, "teams": teams, "invitations": invitations}


def organisation_members(
    organisation: Organisation,
    *,
    search: str = "",
    team=None,
    no_team: bool = False,
    role: str = "",
    active: bool | None = None,
    page=1,
    per_page: int = MEMBERS_PER_PAGE,
):
    """One page of the organisation's members, searched (name or email) and filtered:
    a count and a page, whatever the number of members."""
    members = Membership.objects.filter(organisation=organisation).select_related("user", "team")
    if search:
        members = members.filter(
            Q(user__display_name__icontains=search) | Q(user__email__icontains=search)
        )
    if no_team:
        members = members.filter(team__isnull=True)
    elif team is not None:
        members = members.filter(team=team)
    if role:
        members = members.filter(role=role)
    if active is not None:
        members = members.filter(user__is_active=active)
    members = members.order_by("user__display_name", "user__email", "pk")
    # get_page: a page number that is not a number, or past the end, shows a real page.
    return Paginator(members, per_page).get_page(page)


def passkey_count(user) -> int:
    return Authenticator.objects.filter(user=user, type=Authenticator.Type.WEBAUTHN).count()
