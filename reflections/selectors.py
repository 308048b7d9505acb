"""What each person may see of check-ins: their own answers always; the other
person's only after the mutual reveal, and only what they chose to share."""

from dataclasses import dataclass
from datetime import date
from functools import cached_property
from statistics import mean

from django.db.models import Count, Exists, OuterRef, Prefetch, Q
from django.utils import timezone

from reflections.charts import trend_chart
from reflections.dimensions import DIMENSIONS, Dimension
from reflections.models import CheckInResponse, CheckInRound


def is_revealed(round_: CheckInRound, responses: dict, relationship, now) -> bool:
    """Both have answered, or the round's stored closing instant has passed."""
    both = relationship.coach_id in responses and relationship.coachee_id in responses
    return both or not round_.is_open_at(now)


def is_open(round_: CheckInRound, now) -> bool:
    return round_.is_open_at(now)


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
    other_name: str = ""
    # Their comment, read (and its seal checked) once; None unless theirs_visible.
    theirs_comment: str | None = None

    @cached_property
    def rows(self) -> list[DimensionRow]:
        """One row per dimension, built only for the pages that show them: a long
        history has a hundred rounds, and the relationship page needs none of these."""
        mine, visible = self.mine, self.theirs_visible
        return [
            DimensionRow(
                dimension=d,
                statement=d.about(self.other_name),
                mine=getattr(mine, d.key) if mine else None,
                theirs=getattr(visible, d.key) if visible else None,
            )
            for d in DIMENSIONS
        ]

    @property
    def can_answer(self) -> bool:
        return self.open and self.mine is None

    @cached_property
    def mine_comment(self) -> str | None:
        """The person's own comment; None if its seal no longer matches the row (it was
        altered in the database): the page says so instead of failing."""
        return self.mine.comment_or_none() if self.mine else ""

    @property
    def largest_gap(self) -> DimensionRow | None:
        rows = [r for r in self.rows if r.gap]
        return max(rows, key=lambda r: r.gap) if rows else None


def shared_comment(response: CheckInResponse | None) -> str | None:
    """The comment of a response its author shared, or None when it is not shared or
    its seal does not vouch that it is: a `shared` flipped in the database, or a row
    moved, shows nothing of the response (numbers included) to the other party."""
    if response is None or not response.shared:
        return None
    return response.comment_or_none()


def round_view(round_: CheckInRound, user, *, responses=None, now=None) -> RoundView:
    relationship = round_.relationship
    now = now or timezone.now()
    if responses is None:
        responses = {r.respondent_id: r for r in round_.responses.all()}
    other = relationship.other_party(user)
    mine = responses.get(user.pk)
    theirs = responses.get(other.pk) if other is not None else None
    revealed = is_revealed(round_, responses, relationship, now)
    theirs_comment = shared_comment(theirs) if revealed else None
    return RoundView(
        round=round_,
        mine=mine,
        theirs_visible=theirs if theirs_comment is not None else None,
        they_answered=theirs is not None,
        # Once revealed, "shared" is what the seal vouches for, not the bare flag.
        they_shared=theirs_comment is not None if revealed else bool(theirs and theirs.shared),
        revealed=revealed,
        open=is_open(round_, now),
        other_name=relationship.other_party_name(user),
        theirs_comment=theirs_comment,
    )


def _overall(response: CheckInResponse) -> float:
    # sum / len, not statistics.mean: the same float for whole numbers, far cheaper.
    return round(sum(getattr(response, d.key) for d in DIMENSIONS) / len(DIMENSIONS), 2)


@dataclass
class TrendPoint:
    when: date
    mine: float | None
    theirs: float | None


@dataclass
class Participation:
    """Answers out of every round so far, including one still open."""

    rounds: int
    coach_answered: int
    coachee_answered: int
    open_rounds: int = 0


@dataclass
class CheckInSummary:
    views: list[RoundView]
    current: RoundView | None
    points_by_dimension: dict[str, list[TrendPoint]]
    participation: Participation
    has_older: bool = False  # rounds before the ones loaded (see checkin_summary's `last`)


