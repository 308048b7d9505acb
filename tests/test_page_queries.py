"""Every page the benchmark drives (bench/, docs/performance.md) runs a fixed number of
queries, at most 12, whatever the data size: counted with one unit of history and
again with ten."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from notifications.models import Notification
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
    TalkingPointFactory,
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
            # The next session's agenda grows by a point of each kind, and the coach is
            # told of each.
            upcoming = relationship.scheduled_sessions.order_by("starts_at").first()
            TalkingPointFactory(scheduled=upcoming)
            TalkingPointFactory(scheduled=upcoming, visibility="private")
            TalkingPointFactory(scheduled=upcoming, author=relationship.coachee)
            Notification.objects.create(
                recipient=relationship.coach,
                actor=relationship.coachee,
                kind=Notification.Kind.TALKING_POINT,
                verb="added a talking point",
                link="/",
                key=f"unit:{self.units}",
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
        "next session's agenda": (
            "coach",
            reverse("scheduled_detail", args=[relationship.scheduled_sessions.first().public_id]),
        ),
        "notifications": ("coach", reverse("notification_list")),
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
        "next session's agenda",
        "notifications",
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


def test_search_runs_a_fixed_number_of_queries(client, relationship):
    """Search reads each kind of text in one query, whatever the history's size."""
    CheckInRoundFactory(relationship=relationship)
    history = History(relationship)
    history.grow(1)
    client.force_login(relationship.coach)

    def searched() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.post(reverse("search"), {"q": "text"}).status_code == 200
        return len([q for q in captured.captured_queries if "SAVEPOINT" not in q["sql"]])

    one = searched()
    history.grow(9)
    assert searched() == one <= QUERY_BUDGET


def test_a_persons_data_export_runs_a_fixed_number_of_queries(client, relationship):
    """One read for each kind of thing a person has, however many they have (the
    harness's own cap for it, bench.__main__.MAX_EXPORT_QUERIES)."""
    from bench.__main__ import MAX_EXPORT_QUERIES

    CheckInRoundFactory(relationship=relationship)
    history = History(relationship)
    history.grow(1)
    client.force_login(relationship.coach)
    url = reverse("export_json")

    one = queries_of(client, url)
    history.grow(9)

    assert queries_of(client, url) == one <= MAX_EXPORT_QUERIES
