import re
from collections import Counter

import pytest
from django.core.management import call_command
from django.urls import reverse

from accounts.demo import DEMO_PASSWORD
from accounts.models import Membership, Organisation, User
from reflections.dimensions import DIMENSION_KEYS
from reflections.models import CheckInResponse, CheckInRound, Reflection
from relationships.models import ActionItem, CoachingRelationship, CoachingSession, Note

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _as_in_the_demo(settings):
    """The demo's settings: its printed logins reach every page without setting up MFA."""
    settings.RAPPORT_PRIVILEGED_MFA = False


def test_demo_seeds_once_and_keeps_data_on_the_second_run(capsys):
    call_command("demo", no_serve=True)
    first = capsys.readouterr().out
    User.objects.filter(email="sam@example.com").update(display_name="Sam (edited)")

    call_command("demo", no_serve=True)
    second = capsys.readouterr().out

    assert "Seeded the demo organisation." in first
    assert "hana.hr@example.com" in first and DEMO_PASSWORD in first
    assert "already there; keeping its data" in second
    assert Organisation.objects.count() == 1
    assert User.objects.get(email="sam@example.com").display_name == "Sam (edited)"
    roles = Membership.objects.values_list("role", flat=True)
    assert list(roles).count(Membership.Role.HR_ADMIN) == 1
    assert Membership.objects.filter(team__name="Product").count() == 7
    assert Membership.objects.filter(team__name="Operations").count() == 7
    assert Membership.objects.filter(team__name="Legal").count() == 2


def test_a_demo_login_signs_in(client):
    call_command("demo", no_serve=True)

    response = client.post(
        reverse("account_login"), {"login": "hana.hr@example.com", "password": DEMO_PASSWORD}
    )

    assert response.status_code == 302
    assert client.get(reverse("organisation")).status_code == 200


def test_the_demo_has_six_months_of_coaching(client):
    call_command("demo", no_serve=True)

    sessions = CoachingSession.objects.all()
    oldest, newest = min(s.held_on for s in sessions), max(s.held_on for s in sessions)
    assert (newest - oldest).days >= 170
    statuses = set(CoachingRelationship.objects.values_list("status", flat=True))
    assert {"active", "invited", "paused"} <= statuses
    assert Note.objects.filter(visibility="private").exists()
    assert Note.objects.filter(visibility="shared").exists()
    assert ActionItem.objects.filter(done_at__isnull=False).exists()
    assert ActionItem.objects.filter(done_at__isnull=True).exists()

    client.post(reverse("account_login"), {"login": "sam@example.com", "password": DEMO_PASSWORD})
    page = client.get(reverse("relationship_list"))
    assert "Alex Morgan" in page.content.decode()


def test_the_demo_has_months_of_check_ins_with_believable_trends():
    call_command("demo", no_serve=True)

    def overall(email, respondent_side):
        relationship = CoachingRelationship.objects.get(coachee__email=email)
        respondent = getattr(relationship, respondent_side)
        rounds = CheckInRound.objects.filter(relationship=relationship).order_by("opens_on")
        values = [
            sum(getattr(r, k) for k in DIMENSION_KEYS) / 6
            for rnd in rounds
            for r in rnd.responses.filter(respondent=respondent)
        ]
        return values[:3], values[-3:]

    first, last = overall("sam@example.com", "coachee")
    assert sum(last) / 3 > sum(first) / 3 + 1, "Sam's trust in Alex grows"
    coach_first, coach_last = overall("kim@example.com", "coach")
    kim_first, kim_last = overall("kim@example.com", "coachee")
    assert (sum(coach_last) - sum(kim_last)) > (sum(coach_first) - sum(kim_first)) + 1.5
    span = CheckInRound.objects.order_by("opens_on")
    assert (span.last().opens_on - span.first().opens_on).days >= 150
    assert CheckInRound.objects.filter(closed_at__isnull=True).exists(), "one is open now"