def checkin_summary(relationship, user, last: int | None = None) -> CheckInSummary:
    """The check-in block and trend, in three queries however long the history.
    With `last`, the rounds (and trend points) are only the latest that many; the
    participation figures always count every round so far, the open one included."""
    now = timezone.now()
    rounds = CheckInRound.objects.filter(relationship=relationship).prefetch_related(
        Prefetch("responses", queryset=CheckInResponse.objects.all())
    )
    has_older = False
    if last:
        # Only rounds that can make a point (someone answered), and the open one: a run
        # of unanswered rounds must not push the answered ones out of the chart.
        rounds = rounds.filter(
            Q(Exists(CheckInResponse.objects.filter(round=OuterRef("pk"))))
            | Q(closed_at__isnull=True)
        )
        rounds = list(rounds.order_by("-opens_on")[: last + 1])[::-1]
        has_older = len(rounds) > last
        rounds = rounds[-last:]
    else:
        rounds = list(rounds.order_by("opens_on"))
    for r in rounds:
        r.relationship = relationship  # already loaded: no query per round
    views = [
        round_view(r, user, responses={x.respondent_id: x for x in r.responses.all()}, now=now)
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
                view.round.opens_on,
                _overall(view.mine) if view.mine else None,
                _overall(view.theirs_visible) if view.theirs_visible else None,
            )
        )
        for d in DIMENSIONS:
            points[d.key].append(
                TrendPoint(
                    view.round.opens_on,
                    getattr(view.mine, d.key) if view.mine else None,
                    getattr(view.theirs_visible, d.key) if view.theirs_visible else None,
                )
            )
    # Every round so far, the open one too: the same rounds the table and chart draw
    # from, so "Rounds answered" never disagrees with the rows beside it.
    so_far = CheckInRound.objects.filter(relationship=relationship).aggregate(
        rounds=Count("pk", distinct=True),
        open_rounds=Count("pk", distinct=True, filter=Q(closed_at__isnull=True, closes_at__gt=now)),
        coach_answered=Count("responses", filter=Q(responses__respondent=relationship.coach_id)),
        coachee_answered=Count(
            "responses", filter=Q(responses__respondent=relationship.coachee_id)
        ),
    )
    return CheckInSummary(
        views=views,
        current=current,
        points_by_dimension=points,
        participation=Participation(**so_far),
        has_older=has_older,
    )


@dataclass
class DueCheckIn:
    round: CheckInRound
    they_answered: bool


def due_checkins(user) -> list[DueCheckIn]:
    """Open rounds the person has yet to answer: for the home page and the navigation,
    so on every page. One query: whether the other person answered is a subquery."""
    from relationships.models import CoachingRelationship

    rounds = (
        # The person's side of the relationship as a plain join, not an IN (subquery):
        # PostgreSQL planned that version several times slower than it ran.
        CheckInRound.objects.filter(
            Q(relationship__coach=user) | Q(relationship__coachee=user),
            relationship__status=CoachingRelationship.Status.ACTIVE,
        )
        .open_at(timezone.now())
        .exclude(responses__respondent=user)
        .annotate(
            they_answered=Exists(
                CheckInResponse.objects.filter(round=OuterRef("pk")).exclude(respondent=user)
            )
        )
        .select_related("relationship__coach", "relationship__coachee")
    )
    return [DueCheckIn(r, r.they_answered) for r in rounds]


def trend_context(relationship, user, dimension_key: str, summary=None) -> dict:
    """The chart and its table, over the rounds the summary holds (see its `last`)."""
    summary = summary or checkin_summary(relationship, user)
    if dimension_key != "overall" and dimension_key not in {d.key for d in DIMENSIONS}:
        dimension_key = "overall"
    points = summary.points_by_dimension[dimension_key]
    trimmed = summary.has_older
    other_name = relationship.other_party_name(user)
    chart = trend_chart(points, mine_label="How I see us", theirs_label=f"How {other_name} sees us")
    return {
        "relationship": relationship,
        "summary": summary,
        "chart": chart,
        "points": points,
        "trimmed": trimmed,
        "dimension_key": dimension_key,
        "dimension_label": "Overall"
        if dimension_key == "overall"
        else next(d.label for d in DIMENSIONS if d.key == dimension_key),
        "dimensions": [("overall", "Overall")] + [(d.key, d.label) for d in DIMENSIONS],
        # One plain sentence for the chosen dimension ("Freedom to be real" alone says little).
        "dimension_plain": "The average of all six statements, from 1 to 5."
        if dimension_key == "overall"
        else next(d.plain for d in DIMENSIONS if d.key == dimension_key),
        "other_name": other_name,
        "chart_title": f"{dimension_key.replace('_', ' ').capitalize()}: how you and "
        f"{other_name} see your relationship, from 1 to 5",
    }


