"""The page frame (templates/base.html, accounts/frame.py): the membership and the
due check-ins badge in one query, run once per request, and a badge that counts
exactly the check-ins the home page lists."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from privacy import rls
from reflections.selectors import due_checkins
from relationships.models import CoachingRelationship
from tests.factories import (
    CheckInResponseFactory,
    CheckInRoundFactory,
    MembershipFactory,
    RelationshipFactory,
    UserFactory,
)

# A signed-in request on PostgreSQL says who is asking, and clears it after.
ROW_SECURITY_QUERIES = 2 if rls.enforced() else 0
BADGE = re.compile(
    r'<span class="nav-badge">(\d+)<span class="visually-hidden"> check-ins? due</span></span>'
)


def _badge(client) -> int:
    """The number in the navigation's badge (0 when there is none)."""
    body = client.get(reverse("journal")).content.decode()
    found = BADGE.findall(body)
    assert len(found) <= 1
    return int(found[0]) if found else 0


def _frame_queries(captured) -> list[str]:
    return [
        q["sql"]
        for q in captured.captured_queries
        if "accounts_membership" in q["sql"] or "reflections_checkinround" in q["sql"]
    ]


@pytest.mark.urls("tests.frame_urls")
def test_the_frame_costs_one_query_over_the_session_and_the_user(
    coach_client, relationship, django_assert_num_queries
):
    CheckInRoundFactory(relationship=relationship)
    coach_client.get("/test/frame-only/")  # whatever is cached once per process

    # The session, the user, and the frame's one query (membership and badge); on
    # PostgreSQL also who is asking, set and then cleared (privacy/rls.py).
    with django_assert_num_queries(3 + ROW_SECURITY_QUERIES):
        body = coach_client.get("/test/frame-only/").content.decode()

    assert BADGE.findall(body) == ["1"]
    assert ">Relationships" in body


@pytest.mark.urls("tests.frame_urls")
def test_the_frame_of_someone_without_an_organisation_costs_one_query(
    client, db, django_assert_num_queries
):
    client.force_login(UserFactory())
    client.get("/test/frame-only/")
    with django_assert_num_queries(3 + ROW_SECURITY_QUERIES):
        body = client.get("/test/frame-only/").content.decode()

    assert ">Relationships" not in body
    assert "nav-badge" not in body


def test_the_home_page_asks_for_the_membership_and_the_due_list_once(coach_client, relationship):
    CheckInRoundFactory(relationship=relationship)
    with CaptureQueriesContext(connection) as captured:
        body = coach_client.get(reverse("home")).content.decode()

    # One query for the membership (the home view's count goes to the frame), one for
    # the due list; neither is asked again by the frame.
    assert len(_frame_queries(captured)) == 2
    assert BADGE.findall(body) == ["1"]
    assert "Check in with Sam Coachee" in body


@pytest.mark.parametrize("who", ["coach", "coachee"])
def test_the_badge_counts_what_the_home_page_lists(who, organisation, client):
    person = MembershipFactory(organisation=organisation).user
    client.force_login(person)
    today = timezone.localdate()

    def relationship_with_someone(**kwargs):
        someone = MembershipFactory(organisation=organisation).user
        sides = {"coach": person, "coachee": someone}
        if who == "coachee":
            sides = {"coach": someone, "coachee": person}
        return RelationshipFactory(organisation=organisation, **sides, **kwargs), someone

    # Open, nobody answered: due.
    first, _ = relationship_with_someone()
    CheckInRoundFactory(relationship=first)
    # Open, the other person answered: still due.
    second, someone = relationship_with_someone()
    CheckInResponseFactory(round=CheckInRoundFactory(relationship=second), respondent=someone)
    # Open, the person answered: not due.
    third, _ = relationship_with_someone()
    CheckInResponseFactory(round=CheckInRoundFactory(relationship=third), respondent=person)
    # Closed early, and past its closing day: not due.
    fourth, _ = relationship_with_someone()
    CheckInRoundFactory(relationship=fourth, closed_at=timezone.now() - timedelta(hours=1))
    fifth, _ = relationship_with_someone()
    CheckInRoundFactory(relationship=fifth, opens_on=today - timedelta(days=14))
    # A relationship that ended, and one still waiting for an answer: not due.
    ended, _ = relationship_with_someone(status=CoachingRelationship.Status.ENDED)
    CheckInRoundFactory(relationship=ended)
    invited, _ = relationship_with_someone(status=CoachingRelationship.Status.INVITED)
    CheckInRoundFactory(relationship=invited)

    assert _badge(client) == len(due_checkins(person)) == 2

    # The second relationship ends: its open round is no longer due.
    second.status = CoachingRelationship.Status.ENDED
    second.save(update_fields=["status"])
    assert _badge(client) == len(due_checkins(person)) == 1


