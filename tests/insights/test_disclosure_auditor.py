"""The disclosure auditor: can HR work out anything about fewer than k people?

Every figure HR is served (all months, the dashboard and the CSV, fetched through the
URLs with the test client) is a linear equation over individual respondents' own
per-month, per-dimension means: a cell's mean × its respondents = the sum of those
respondents' means (an "overall" cell averages the six dimension variables of each).
HR admins know their own answers, so their variables are known. HR can combine the
equations any way it likes. The auditor proves, with exact rational arithmetic
(fractions.Fraction and Gaussian elimination), that no combination isolates a group S
of fewer than k people who are not HR admins:

    dim(R ∩ V_{S∪HR}) == dim(R ∩ V_HR)

where R is the row space of the equations and V_X the coordinates of the people X.
Since dim(R ∩ V_X) = rank(A) − rank(A without X's columns), that is: dropping S's
columns (after HR's) never lowers the rank. A leak for S is a leak for every superset,
and months and perspectives share no variables, so it suffices to try, per month and
perspective, every set of k − 1 unknown respondents.

The organisations are random (hypothesis): team moves, joins, leavers, deactivations,
promotions and HR's own answers before and after each month is published, and a
`rebuild_insights` at the end. Each served figure is also checked against the exact
figure for the group it names, as it was at publication, so the equations are the
ones HR really has."""

import contextlib
import csv
import io
import os
import random
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from html.parser import HTMLParser
from itertools import combinations

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import transaction
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import Membership
from accounts.services import member_set_active, membership_update
from insights.models import Perspective
from privacy.services import account_delete
from reflections.dimensions import DIMENSION_KEYS, DIMENSIONS
from reflections.models import CheckInResponse, CheckInRound
from reflections.rollups import activity_publish_closed_month
from tests.factories import (
    HRAdminMembershipFactory,
    MembershipFactory,
    OrganisationFactory,
    RelationshipFactory,
    SessionFactory,
    TeamFactory,
)

pytestmark = pytest.mark.django_db

WHOLE = "Whole organisation"
OTHER = "Other teams and people without a team"
PERSPECTIVES = [p.value for p in (Perspective.COACHEE_ABOUT_COACH, Perspective.COACH_ABOUT_COACHEE)]
LABELS = {p.label: p.value for p in Perspective}
DIMS = len(DIMENSION_KEYS)

# --- The auditor: exact linear algebra, nothing about Rapport ---------------------------

# A variable: (block, person, dimension index); a block is (month, perspective).


def rank(rows: list[dict], dropped: set) -> int:
    """The rank over the rationals of sparse rows (column -> coefficient), leaving out
    the columns in `dropped`: Gaussian elimination to row echelon form, in Fractions."""
    basis: list[tuple] = []
    for row in rows:
        v = {c: Fraction(x) for c, x in row.items() if c not in dropped and x}
        for pivot, b in basis:
            factor = v.get(pivot)
            if factor:
                for c, x in b.items():
                    y = v.get(c, 0) - factor * x
                    if y:
                        v[c] = y
                    else:
                        v.pop(c, None)
        if v:
            pivot = min(v)
            scale = v[pivot]
            basis.append((pivot, {c: x / scale for c, x in v.items()}))
    return len(basis)


def leaks(equations: list[dict], known: dict, k: int) -> list[tuple]:
    """Every (block, S) where the equations isolate something about the people S, |S| < k,
    none of them known. `known[block]` are the people whose variables HR knows."""
    blocks: dict = {}
    for equation in equations:
        (block,) = {variable[0] for variable in equation}  # one month and perspective each
        blocks.setdefault(block, []).append(equation)
    found = []
    for block, rows in blocks.items():
        hr = known.get(block, set())
        variables = sorted({variable for row in rows for variable in row})
        # The rank of the rows without some columns is the rank of the distinct columns
        # left: people in the same cells have equal columns, so many S share one answer.
        column = {v: tuple(Fraction(row.get(v, 0)) for row in rows) for v in variables}
        memo: dict = {}

        def rank_without(people, column=column, variables=variables, memo=memo):
            left = frozenset(column[v] for v in variables if v[1] not in people)
            if left not in memo:
                memo[left] = rank([dict(enumerate(c)) for c in left], set())
            return memo[left]

        unknown = sorted({v[1] for v in variables} - hr)
        base = rank_without(hr)
        for group in combinations(unknown, min(k - 1, len(unknown))):
            if rank_without(hr | set(group)) < base:
                found.append((block, frozenset(group)))
    return found