# --- Prompts, the journal and self-checks ------------------------------------------------

BIAS_GAP = 1.5  # points between two perspectives on one dimension that invite reflection


def relationship_prompts(relationship, user, summary: CheckInSummary | None, has_sessions: bool):
    """What the relationship page offers the coach to reflect on right now, if anything:
    "step into their shoes" before the first session, the bias questions after a reveal
    with a gap of 1.5 points or more. Dismissed prompts stay away."""
    from reflections.models import PromptDismissal
    from reflections.prompts import BIAS_PROMPTS, SHOES_PROMPTS

    if relationship.role_of(user) != "coach" or not relationship.is_writable:
        return {}
    name = relationship.other_party_name(user)
    latest = None
    if summary is not None:
        latest = next((v for v in reversed(summary.views) if v.revealed and v.theirs_visible), None)
    gaps = [r for r in latest.rows if r.gap is not None and r.gap >= BIAS_GAP] if latest else []
    if has_sessions and not gaps:
        return {}  # nothing to offer: no need to look up dismissals
    dismissed = set(
        PromptDismissal.objects.filter(user=user, relationship=relationship).values_list(
            "kind", "round_id"
        )
    )
    offers = {}
    if not has_sessions and ("shoes", None) not in dismissed:
        offers["shoes"] = [(p, p.for_name(name)) for p in SHOES_PROMPTS]
    if gaps and ("bias", latest.round.pk) not in dismissed:
        offers["bias"] = {
            "round": latest.round,
            "row": max(gaps, key=lambda row: row.gap),
            "prompts": [(p, p.for_name(name)) for p in BIAS_PROMPTS],
        }
    return offers


def journal_entries(user):
    from reflections.models import Reflection

    return Reflection.objects.visible_to(user).select_related(
        "relationship__coach", "relationship__coachee"
    )


def integrity_page(user) -> dict:
    """The coach's self-checks over time, beside how it lands: the integrity and
    positive-intentions answers their coachees chose to share with them."""
    from reflections.models import IntegrityCheck
    from relationships.models import CoachingRelationship

    checks = list(IntegrityCheck.objects.visible_to(user))
    coached = CoachingRelationship.objects.filter(coach=user)
    # Only answers already revealed to the coach: the round closed, or the coach answered.
    coach_answered = CheckInResponse.objects.filter(round=OuterRef("round"), respondent=user)
    shared = (
        CheckInResponse.objects.filter(round__relationship__in=coached, shared=True)
        .exclude(respondent=user)
        .filter(Q(round__closed_at__isnull=False) | Exists(coach_answered))
        .select_related("round")
        .order_by("round__opens_on")
    )
    by_day: dict[date, list[float]] = {}
    for response in shared:
        if shared_comment(response) is None:
            continue  # its seal says it was not shared: `shared` was altered in the database
        by_day.setdefault(response.round.opens_on, []).append(
            (response.integrity + response.positive_intentions) / 2
        )
    points = [TrendPoint(c.taken_on, c.average, None) for c in checks] + [
        TrendPoint(day, None, round(mean(values), 2)) for day, values in by_day.items()
    ]
    points.sort(key=lambda p: p.when)
    chart = trend_chart(
        points,
        mine_label="How I think I behave",
        theirs_label="How it lands (coachees' integrity and positive intentions)",
    )
    return {"checks": checks, "points": points, "chart": chart}


def next_checkin_on(relationship) -> date | None:
    """When the next check-in opens, on the relationship's calendar (the coach's time
    zone): for "The next one opens on Monday 7 December" rather than "every two weeks".
    None with the "after each session" rhythm, or before the relationship starts."""
    from reflections.services import next_scheduled_date, today_for

    return next_scheduled_date(relationship, today_for(relationship))
