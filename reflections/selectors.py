"""What each person may see of check-ins: their own answers always; the other
person's only after the mutual reveal, and only what they chose to share."""

from dataclasses import dataclass, field
from statistics import mean

from django.db.models import Prefetch

from reflections.charts import trend_chart
from reflections.dimensions import DIMENSIONS, Dimension
from reflections.models import CheckInResponse, CheckInRound
from reflections.services import today_for


def is_revealed(round_: CheckInRound, responses: dict, relationship, today) -> bool:
    """Both have answered, or the window has closed."""
    both = relationship.coach_id in responses and relationship.coachee_id in responses
    return both or round_.is_closed or today > round_.closes_on


def is_open(round_: CheckInRound, today) -> bool:
    return not round_.is_closed and round_.opens_on <= today <= round_.closes_on


@dataclass
class DimensionRow:
    dimension: Dimension
    statement: str
    mine: int | None
    theirs: int | None

    @property
    def gap(self) -> int | None:
        if self.mine is None or self.theirs is None:
            return None
        return abs(self.mine - self.theirs)


@dataclass
class RoundView:
    round: CheckInRound
    mine: CheckInResponse | None
    theirs_visible: CheckInResponse | None  # None unless revealed and shared
    they_answered: bool
    they_shared: bool
    revealed: bool
    open: bool
    rows: list[DimensionRow] = field(default_factory=list)

    @property
    def can_answer(self) -> bool:
        return self.open and self.mine is None

    @property
    def largest_gap(self) -> DimensionRow | None:
        rows = [r for r in self.rows if r.gap]
        return max(rows, key=lambda r: r.gap) if rows else None


def round_view(round_: CheckInRound, user, *, responses=None, today=None) -> RoundView:
    relationship = round_.relationship
    today = today or today_for(relationship)
    if responses is None:
        responses = {r.respondent_id: r for r in round_.responses.all()}
    other = relationship.other_party(user)
    mine = responses.get(user.pk)
    theirs = responses.get(other.pk) if other is not None else None
    revealed = is_revealed(round_, responses, relationship, today)
    visible = theirs if (revealed and theirs is not None and theirs.shared) else None
    other_name = relationship.other_party_name(user)
    rows = [
        DimensionRow(
            dimension=d,
            statement=d.about(other_name),
            mine=getattr(mine, d.key) if mine else None,
            theirs=getattr(visible, d.key) if visible else None,
        )
        for d in DIMENSIONS
    ]
    return RoundView(
        round=round_,
        mine=mine,
        theirs_visible=visible,
        they_answered=theirs is not None,
        they_shared=bool(theirs and theirs.shared),
        revealed=revealed,
        open=is_open(round_, today),
        rows=rows,
    )


def _overall(response: CheckInResponse) -> float:
    return round(mean(getattr(response, d.key) for d in DIMENSIONS), 2)


@dataclass
class TrendPoint:
    round: CheckInRound
    mine: float | None
    theirs: float | None


@dataclass
class Participation:
    rounds: int
    coach_answered: int
    coachee_answered: int


@dataclass
class CheckInSummary:
    current: RoundView | None
    points_by_dimension: dict[str, list[TrendPoint]]
    participation: Participation


def checkin_summary(relationship, user) -> CheckInSummary:
    """The relationship page's check-in block, in two queries however long the history."""
    today = today_for(relationship)
    rounds = list(
        CheckInRound.objects.filter(relationship=relationship)
        .order_by("opens_on")
        .prefetch_related(Prefetch("responses", queryset=CheckInResponse.objects.all()))
    )
    for r in rounds:
        r.relationship = relationship  # already loaded: no query per round
    views = [
        round_view(r, user, responses={x.respondent_id: x for x in r.responses.all()}, today=today)
        for r in rounds
    ]
    current = next((v for v in reversed(views) if v.open), None)
    points: dict[str, list[TrendPoint]] = {"overall": []}
    for d in DIMENSIONS:
        points[d.key] = []
    for view in views:
        if view.mine is None and view.theirs_visible is None:
            continue
        points["overall"].append(
            TrendPoint(
                view.round,
                _overall(view.mine) if view.mine else None,
                _overall(view.theirs_visible) if view.theirs_visible else None,
            )
        )
        for d in DIMENSIONS:
            points[d.key].append(
                TrendPoint(
                    view.round,
                    getattr(view.mine, d.key) if view.mine else None,
                    getattr(view.theirs_visible, d.key) if view.theirs_visible else None,
                )
            )
    finished = [v for v in views if v.round.is_closed or today > v.round.closes_on]
    answered = {
        side: sum(
            1
            for v in finished
            if any(
                r.respondent_id == getattr(relationship, f"{side}_id")
                for r in v.round.responses.all()
            )
        )
        for side in ("coach", "coachee")
    }
    return CheckInSummary(
        current=current,
        points_by_dimension=points,
        participation=Participation(
            rounds=len(finished),
            coach_answered=answered["coach"],
            coachee_answered=answered["coachee"],
        ),
    )


def due_checkins(user) -> list[RoundView]:
    """Open rounds the person has yet to answer: for the home page and navigation."""
    from relationships.models import CoachingRelationship

    rounds = (
        CheckInRound.objects.visible_to(user)
        .filter(closed_at__isnull=True, relationship__status=CoachingRelationship.Status.ACTIVE)
        .exclude(responses__respondent=user)
        .select_related("relationship__coach", "relationship__coachee")
    )
    views = [round_view(r, user) for r in rounds]
    return [v for v in views if v.can_answer]


def trend_context(relationship, user, dimension_key: str, summary=None) -> dict:
    summary = summary or checkin_summary(relationship, user)
    if dimension_key != "overall" and dimension_key not in {d.key for d in DIMENSIONS}:
        dimension_key = "overall"
    points = summary.points_by_dimension[dimension_key]
    other_name = relationship.other_party_name(user)
    chart = trend_chart(points, mine_label="How I see us", theirs_label=f"How {other_name} sees us")
    return {
        "relationship": relationship,
        "summary": summary,
        "chart": chart,
        "points": points,
        "dimension_key": dimension_key,
        "dimension_label": "Overall"
        if dimension_key == "overall"
        else next(d.label for d in DIMENSIONS if d.key == dimension_key),
        "dimensions": [("overall", "Overall")] + [(d.key, d.label) for d in DIMENSIONS],
        "other_name": other_name,
    }