def cell_equation(block, people, measure) -> dict:
    """A published mean as an equation: the sum of its respondents' own means of the
    dimension (or of all six, for "overall": the mean times six)."""
    if measure == "overall":
        return {(block, person, d): 1 for person in people for d in range(DIMS)}
    d = DIMENSION_KEYS.index(measure)
    return {(block, person, d): 1 for person in people}


# --- What HR is served, through the URLs ------------------------------------------------


class Tables(HTMLParser):
    """The text of every table cell, table by table, and the chart's marker titles."""

    def __init__(self):
        super().__init__()
        self.tables, self.titles = [], []
        self._cell = self._title = None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "title":
            self._title = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1][-1].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "title" and self._title is not None:
            self.titles.append("".join(self._title).strip())
            self._title = None

    def handle_data(self, data):
        for part in (self._cell, self._title):
            if part is not None:
                part.append(data)


def _parse(response) -> Tables:
    assert response.status_code == 200
    parser = Tables()
    parser.feed(response.content.decode())
    return parser


def _shown(text: str):
    """A dashboard cell: (mean, people) when shown, None when not shown or blank."""
    match = re.fullmatch(r"([\d.]+)(?: \((\d+) people\))?", text)
    if not match:
        assert text == "—" or text.startswith("Not shown"), text
        return None
    return match.group(1), match.group(2)


def _number(pair):
    """(mean, people) with the mean as a number: the page shows 3.50 where the CSV has 3.5."""
    return Decimal(pair[0]), pair[1]


def _month(text: str, pattern: str) -> str:
    return datetime.strptime(text, pattern).replace(tzinfo=UTC).strftime("%Y-%m")


def serve(client: Client, *, charts: tuple = ()) -> dict:
    """Fetch the CSV and the dashboard; check every figure on the page is the CSV's;
    return the CSV's figures: {(month, group, perspective, measure): (value, people, reason)}."""
    rows = list(csv.reader(io.StringIO(client.get(reverse("insights_export")).content.decode())))
    cells, activity = {}, {}
    for row in rows[2:]:
        if len(row) == 7:
            group, month, perspective, measure, value, people, reason = row
            assert bool(value) != bool(reason), "shown, or not shown with the reason"
            cells[(month, group, perspective, measure)] = (value, people, reason)
        elif len(row) == 4 and row[0] != "month":
            month, figure, value, reason = row
            assert not (value and reason)
            activity[(month, figure)] = (value, reason)
    page = _parse(client.get(reverse("insights_dashboard")))
    months_table, dimensions_table, *teams_table = page.tables
    latest = None
    for row in months_table[1:]:
        month = _month(row[0], "%B %Y")
        latest = latest or month
        for perspective, text in zip(PERSPECTIVES, row[1:3], strict=True):
            shown = _shown(text)
            if shown:
                assert _number(cells[(month, WHOLE, perspective, "overall")][:2]) == _number(shown)
        for figure, text in zip(
            ("check-in participation %", "active relationships", "sessions held"),
            row[4:7],
            strict=True,
        ):
            if text.startswith("Not shown") or text == "—":
                assert activity.get((month, figure), ("", ""))[0] == ""
            else:
                assert activity[(month, figure)][0] == text.rstrip("%")
    for row in dimensions_table[1:]:
        # The label, then its plain sentence.
        key = next(d.key for d in DIMENSIONS if row[0].startswith(d.label))
        for perspective, text in zip(PERSPECTIVES, row[1:3], strict=True):
            shown = _shown(text)
            if shown:
                assert Decimal(cells[(latest, WHOLE, perspective, key)][0]) == Decimal(shown[0])
    for table in teams_table:
        for row in table[1:]:
            for perspective, text in zip(PERSPECTIVES, row[1:3], strict=True):
                shown = _shown(text)
                if shown:
                    published = cells[(latest, row[0], perspective, "overall")][:2]
                    assert _number(published) == _number(shown)
    for key in charts:
        chart = _parse(client.get(reverse("insights_dashboard"), {"dimension": key}))
        for title in chart.titles:
            match = re.fullmatch(r"(.+), 1 (\w+ \d{4}): ([\d.]+)", title)
            if match:
                label, when, value = match.groups()
                month = _month(when, "%b %Y")
                assert cells[(month, WHOLE, LABELS[label], key)][0] == value
    return {"trust": cells, "activity": activity}


