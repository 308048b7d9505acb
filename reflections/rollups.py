"""Feeding HR's published months from check-ins and activity. This module may read the
source tables; the insights app may not, so the numbers travel one way: here each
closed month is turned into numbers and labels (who answered stays here), and
insights.services decides what may be shown and stores it, once."""

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from fractions import Fraction

from django.db.models import Case, Count, F, Min, Q, Sum, Value, When
from django.utils import timezone

from accounts.models import Membership, Organisation
from insights.models import Perspective
from insights.services import (
    ACTIVE_RELATIONSHIPS,
    OTHER_TEAMS,
    PARTICIPATION,
    SESSIONS_HELD,
    Activity,
    MonthSource,
    Respondent,
    month_compare,
    month_of,
    month_publish,
    months_published,
)
from privacy import rls
from reflections.dimensions import DIMENSION_KEYS
from reflections.models import CheckInResponse, CheckInRound
from relationships.models import CoachingRelationship, CoachingSession


def record_response(response: CheckInResponse) -> None:
    """Called in the same transaction as a submission. Nothing to do any more: a month
    is computed from the source once it has closed, so the answer is counted then."""


def _next_month(period: date) -> date:
    return (period.replace(day=28) + timedelta(days=4)).replace(day=1)


def _bounds(period: date) -> tuple[datetime, datetime]:
    """The month in UTC: answers are counted in the UTC month they were given."""
    return (
        datetime.combine(period, time.min, tzinfo=UTC),
        datetime.combine(_next_month(period), time.min, tzinfo=UTC),
    )


def month_source(organisation: Organisation, period: date, *, threshold: int | None = None):
    """The closed month `period` as numbers, with teams and HR admins as they are now
    (at publication). `threshold` defaults to the organisation's current k."""
    with rls.for_purpose(rls.rollups(organisation.pk)):
        return _month_source(organisation, period, threshold)


def _month_source(organisation: Organisation, period: date, threshold: int | None):
    k = threshold or organisation.anonymity_threshold
    start, end = _bounds(period)
    members = dict(
        Membership.objects.filter(organisation=organisation).values_list("user_id", "team_id")
    )
    hr = set(
        Membership.objects.filter(
            organisation=organisation, role=Membership.Role.HR_ADMIN
        ).values_list("user_id", flat=True)
    )
    teams = dict(organisation.teams.values_list("pk", "name"))
    sizes = Counter(team_id for team_id in members.values() if team_id is not None)
    # Teams with fewer than k members are folded into "other", never shown on their own.
    own_row = {pk for pk in teams if sizes[pk] >= k}
    source = MonthSource(threshold=k, small_team_count=len(teams) - len(own_row))

    answers = (
        CheckInResponse.objects.filter(
            round__relationship__organisation=organisation,
            submitted_at__gte=start,
            submitted_at__lt=end,
        )
        .annotate(
            side=Case(
                When(
                    respondent_id=F("round__relationship__coach_id"),
                    then=Value(Perspective.COACH_ABOUT_COACHEE.value),
                ),
                default=Value(Perspective.COACHEE_ABOUT_COACH.value),
            )
        )
        .values("respondent_id", "side")
        .annotate(n=Count("id"), **{key: Sum(key) for key in DIMENSION_KEYS})
        .order_by()
    )
    groups: dict[str, dict[str, list[Respondent]]] = defaultdict(lambda: defaultdict(list))
    for row in answers:
        team_id = members.get(row["respondent_id"])
        label = teams[team_id] if team_id in own_row else OTHER_TEAMS
        person = Respondent(
            means=tuple(Fraction(row[key], row["n"]) for key in DIMENSION_KEYS),
            known=row["respondent_id"] in hr,
        )
        groups[row["side"]][label].append(person)
    order = sorted(teams[pk] for pk in own_row) + [OTHER_TEAMS]
    source.groups = {
        side: [(label, by_label[label]) for label in order if by_label.get(label)]
        for side, by_label in groups.items()
    }
    source.activity = _activity(organisation, period, hr)
    return source


