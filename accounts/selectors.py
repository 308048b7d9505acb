from django.db.models import Count

from accounts.models import Invitation, Membership, Organisation


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