# --- The organisation, and the truth about it -------------------------------------------


def _rounded(value: Fraction, places: str = "0.01") -> Decimal:
    exact = Decimal(value.numerator) / Decimal(value.denominator)
    return exact.quantize(Decimal(places), rounding=ROUND_HALF_UP)


def _round2(value: Fraction) -> str:
    return str(float(_rounded(value)))


@dataclass
class Snapshot:
    """What was true when a month was published: who answered what (their own means),
    teams and HR admins, and each activity figure's people."""

    means: dict  # (perspective, person) -> tuple of six Fractions
    team: dict  # person -> team name or None
    hr: set
    activity: dict  # figure -> (value, people)


@dataclass
class World:
    organisation: object
    k: int
    people: dict = field(default_factory=dict)  # index -> user
    teams: list = field(default_factory=list)
    relationships: list = field(default_factory=list)
    answers: list = field(default_factory=list)  # (month, perspective, person, values, round)
    rounds: list = field(default_factory=list)  # (month, relationship, round)
    sessions: list = field(default_factory=list)  # (month, relationship)
    gone: set = field(default_factory=set)  # deleted accounts
    ended: dict = field(default_factory=dict)  # relationship pk -> when it ended
    published: dict = field(default_factory=dict)  # "YYYY-MM" -> Snapshot
    pairs: list = field(default_factory=list)  # (coach, coachee, relationship)
    plan: dict = field(default_factory=dict)
    rng: random.Random = field(default_factory=random.Random)

    def membership(self, person):
        return Membership.objects.filter(user=self.people[person]).first()

    def snapshot(self, month: date) -> Snapshot:
        start = datetime.combine(month, time.min, tzinfo=UTC)
        end = datetime.combine((month + timedelta(days=32)).replace(day=1), time.min, tzinfo=UTC)
        team, hr = {}, set()
        for person, user in self.people.items():
            membership = self.membership(person)
            team[user.pk] = membership.team.name if membership and membership.team else None
            if membership and membership.role == Membership.Role.HR_ADMIN:
                hr.add(user.pk)
        sums: dict = {}
        for when, perspective, person, values, _round in self.answers:
            if when == month and person not in self.gone:
                total, count = sums.get((perspective, person), ((0,) * DIMS, 0))
                sums[(perspective, person)] = (
                    tuple(a + b for a, b in zip(total, values, strict=True)),
                    count + 1,
                )
        means = {
            (perspective, self.people[person].pk): tuple(Fraction(s, n) for s in total)
            for (perspective, person), (total, n) in sums.items()
        }

        def parties(relationships):
            return {u for r in relationships for u in (r.coach_id, r.coachee_id)} - hr

        due = [r for m, r, _ in self.rounds if m == month]
        answered = sum(
            1 for m, _p, person, _v, _r in self.answers if m == month and person not in self.gone
        )
        active = [
            r
            for r in self.relationships
            if r.accepted_at < end and self.ended.get(r.pk, end) >= start
        ]
        held = [r for m, r in self.sessions if m == month]
        return Snapshot(
            means,
            team,
            hr,
            {
                "check-in participation %": (
                    int(_rounded(Fraction(100 * answered, 2 * len(due)), "1")) if due else None,
                    parties(due),
                ),
                "active relationships": (len(active), parties(active)),
                "sessions held": (len(held), parties(held)),
            },
        )