def _activity(organisation: Organisation, period: date, hr: set) -> dict[str, Activity]:
    """Participation in rounds due that month, relationships active in it and sessions
    held in it, each with the distinct people (both parties) it is about."""
    start, end = _bounds(period)
    rounds = (
        CheckInRound.objects.filter(
            relationship__organisation=organisation,
            closes_on__gte=period,
            closes_on__lt=_next_month(period),
        )
        .annotate(answered=Count("responses", filter=Q(responses__submitted_at__lt=end)))
        .values_list("relationship__coach_id", "relationship__coachee_id", "answered")
    )
    rounds = list(rounds)
    active = list(
        CoachingRelationship.objects.filter(organisation=organisation, accepted_at__lt=end)
        .exclude(ended_at__lt=start)
        .values_list("coach_id", "coachee_id")
    )
    sessions = list(
        CoachingSession.objects.filter(
            relationship__organisation=organisation,
            held_on__gte=period,
            held_on__lt=_next_month(period),
        ).values_list("relationship__coach_id", "relationship__coachee_id")
    )

    def people(pairs) -> int:
        return len({person for pair in pairs for person in pair[:2]} - hr)

    due = 2 * len(rounds)
    answered = sum(row[2] for row in rounds)
    return {
        PARTICIPATION: Activity(Fraction(100 * answered, due) if due else None, people(rounds)),
        ACTIVE_RELATIONSHIPS: Activity(len(active), people(active)),
        SESSIONS_HELD: Activity(len(sessions), people(sessions)),
    }


def _last_closed_month(today: date) -> date:
    return month_of(month_of(today) - timedelta(days=1))


def activity_publish_closed_month(organisation: Organisation, today: date) -> bool:
    """Publish the month that has just closed (trust and activity), once: run_checkins
    calls this daily, and after the first run of a month it is one cheap query."""
    period = _last_closed_month(today)
    if period in months_published(organisation):
        return False
    return month_publish(
        organisation=organisation, period=period, source=month_source(organisation, period)
    )


def _first_month(organisation: Organisation) -> date | None:
    """The earliest month with anything to publish."""
    with rls.for_purpose(rls.rollups(organisation.pk)):
        return _first_month_of(organisation)


def _first_month_of(organisation: Organisation) -> date | None:
    firsts = [
        CheckInResponse.objects.filter(round__relationship__organisation=organisation).aggregate(
            first=Min("submitted_at")
        )["first"],
        CoachingRelationship.objects.filter(organisation=organisation).aggregate(
            first=Min("accepted_at")
        )["first"],
        CoachingSession.objects.filter(relationship__organisation=organisation).aggregate(
            first=Min("held_on")
        )["first"],
        CheckInRound.objects.filter(relationship__organisation=organisation).aggregate(
            first=Min("closes_on")
        )["first"],
    ]
    days = [d.astimezone(UTC).date() if isinstance(d, datetime) else d for d in firsts if d]
    return month_of(min(days)) if days else None


@dataclass
class RebuildReport:
    published: list[date] = field(default_factory=list)
    differences: list[str] = field(default_factory=list)


def rebuild(organisation: Organisation, today: date | None = None) -> RebuildReport:
    """Publish every closed month that is missing (after an upgrade, or a first run);
    recompute the published ones and report where they differ, without rewriting them."""
    today = today or timezone.now().astimezone(UTC).date()
    report = RebuildReport()
    period, last = _first_month(organisation), _last_closed_month(today)
    published = months_published(organisation)
    while period is not None and period <= last:
        if period in published:
            source = month_source(organisation, period, threshold=published[period])
            report.differences += month_compare(
                organisation=organisation, period=period, source=source
            )
        else:
            source = month_source(organisation, period)
            if month_publish(organisation=organisation, period=period, source=source):
                report.published.append(period)
        period = _next_month(period)
    return report
