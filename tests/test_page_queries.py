"""Every page the benchmark drives (bench/, docs/performance.md) runs a fixed number of
queries, at most 12, whatever the data size: counted with one unit of history and
again with ten."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from reflections import rollups
from reflections.models import CheckInResponse
from tests.factories import (
    ActionItemFactory,
    CheckInResponseFactory,
    CheckInRoundFactory,
    MembershipFactory,
    NoteFactory,
    ReflectionFactory,
    RelationshipFactory,
    ScheduledSessionFactory,
    SessionFactory,
    TeamFactory,
)
from tests.helpers import queries_of

QUERY_BUDGET = 12


class History:
    """Grows a coach's history a unit at a time: a session with notes and action items,
    a closed check-in round answered by both, a journal entry, and one more coachee
    in a team of their own (so HR's rollups grow too)."""

    def __init__(self, relationship):
        self.relationship = relationship
        self.units = 0

    def grow(self, times: int) -> None:
        relationship, organisation = self.relationship, self.relationship.organisation
        today = timezone.localdate()
        for _ in range(times):
            self.units += 1
            days_ago = 7 * self.units
            session = SessionFactory(
                relationship=relationship, held_on=today - timedelta(days=days_ago)
            )
            NoteFactory(relationship=relationship, session=session)
            NoteFactory(relationship=relationship, session=session, visibility="shared")
            NoteFactory(
                relationship=relationship,
                session=session,
                author=relationship.coachee,
                visibility="shared",
            )
            ActionItemFactory(
                relationship=relationship,
                session=session,
                owner="coach",
                due_on=today - timedelta(days=days_ago - 3),
                done_at=timezone.now() - timedelta(days=days_ago - 2),
            )
            ActionItemFactory(relationship=relationship, session=session)
            past_round = CheckInRoundFactory(
                relationship=relationship,
                opens_on=today - timedelta(days=days_ago),
                closed_at=timezone.now() - timedelta(days=days_ago - 7),
            )
            for respondent in (relationship.coach, relationship.coachee):
                CheckInResponseFactory(round=past_round, respondent=respondent)
            ReflectionFactory(author=relationship.coach, relationship=relationship)
            other = MembershipFactory(
                organisation=organisation, team=TeamFactory(organisation=organisation)
            ).user
            other_pair = RelationshipFactory(
                organisation=organisation, coach=relationship.coach, coachee=other
            )
            # Home's next sessions come from several relationships, and the page's next one.
            ScheduledSessionFactory(
                relationship=other_pair, starts_at=timezone.now() + timedelta(days=self.units)
            )
            ScheduledSessionFactory(
                relationship=relationship,
                starts_at=timezone.now() + timedelta(days=self.units, hours=1),
            )
        # Answers from past months, so HR's dashboard (closed months only) shows them.
        CheckInResponse.objects.filter(round__relationship=relationship).update(
            submitted_at=timezone.now() - timedelta(days=40)
        )
        rollups.rebuild(organisation)


def _pages(relationship, open_round):
    session = relationship.sessions.order_by("-held_on").first()
    rid = relationship.public_id
    return {
        "home": ("coach", reverse("home")),
        "my relationships": ("coach", reverse("relationship_list")),
        "relationship": ("coach", reverse("relationship_detail", args=[rid])),
        "session": ("coach", reverse("session_detail", args=[session.public_id])),
        "check-in form": ("coachee", reverse("checkin_detail", args=[open_round.public_id])),
        "trend chart": ("coachee", reverse("relationship_trend", args=[rid])),
        "reflection journal": ("coach", reverse("journal")),
        "my action items": ("coach", reverse("my_action_items")),
        "HR dashboard": ("hr", reverse("insights_dashboard")),
        "HR CSV export": ("hr", reverse("insights_export")),
    }


@pytest.mark.parametrize(
    "page_name",
    [
        "home",
        "my relationships",
        "relationship",
        "session",
        "check-in form",
        "trend chart",
        "reflection journal",
        "my action items",
        "HR dashboard",
        "HR CSV export",
    ],
)
def test_the_page_runs_a_fixed_number_of_queries(page_name, client, relationship, hr_admin):
    open_round = CheckInRoundFactory(relationship=relationship)
    history = History(relationship)
    history.grow(1)
    who, url = _pages(relationship, open_round)[page_name]
    people = {"coach": relationship.coach, "coachee": relationship.coachee, "hr": hr_admin}
    client.force_login(people[who])

    assert client.get(url).status_code == 200
    one = queries_of(client, url)
    history.grow(9)
    ten = queries_of(client, url)

    assert one <= QUERY_BUDGET
    assert ten == one, f"{page_name}: {one} queries with one unit of history, {ten} with ten"