def audit(world: World, served: list[dict]) -> list[tuple]:
    """Check every served figure against the truth at its publication, that published
    months never change, and return what the equations leak."""
    for earlier, later in zip(served, served[1:], strict=False):
        for key in ("trust", "activity"):
            for cell, figure in earlier[key].items():
                assert later[key].get(cell) == figure, f"{cell} changed after publication"
    equations, known = [], {}
    cells = {cell: figure for s in served for cell, figure in s["trust"].items()}
    for (month, figure), (value, reason) in served[-1]["activity"].items():
        truth_value, people = world.published[month].activity[figure]
        if value:
            assert len(people) >= world.k, f"{month} {figure} is about {len(people)} people"
            assert int(value) == truth_value
        else:
            assert reason == f"fewer than {world.k} people outside HR" or truth_value is None
    for month, truth in world.published.items():
        labels = {g for (m, g, _p, _d) in cells if m == month} - {WHOLE, OTHER}
        for perspective in PERSPECTIVES:
            block = (month, perspective)
            known[block] = truth.hr
            respondents = {p: m for (side, p), m in truth.means.items() if side == perspective}
            for (m, group, side, measure), (value, people, _reason) in cells.items():
                if (m, side) != block or not value:
                    continue
                members = [
                    p
                    for p in respondents
                    if group == WHOLE
                    or truth.team[p] == group
                    or (group == OTHER and truth.team[p] not in labels)
                ]
                if measure == "overall":
                    exact = sum(sum(respondents[p]) / DIMS for p in members) / len(members)
                else:
                    d = DIMENSION_KEYS.index(measure)
                    exact = sum(respondents[p][d] for p in members) / len(members)
                assert (value, int(people)) == (_round2(exact), len(members)), (m, group, measure)
                equations.append(cell_equation(block, members, measure))
    return leaks(equations, known, world.k)


# --- Random organisations ---------------------------------------------------------------

SEPTEMBER, OCTOBER = date(2026, 9, 1), date(2026, 10, 1)
EVENT = st.one_of(
    st.tuples(st.just("move"), st.integers(1, 11), st.integers(-1, 2)),
    st.tuples(st.just("leave"), st.integers(1, 11), st.just(0)),
    st.tuples(st.just("deactivate"), st.integers(1, 11), st.just(0)),
    st.tuples(st.just("promote"), st.integers(1, 11), st.just(0)),
    st.tuples(st.just("join"), st.integers(0, 11), st.integers(-1, 2)),
)


LIKELY = st.sampled_from([True, True, True, False])
MAX_PAIRS = 12


@st.composite
def organisations(draw):
    size = draw(st.integers(6, 12))
    team_count = draw(st.integers(1, 3))
    return {
        "k": draw(st.sampled_from([3, 3, 4])),
        # Mostly in teams, so several teams get rows of their own.
        "teams": [draw(st.sampled_from([*range(team_count)] * 3 + [-1])) for _ in range(size)],
        "hr": draw(st.sets(st.integers(1, size - 1), max_size=1)),
        "team_count": team_count,
        # (coach, coachee): person 0 is the HR admin who reads the dashboard, and answers.
        "pairs": draw(
            st.sets(
                st.tuples(st.integers(0, size - 1), st.integers(0, size - 1)).filter(
                    lambda p: p[0] != p[1]
                ),
                min_size=4,
                max_size=10,
            )
        )
        | {(1, 0)},
        # Per relationship and month: how many rounds, and whether coach and coachee answer.
        "answers": draw(
            st.lists(
                st.tuples(st.integers(1, 2), LIKELY, LIKELY),
                min_size=2 * MAX_PAIRS,
                max_size=2 * MAX_PAIRS,
            )
        ),
        "events": [draw(st.lists(EVENT, max_size=3)) for _ in range(3)],
        "seed": draw(st.integers(0, 2**16)),
    }