def test_no_badge_when_nothing_is_due(coach_client, coach):
    assert _badge(coach_client) == len(due_checkins(coach)) == 0


@pytest.mark.parametrize(
    ("url_name", "current"),
    [
        ("home", "Home"),
        ("relationship_list", "Relationships"),
        ("journal", "Journal"),
        ("profile", "Account"),
    ],
)
def test_the_navigation_marks_the_current_section(coach_client, url_name, current):
    body = coach_client.get(reverse(url_name)).content.decode()
    navigation = body.split('<nav class="main-nav"', 1)[1].split("</nav>", 1)[0]
    marked = re.findall(r'aria-current="page">([^<]+)', navigation)
    assert marked == [current]


# --- request.page_frame: the frame's membership, shared by any view ---------------------


def test_hr_insights_read_the_membership_the_frame_shows(hr_client):
    with CaptureQueriesContext(connection) as captured:
        response = hr_client.get(reverse("insights_dashboard"))

    assert response.status_code == 200
    # One membership query for the page and its frame, not one each.
    membership = [q for q in captured.captured_queries if "accounts_membership" in q["sql"]]
    assert len(membership) == 1


def test_hr_insights_are_still_not_there_for_anyone_else(coach_client, client):
    assert coach_client.get(reverse("insights_dashboard")).status_code == 404
    # Signed in, but in no organisation: no membership at all.
    client.force_login(UserFactory())
    assert client.get(reverse("insights_dashboard")).status_code == 404


# --- config.prepared: reads compiled once per process, run with each request's values --


def test_a_prepared_read_is_each_persons_own(organisation):
    """The SQL is compiled once, with stand-ins: each person (and each moment) still
    gets exactly the rows, in the order and with the annotations, the QuerySet gives."""
    from accounts.models import User
    from config.prepared import Moment, PreparedRead, Row
    from reflections.selectors import _due_checkins_query
    from relationships.selectors import _relationships_for, _relationships_for_query

    people = [MembershipFactory(organisation=organisation).user for _ in range(3)]
    first = RelationshipFactory(organisation=organisation, coach=people[0], coachee=people[1])
    second = RelationshipFactory(organisation=organisation, coach=people[1], coachee=people[2])
    CheckInRoundFactory(relationship=first)
    answered = CheckInRoundFactory(relationship=second)
    CheckInResponseFactory(round=answered, respondent=people[2])
    now = timezone.now()

    def relationships(rows):
        return [(r.pk, r.coach.name, r.session_count, r.open_item_count) for r in rows]

    for person in people:
        expected = list(_due_checkins_query(person, now))
        got = due_checkins(person)
        assert [d.round for d in got] == expected
        assert [d.they_answered for d in got] == [r.they_answered for r in expected]
        assert relationships(_relationships_for(person=person)) == relationships(
            _relationships_for_query(person)
        )
    assert [(d.round, d.they_answered) for d in due_checkins(people[1])] == [
        (r, r == answered) for r in _due_checkins_query(people[1], now)
    ]
    # The moment is the request's own: a month on, every round has closed.
    read = PreparedRead(_due_checkins_query, person=Row(User), moment=Moment())
    assert len(read(person=people[1], moment=now)) == 2
    assert read(person=people[1], moment=now + timedelta(days=30)) == []


def test_a_prepared_read_refuses_a_value_it_cannot_find(db):
    """A value folded into the SQL text (or changed on its way to a parameter) cannot
    be swapped per request: the read refuses rather than run someone else's SQL."""
    from accounts.models import Membership, User
    from config.prepared import PreparedRead, Row

    folded = PreparedRead(
        lambda person: Membership.objects.filter(user__email=f"{person.pk}@example.com"),
        person=Row(User),
    )
    with pytest.raises(RuntimeError):
        folded(person=UserFactory())


def test_a_prepared_read_refuses_a_value_taken_from_the_readers_time_zone(db):
    """A value the QuerySet takes from the active time zone (here the day a session was
    logged, in the reader's zone) is the first reader's, not a stand-in's: the read
    refuses rather than freeze it into the SQL for everyone after."""
    from django.db.models.functions import TruncDate

    from accounts.models import User
    from config.prepared import PreparedRead, Row
    from relationships.models import CoachingSession

    by_day = PreparedRead(
        lambda person: CoachingSession.objects.filter(created_by=person).annotate(
            day=TruncDate("created_at")
        ),
        person=Row(User),
    )
    with timezone.override("Europe/London"), pytest.raises(RuntimeError):
        by_day(person=UserFactory())
