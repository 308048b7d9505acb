"""The demo organisation that `manage.py demo` seeds. Later features add their
data here, so the demo always shows the whole product."""

from allauth.account.models import EmailAddress
from django.db import transaction

from accounts.models import Membership, Organisation, Team, User

DEMO_SLUG = "northwind-demo"
DEMO_PASSWORD = "rapport-demo"  # noqa: S105 - printed for the local demo only

# (email, display name, team, role, what they do in the demo)
DEMO_PEOPLE = [
    ("hana.hr@example.com", "Hana Rahman", None, Membership.Role.HR_ADMIN, "HR admin"),
    ("alex.coach@example.com", "Alex Morgan", "Product", Membership.Role.MEMBER, "coach"),
    ("priya.coach@example.com", "Priya Shah", "Operations", Membership.Role.MEMBER, "coach"),
    ("sam@example.com", "Sam Lee", "Product", Membership.Role.MEMBER, "coachee"),
    ("jordan@example.com", "Jordan Blake", "Product", Membership.Role.MEMBER, "coachee"),
    ("kim@example.com", "Kim Osei", "Operations", Membership.Role.MEMBER, "coachee"),
    ("robin@example.com", "Robin Park", "Operations", Membership.Role.MEMBER, "coachee"),
]


# More colleagues, so HR's anonymous trends have groups large enough to show (and a
# small team whose figures stay folded away).
EXTRA_TEAMS = {"Engineering": 10, "Product": 4, "Operations": 4, "Legal": 2}
FIRST_NAMES = [
    "Ada",
    "Ben",
    "Chloe",
    "Dev",
    "Elif",
    "Femi",
    "Grace",
    "Hugo",
    "Ines",
    "Jon",
    "Kai",
    "Lena",
    "Mo",
    "Nia",
    "Omar",
    "Pia",
    "Quinn",
    "Rosa",
    "Sol",
    "Tess",
]


def demo_logins() -> list[tuple[str, str, str]]:
    return [(email, DEMO_PASSWORD, what) for email, _name, _team, _role, what in DEMO_PEOPLE]


@transaction.atomic
def seed_demo() -> Organisation | None:
    """Create the demo organisation and its people unless it exists; returns it when
    it was created now, so other apps can add their part."""
    if Organisation.objects.filter(slug=DEMO_SLUG).exists():
        return None
    organisation = Organisation.objects.create(
        name="Northwind (demo)", slug=DEMO_SLUG, email_domains="example.com"
    )
    teams = {
        name: Team.objects.create(organisation=organisation, name=name)
        for name in ("Product", "Operations")
    }
    for email, name, team, role, _what in DEMO_PEOPLE:
        user = User.objects.create_user(email=email, password=DEMO_PASSWORD, display_name=name)
        EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
        Membership.objects.create(
            user=user, organisation=organisation, team=teams.get(team), role=role
        )
    names = iter(FIRST_NAMES)
    for team_name, size in EXTRA_TEAMS.items():
        team = teams.get(team_name) or Team.objects.create(
            organisation=organisation, name=team_name
        )
        teams[team_name] = team
        for _ in range(size):
            first = next(names)
            email = f"{first.lower()}@example.com"
            user = User.objects.create_user(
                email=email, password=DEMO_PASSWORD, display_name=f"{first} {team_name[0]}."
            )
            EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
            Membership.objects.create(user=user, organisation=organisation, team=team)
    return organisation