def _build(plan) -> World:
    rng = random.Random(plan["seed"])  # noqa: S311 - test data
    organisation = OrganisationFactory(anonymity_threshold=plan["k"])
    world = World(organisation, plan["k"], plan=plan, rng=rng)
    world.teams = [
        TeamFactory(organisation=organisation, name=f"Team {i}") for i in range(plan["team_count"])
    ]
    for index, team in enumerate(plan["teams"]):
        factory = (
            HRAdminMembershipFactory if index == 0 or index in plan["hr"] else MembershipFactory
        )
        world.people[index] = factory(
            organisation=organisation, team=world.teams[team] if team >= 0 else None
        ).user
    for coach, coachee in sorted(plan["pairs"]):
        if coach in world.people and coachee in world.people:
            _relate(world, coach, coachee, datetime(2026, 8, 1, tzinfo=UTC))
    return world


def _relate(world, coach, coachee, accepted_at):
    relationship = RelationshipFactory(
        organisation=world.organisation,
        coach=world.people[coach],
        coachee=world.people[coachee],
        accepted_at=accepted_at,
    )
    world.relationships.append(relationship)
    world.pairs.append((coach, coachee, relationship))


def _answer_month(world: World, month: date):
    """Rounds opening on the 5th and 19th; who answers is the plan's; values are random."""
    for index, pair in enumerate(world.pairs[:MAX_PAIRS]):
        rounds, coach_answers, coachee_answers = world.plan["answers"][
            2 * index + (month == OCTOBER)
        ]
        relationship = pair[2]
        if relationship.pk in world.ended:
            continue
        for rnd in range(rounds):
            _answer_round(world, month, rnd, pair, coach_answers, coachee_answers)
        if world.rng.random() < 0.5:
            SessionFactory(relationship=relationship, held_on=month.replace(day=5))
            world.sessions.append((month, relationship))


def _answer_round(world, month, rnd, pair, coach_answers, coachee_answers):
    coach, coachee, relationship = pair
    opens = month.replace(day=5 + 14 * rnd)
    round_ = CheckInRound.objects.create(
        relationship=relationship,
        opens_on=opens,
        closes_on=opens + timedelta(days=6),
        closed_at=datetime.combine(opens + timedelta(days=7), time.min, tzinfo=UTC),
    )
    world.rounds.append((month, relationship, round_))
    for person, side, answers in (
        (coach, Perspective.COACH_ABOUT_COACHEE.value, coach_answers),
        (coachee, Perspective.COACHEE_ABOUT_COACH.value, coachee_answers),
    ):
        if not answers or person in world.gone:
            continue
        values = tuple(world.rng.randint(1, 5) for _ in DIMENSION_KEYS)
        response = CheckInResponse(round=round_, respondent=world.people[person])
        for key, value in zip(DIMENSION_KEYS, values, strict=True):
            setattr(response, key, value)
        response.save()
        CheckInResponse.objects.filter(pk=response.pk).update(
            submitted_at=datetime.combine(opens + timedelta(days=1), time(12), tzinfo=UTC)
        )
        world.answers.append((month, side, person, values, round_))


def _events(world: World, events, when: datetime):
    hr = world.people[0]
    with time_machine.travel(when, tick=False):
        for kind, person, team in events:
            if kind == "join":
                coach = person if person in world.people and person not in world.gone else None
                index = max(world.people) + 1
                world.people[index] = MembershipFactory(
                    organisation=world.organisation,
                    team=world.teams[team] if 0 <= team < len(world.teams) else None,
                ).user
                if coach is not None:
                    _relate(world, coach, index, when)
                continue
            if person not in world.people or person in world.gone:
                continue
            membership = world.membership(person)
            if kind == "move":
                target = world.teams[team] if 0 <= team < len(world.teams) else None
                membership_update(membership=membership, team=target, role=membership.role, by=hr)
            elif kind == "promote":
                membership_update(
                    membership=membership,
                    team=membership.team,
                    role=Membership.Role.HR_ADMIN,
                    by=hr,
                )
            elif kind == "deactivate":
                member_set_active(membership=membership, active=False, by=hr)
            elif kind == "leave":
                account_delete(user=world.people[person])
                world.gone.add(person)
                for _coach, _coachee, relationship in world.pairs:
                    if world.people[person].pk in (relationship.coach_id, relationship.coachee_id):
                        world.ended.setdefault(relationship.pk, when)