def test_the_demo_coach_has_a_private_journal_and_monthly_self_checks(client):
    call_command("demo", no_serve=True)
    client.post(
        reverse("account_login"), {"login": "alex.coach@example.com", "password": DEMO_PASSWORD}
    )

    journal = client.get(reverse("journal")).content.decode()
    integrity = client.get(reverse("integrity")).content.decode()

    assert "Count to five before filling the silence." in journal
    assert integrity.count("<circle") >= 7
    client.post(reverse("account_logout"))
    client.post(reverse("account_login"), {"login": "sam@example.com", "password": DEMO_PASSWORD})
    assert "Count to five" not in client.get(reverse("journal")).content.decode()


def test_the_demo_dashboard_shows_some_cells_and_suppresses_others(client):
    call_command("demo", no_serve=True)
    client.post(
        reverse("account_login"), {"login": "hana.hr@example.com", "password": DEMO_PASSWORD}
    )

    page = client.get(reverse("insights_dashboard")).content.decode()

    assert "people)" in page, "some cells are shown, with their group size"
    assert "Not shown: fewer than 5 responses" in page
    assert "counted under “Other teams”" in page


def _first_name(user) -> str:
    return user.display_name.split()[0]


def _people_named(text: str, names: set[str]) -> set[str]:
    return {name for name in names if re.search(rf"\b{re.escape(name)}\b", text)}


def test_every_seeded_text_names_only_people_in_its_relationship():
    """A journal entry by Alex about "Kim's trust in me", when Kim is Priya's coachee,
    tells a new user the demo makes no sense. Every seeded text may name only the two
    people of its relationship; a private reflection, its author's own coachees or coach."""
    call_command("demo", no_serve=True)
    everyone = {_first_name(user) for user in User.objects.all()}

    def pair(relationship):
        return {_first_name(relationship.coach), _first_name(relationship.coachee)}

    texts = []  # (where, text, who may be named)
    relationships = CoachingRelationship.objects.select_related("coach", "coachee")
    for r in relationships:
        texts.append((f"purpose of {pair(r)}", r.purpose, pair(r)))
    for s in CoachingSession.objects.select_related("relationship__coach", "relationship__coachee"):
        texts.append(("session agenda", s.agenda, pair(s.relationship)))
        texts.append(("session summary", s.summary, pair(s.relationship)))
    for n in Note.objects.select_related("relationship__coach", "relationship__coachee"):
        texts.append(("note", n.body, pair(n.relationship)))
    for a in ActionItem.objects.select_related("relationship__coach", "relationship__coachee"):
        texts.append(("action item", a.text, pair(a.relationship)))
    for c in CheckInResponse.objects.select_related(
        "round__relationship__coach", "round__relationship__coachee"
    ):
        texts.append(("check-in comment", c.comment, pair(c.round.relationship)))
    for entry in Reflection.objects.select_related("author", "relationship__coachee"):
        own = [r for r in relationships if entry.author in (r.coach, r.coachee)]
        allowed = set().union({_first_name(entry.author)}, *(pair(r) for r in own))
        if entry.relationship is not None:
            assert entry.relationship in own, "a reflection is about the author's relationship"
            allowed = pair(entry.relationship) | {
                _first_name(r.coachee) for r in own if r.coach == entry.author
            }
        texts.append((f"reflection by {entry.author.display_name}", entry.body, allowed))

    wrong = [
        (where, text, sorted(_people_named(text, everyone) - allowed))
        for where, text, allowed in texts
        if _people_named(text, everyone) - allowed
    ]
    assert len(texts) > 500
    assert any("Kim" in text for _where, text, _ in texts), "the check reads decrypted text"
    assert wrong == []


def test_demo_sessions_start_by_recasting_the_past_and_rarely_fall_under_other():
    call_command("demo", no_serve=True)

    focuses = Counter(CoachingSession.objects.values_list("focus", flat=True))
    for relationship in CoachingRelationship.objects.exclude(status="invited"):
        first = relationship.sessions.order_by("held_on").first()
        assert first.focus == CoachingSession.Focus.RECAST_THE_PAST
    assert focuses[CoachingSession.Focus.OTHER] < 0.15 * focuses.total()
    assert focuses[CoachingSession.Focus.MASTER_THE_MOMENT] > 0.3 * focuses.total()
    assert focuses[CoachingSession.Focus.CO_CREATE_THE_FUTURE] > 0.3 * focuses.total()
