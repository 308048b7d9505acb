"""Feeding HR's anonymised rollups from check-ins and activity. This module may read
the source tables; the insights app may not, so the numbers travel one way."""

from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import Membership, Organisation
from insights.models import ActivityRollup, Perspective, TrustRollup
from insights.services import (
    activity_rollup_replace_month,
    month_of,
    rollups_replace,
    trust_rollup_add,
)
from reflections.dimensions import DIMENSION_KEYS
from reflections.models import CheckInResponse, CheckInRound
from relationships.models import CoachingRelationship, CoachingSession


def perspective_of(response: CheckInResponse, relationship: CoachingRelationship) -> str:
    if response.respondent_id == relationship.coach_id:
        return Perspective.COACH_ABOUT_COACHEE
    return Perspective.COACHEE_ABOUT_COACH


def _period(response: CheckInResponse) -> date:
    """The calendar month (in UTC) the answer was given: closed months never change."""
    return month_of(response.submitted_at.astimezone(UTC).date())


def record_response(response: CheckInResponse) -> None:
    """Called in the same transaction as the submission."""
    relationship = response.round.relationship
    period = _period(response)
    perspective = perspective_of(response, relationship)
    same_side = (
        Q(round__relationship__coach=response.respondent)
        if (perspective == Perspective.COACH_ABOUT_COACHEE)
        else Q(round__relationship__coachee=response.respondent)
    )
    start = datetime.combine(period, time.min, tzinfo=UTC)
    end = datetime.combine(_next_month(period), time.min, tzinfo=UTC)
    counted_already = (
        CheckInResponse.objects.filter(
            same_side,
            respondent=response.respondent,
            submitted_at__gte=start,
            submitted_at__lt=end,
            round__relationship__organisation=relationship.organisation,
        )
        .exclude(pk=response.pk)
        .exists()
    )
    team_id = (
        Membership.objects.filter(user_id=response.respondent_id)
        .values_list("team_id", flat=True)
        .first()
    )
    trust_rollup_add(
        organisation=relationship.organisation,
        team=relationship.organisation.teams.filter(pk=team_id).first() if team_id else None,
        period=period,
        perspective=perspective,
        answers={key: getattr(response, key) for key in DIMENSION_KEYS},
        new_respondent=not counted_already,
    )


def _next_month(period: date) -> date:
    return (period.replace(day=28) + timedelta(days=4)).replace(day=1)


def rebuild(organisation: Organisation) -> None:
    """Recompute the organisation's rollups from the source: identical to what the
    submissions built up (as long as nobody changed team in between)."""
    teams = dict(
        Membership.objects.filter(organisation=organisation).values_list("user_id", "team_id")
    )
    trust: dict[tuple, dict] = defaultdict(lambda: {"respondents": set(), "sum": 0, "count": 0})
    responses = CheckInResponse.objects.filter(
        round__relationship__organisation=organisation
    ).select_related("round__relationship")
    for response in responses.iterator(chunk_size=2000):
        relationship = response.round.relationship
        period = _period(response)
        perspective = perspective_of(response, relationship)
        team_id = teams.get(response.respondent_id)
        for team in [None, team_id] if team_id else [None]:
            for key in DIMENSION_KEYS:
                cell = trust[(team, period, key, perspective)]
                cell["respondents"].add(response.respondent_id)
                cell["sum"] += getattr(response, key)
                cell["count"] += 1
    trust_rows = [
        TrustRollup(
            organisation=organisation,
            team_id=team,
            period=period,
            dimension=dimension,
            perspective=perspective,
            respondents=len(cell["respondents"]),
            answer_sum=cell["sum"],
            answer_count=cell["count"],
        )
        for (team, period, dimension, perspective), cell in trust.items()
    ]
    rollups_replace(
        organisation=organisation, trust=trust_rows, activity=activity_rows(organisation, teams)
    )


def activity_rows(organisation: Organisation, teams: dict) -> list[ActivityRollup]:
    """Per month and team (the coachee's): relationships active in the month, sessions
    held, and check-in answers given or missed in rounds that closed that month."""
    counts: dict[tuple, dict] = defaultdict(
        lambda: {"active": 0, "sessions": 0, "answered": 0, "missed": 0}
    )
    today = timezone.localdate()
    relationships = CoachingRelationship.objects.filter(
        organisation=organisation, accepted_at__isnull=False
    ).values_list("coachee_id", "accepted_at", "ended_at")
    for coachee_id, accepted_at, ended_at in relationships:
        month = month_of(accepted_at.date())
        last = month_of((ended_at or timezone.now()).date())
        while month <= last and month <= today:
            for team in {None, teams.get(coachee_id)}:
                counts[(team, month)]["active"] += 1
            month = _next_month(month)
    sessions = CoachingSession.objects.filter(relationship__organisation=organisation).values_list(
        "relationship__coachee_id", "held_on"
    )
    for coachee_id, held_on in sessions:
        for team in {None, teams.get(coachee_id)}:
            counts[(team, month_of(held_on))]["sessions"] += 1
    rounds = CheckInRound.objects.filter(
        relationship__organisation=organisation, closed_at__isnull=False
    ).values_list("relationship__coachee_id", "closes_on", "coach_missed", "coachee_missed")
    for coachee_id, closes_on, coach_missed, coachee_missed in rounds:
        for team in {None, teams.get(coachee_id)}:
            cell = counts[(team, month_of(closes_on))]
            cell["missed"] += coach_missed + coachee_missed
            cell["answered"] += 2 - coach_missed - coachee_missed
    return [
        ActivityRollup(
            organisation=organisation,
            team_id=team,
            period=period,
            active_relationships=cell["active"],
            sessions_held=cell["sessions"],
            rounds_answered=cell["answered"],
            rounds_missed=cell["missed"],
        )
        for (team, period), cell in counts.items()
    ]


def activity_publish_closed_month(organisation: Organisation, today: date) -> bool:
    """Once a month has closed, compute its activity figures (run_checkins calls this;
    after the first run of the month it is a single cheap query)."""
    period = month_of(month_of(today) - timedelta(days=1))
    if ActivityRollup.objects.filter(
        organisation=organisation, team__isnull=True, period=period
    ).exists():
        return False
    teams = dict(
        Membership.objects.filter(organisation=organisation).values_list("user_id", "team_id")
    )
    rows = [row for row in activity_rows(organisation, teams) if row.period == period]
    if not rows:  # nothing happened that month: record the empty month all the same
        rows = [ActivityRollup(organisation=organisation, period=period)]
    try:
        with transaction.atomic():
            activity_rollup_replace_month(organisation=organisation, period=period, rows=rows)
    except IntegrityError:  # another run published the same month at the same moment
        return False
    return True