def _publish(world: World, month: date):
    """run_checkins's daily call, on the first day of the next month."""
    day = (month + timedelta(days=32)).replace(day=1)
    with time_machine.travel(datetime.combine(day, time(6), tzinfo=UTC), tick=False):
        world.published[f"{month:%Y-%m}"] = world.snapshot(month)
        assert activity_publish_closed_month(world.organisation, day)


def _serve_at(world: World, when: datetime, **options) -> dict:
    client = Client()
    with time_machine.travel(when, tick=False):
        client.force_login(world.people[0])
        return serve(client, **options)


@settings(
    max_examples=int(os.environ.get("AUDITOR_EXAMPLES", 20)),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(plan=organisations())
def test_no_published_figure_isolates_fewer_than_k_people(plan):
    # Each example in a savepoint of its own: hypothesis runs them all in one test.
    with transaction.atomic():
        _scenario(plan)
        transaction.set_rollback(True)


def _scenario(plan):
    world = _build(plan)
    _answer_month(world, SEPTEMBER)
    _events(world, plan["events"][0], datetime(2026, 9, 30, 12, tzinfo=UTC))
    _publish(world, SEPTEMBER)
    served = [_serve_at(world, datetime(2026, 10, 2, 9, tzinfo=UTC))]
    _events(world, plan["events"][1], datetime(2026, 10, 3, 12, tzinfo=UTC))
    _answer_month(world, OCTOBER)
    _publish(world, OCTOBER)
    served.append(_serve_at(world, datetime(2026, 11, 2, 9, tzinfo=UTC)))
    _events(world, plan["events"][2], datetime(2026, 11, 3, 12, tzinfo=UTC))
    # The rebuild publishes August (relationships began then; nobody answered), with the
    # teams of today. A changed source is reported (CommandError); the published months
    # must not change.
    world.published["2026-08"] = world.snapshot(date(2026, 8, 1))
    with (
        time_machine.travel(datetime(2026, 11, 4, tzinfo=UTC), tick=False),
        contextlib.suppress(CommandError),
    ):
        call_command("rebuild_insights", stdout=io.StringIO(), stderr=io.StringIO())
    # The trend charts too (the CSV has every dimension; two charts keep the run short).
    charts = ("overall", DIMENSION_KEYS[plan["seed"] % DIMS])
    served.append(_serve_at(world, datetime(2026, 11, 4, 9, tzinfo=UTC), charts=charts))

    assert audit(world, served) == []


# --- The auditor can fail: it finds the leaks of the old rules ---------------------------


@settings(max_examples=40, deadline=None)
@given(
    rows=st.lists(st.lists(st.integers(0, 1), min_size=6, max_size=6), min_size=1, max_size=5),
    dropped=st.sets(st.integers(0, 5)),
)
def test_the_rank_shortcut_is_the_definition(rows, dropped):
    """dim(R ∩ V_X) by its definition (dim R + dim V_X − dim(R + V_X)) equals
    rank(A) − rank(A without X's columns), which is what `leaks` computes."""
    equations = [{c: x for c, x in enumerate(row) if x} for row in rows]
    units = [{c: 1} for c in dropped]
    by_definition = rank(equations, set()) + len(dropped) - rank(equations + units, set())
    assert by_definition == rank(equations, set()) - rank(equations, dropped)


def _attack_scenario():
    """Person 0: the HR admin, who answers (in "other"). Person 1: a coach who doesn't.
    Big (people 2-5) all answer; Small (6-8) has a row of its own, and only the
    target (6) answers."""
    organisation = OrganisationFactory(anonymity_threshold=3)
    world = World(organisation, 3, rng=random.Random(13))  # noqa: S311 - test data
    big, small = (TeamFactory(organisation=organisation, name=n) for n in ("Big", "Small"))
    world.teams = [big, small]
    world.people[0] = HRAdminMembershipFactory(organisation=organisation).user
    world.people[1] = MembershipFactory(organisation=organisation).user
    for index in range(2, 9):
        team = big if index < 6 else small
        world.people[index] = MembershipFactory(organisation=organisation, team=team).user
    for coachee in (0, 2, 3, 4, 5, 6):
        _relate(world, 1, coachee, datetime(2026, 8, 1, tzinfo=UTC))
    for pair in world.pairs:
        _answer_round(world, OCTOBER, 0, pair, coach_answers=False, coachee_answers=True)
    return world


def test_the_auditor_finds_the_old_rules_leak():
    """The old rule's publication of the attack: the organisation (overall and each
    dimension) and Big shown; Small (the target alone) and "other" (HR alone) hidden,
    two hidden cells being enough then. HR's own answers are known."""
    block, target, hr = ("2026-10", PERSPECTIVES[0]), "target", "hr"
    big = ["b1", "b2", "b3", "b4"]
    everyone = [*big, target, hr]
    old = [cell_equation(block, everyone, m) for m in ["overall", *DIMENSION_KEYS]]
    old.append(cell_equation(block, big, "overall"))

    found = leaks(old, {block: {hr}}, k=3)

    assert found and all(target in group for _block, group in found)
    assert {frozenset({target, b}) for b in big} == {group for _block, group in found}
    # Without Big (what Rapport publishes now) nothing is isolated.
    assert leaks(old[:-1], {block: {hr}}, k=3) == []


def test_attack_org_minus_big_team_minus_own_answers_isolates_nobody():
    world = _attack_scenario()
    _publish(world, OCTOBER)

    served = [_serve_at(world, datetime(2026, 11, 10, 9, tzinfo=UTC), charts=("overall",))]

    trust = served[0]["trust"]
    side = PERSPECTIVES[0]
    assert trust[("2026-10", WHOLE, side, "overall")][1] == "6"
    assert trust[("2026-10", "Small", side, "overall")] == ("", "", "fewer than 3 responses")
    assert trust[("2026-10", OTHER, side, "overall")][0] == "", "HR's own answers alone"
    assert trust[("2026-10", "Big", side, "overall")] == (
        "",
        "",
        "hidden so a smaller group can't be worked out",
    ), "organisation − Big − HR's own answers would be the target's score"
    assert audit(world, served) == []


def test_attack_moving_two_people_out_of_a_team_changes_no_published_month(client):
    world = _attack_scenario()
    _publish(world, OCTOBER)
    with time_machine.travel(datetime(2026, 11, 10, 8, tzinfo=UTC), tick=False):
        # After an upgrade: August and September (nobody answered) are filled in.
        world.published["2026-08"] = world.snapshot(date(2026, 8, 1))
        world.published["2026-09"] = world.snapshot(SEPTEMBER)
        call_command("rebuild_insights", stdout=io.StringIO())
    before = _serve_at(world, datetime(2026, 11, 10, 9, tzinfo=UTC), charts=("overall",))
    with time_machine.travel(datetime(2026, 11, 10, 10, tzinfo=UTC), tick=False):
        client.force_login(world.people[0])
        page_before = _parse(client.get(reverse("insights_dashboard")))
        # HR moves two of Big out (Big falls under k members), then one into Small.
        for index, team in ((2, ""), (3, ""), (4, str(world.teams[1].public_id))):
            membership = world.membership(index)
            response = client.post(
                reverse("membership_update", args=[membership.public_id]),
                {"team": team, "role": "member"},
            )
            assert response.status_code in (200, 302)
        assert world.membership(2).team is None and world.membership(4).team == world.teams[1]
        with pytest.raises(CommandError):  # the change is reported, not published
            call_command("rebuild_insights", stdout=io.StringIO(), stderr=io.StringIO())
        page_after = _parse(client.get(reverse("insights_dashboard")))
    after = _serve_at(world, datetime(2026, 11, 10, 11, tzinfo=UTC), charts=("overall",))

    assert after == before, "the published month is exactly as it was"
    assert (page_after.tables, page_after.titles) == (page_before.tables, page_before.titles)
    assert audit(world, [before, after]) == []
