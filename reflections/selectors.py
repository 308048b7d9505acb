"""What each person may see of check-ins: their own answers always; the other
person's only after the mutual reveal, and only what they chose to share."""

import uuid
from dataclasses import dataclass
from datetime import date
from functools import cache, cached_property
from operator import attrgetter
from statistics import mean

from django.db import DEFAULT_DB_ALIAS
from django.db.models import BooleanField, Count, Exists, ExpressionWrapper, OuterRef, Q
from django.utils import timezone

from accounts.models import User
from config.prepared import Moment, PreparedRead, PublicId, Row
from reflections.charts import table_rows_html, trend_chart
from reflections.dimensions import DIMENSION_KEYS, DIMENSIONS, Dimension
from reflections.models import (
    CheckInResponse,
    CheckInRound,
    JournalSettings,
    PromptDismissal,
    Reflection,
)


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


def _sides(round_, responses: dict, relationship, user_id, now):
    """What one person may see of one round: (their own response, the other person's
    response, whether the round is revealed, the other's comment). The comment is None
    unless the round is revealed and the other shared it under a valid seal. The one
    place the reveal rule is applied: round_view and the trend both come here."""
    coach_id, coachee_id = relationship.coach_id, relationship.coachee_id
    other_id = coachee_id if user_id == coach_id else coach_id
    mine = responses.get(user_id)
    theirs = responses.get(other_id) if other_id is not None else None
    revealed = is_revealed(round_, responses, relationship, now)
    theirs_comment = shared_comment(theirs) if revealed else None
    return mine, theirs, revealed, theirs_comment


def _checkin_round_query(person, public_id):
    return (
        CheckInRound.objects.visible_to(person)
        .select_related("relationship__coach", "relationship__coachee")
        .filter(public_id=public_id)
    )


# Compiled once per process (config.prepared): building these cost the check-in page
# ~1.5 ms of CPU a request.
_checkin_round = PreparedRead(
    _checkin_round_query, person=Row(User), public_id=PublicId(CheckInRound)
)
_round_responses = PreparedRead(
    lambda round_: CheckInResponse.objects.filter(round=round_), round_=Row(CheckInRound)
)


def checkin_round(user, public_id) -> CheckInRound | None:
    """The round with this public id if the person may see it (visible_to), with its
    relationship's two people; None otherwise (the view then answers 404 through
    scoped_get_or_404, which logs the refusal)."""
    if not user.is_authenticated or not isinstance(public_id, uuid.UUID):
        return None
    rows = _checkin_round(person=user, public_id=public_id)
    return rows[0] if rows else None


def round_responses(round_: CheckInRound) -> dict:
    """The round's responses by respondent, as round_view reads them (round_.responses)."""
    return {r.respondent_id: r for r in _round_responses(round_=round_)}


def round_view(
    round_: CheckInRound, user, *, responses=None, now=None, other_name=None
) -> RoundView:
    """`other_name`: the other person's name, when the caller has it (checkin_summary
    works it out once a page, not once a round)."""
    relationship = round_.relationship
    now = now or timezone.now()
    if responses is None:
        responses = {r.respondent_id: r for r in round_.responses.all()}
    mine, theirs, revealed, theirs_comment = _sides(round_, responses, relationship, user.pk, now)
    return RoundView(
        round=round_,
        mine=mine,
        theirs_visible=theirs if theirs_comment is not None else None,
        they_answered=theirs is not None,
        # Once revealed, "shared" is what the seal vouches for, not the bare flag.
        they_shared=theirs_comment is not None if revealed else bool(theirs and theirs.shared),
        revealed=revealed,
        open=is_open(round_, now),
        other_name=relationship.other_party_name(user) if other_name is None else other_name,
        theirs_comment=theirs_comment,
    )


_ALL_ANSWERS = attrgetter(*DIMENSION_KEYS)


def _overall(response) -> float:
    # sum / len, not statistics.mean: the same float for whole numbers, far cheaper.
    return round(sum(_ALL_ANSWERS(response)) / len(DIMENSION_KEYS), 2)


def _value_of(dimension_key: str):
    """What a response gives the trend of a dimension: its answer, or for "overall"
    the mean of all six."""
    return _overall if dimension_key == "overall" else attrgetter(dimension_key)


class _Answer:
    """A check-in response read as a plain row (values_list): its numbers and its seal,
    for the pages that read a long history, where a model instance per response was
    much of their time. The seal is checked by the model's own field, as in
    CheckInResponse.comment_or_none, so shared_comment and the reveal rule treat it
    exactly like a CheckInResponse."""

    FIELDS = (
        "public_id",
        "round_id",
        "respondent_id",
        "shared",
        "comment_ciphertext",
        *DIMENSION_KEYS,
    )
    __slots__ = FIELDS
    _meta = CheckInResponse._meta  # the seal's associated data names the model

    def __init__(self, row):
        # One unpacking, not a setattr per field: a long history has hundreds of rows.
        (
            self.public_id,
            self.round_id,
            self.respondent_id,
            self.shared,
            self.comment_ciphertext,
            self.reliability,
            self.competence,
            self.honesty,
            self.integrity,
            self.positive_intentions,
            self.freedom_to_be_real,
        ) = row

    def comment_or_none(self) -> str | None:
        return CheckInResponse.comment.read_or_none(self)


# _Answer.FIELDS read from a round joined to its responses (None where nobody answered).
_ANSWER_COLUMNS = tuple(
    "pk" if name == "round_id" else f"responses__{name}" for name in _Answer.FIELDS
)


class _RoundOpen:
    """Whether a round is open, judged in SQL at the same instant (see _round_open_at): all
    the reveal rule needs of a round, without reading its two timestamps per response
    (parsing them was half the trend's reading time)."""

    __slots__ = ("open",)

    def __init__(self, open_: bool):
        self.open = open_

    def is_open_at(self, now) -> bool:
        return self.open


def _round_open_at(now):
    """CheckInRound.is_open_at(now) as a column of the round: the rule of
    CheckInRound.objects.open_at."""
    return ExpressionWrapper(
        Q(closed_at__isnull=True, closes_at__gt=now), output_field=BooleanField()
    )


@dataclass(slots=True)
class TrendPoint:
    when: date
    mine: float | None
    theirs: float | None

    @property
    def label(self) -> str:
        """The round's day as the table shows it ("7 Dec 2026"): formatted here, since
        Django's date filter costs more than the row around it."""
        return f"{self.when:%-d %b %Y}"


def _point(when: date, mine, theirs_visible, value) -> TrendPoint | None:
    """A round's point on the trend, or None when neither side has a number to show."""
    if mine is None and theirs_visible is None:
        return None
    return TrendPoint(
        when,
        value(mine) if mine is not None else None,
        value(theirs_visible) if theirs_visible is not None else None,
    )


@dataclass
class Participation:
    """Answers out of every round so far, including one still open."""

    rounds: int
    coach_answered: int
    coachee_answered: int
    open_rounds: int = 0


def _participation_query(relationship, coach, coachee, now):
    """participation()'s four counts as one row (none when there is no round yet)."""
    return (
        CheckInRound.objects.filter(relationship=relationship)
        .order_by()
        .values("relationship")
        .annotate(
            rounds=Count("pk", distinct=True),
            open_rounds=Count(
                "pk", distinct=True, filter=Q(closed_at__isnull=True, closes_at__gt=now)
            ),
            coach_answered=Count("responses", filter=Q(responses__respondent=coach)),
            coachee_answered=Count("responses", filter=Q(responses__respondent=coachee)),
        )
        .values_list("rounds", "coach_answered", "coachee_answered", "open_rounds")
    )


_participation: PreparedRead | None = None


def participation(relationship, now) -> Participation:
    """Every round so far, the open one too: the same rounds the table and chart draw
    from, so "Rounds answered" never disagrees with the rows beside it. Compiled once
    per process (config.prepared): building the aggregate cost Django ~1.5 ms a page."""
    global _participation
    if relationship.coach_id is None or relationship.coachee_id is None:
        # A party not yet known (an invitation): nobody can have answered as them.
        rows = _participation_query(
            relationship, relationship.coach_id, relationship.coachee_id, now
        )
    else:
        if _participation is None:
            from relationships.models import CoachingRelationship

            _participation = PreparedRead(
                _participation_query,
                relationship=Row(CoachingRelationship),
                coach=Row(User),
                coachee=Row(User),
                now=Moment(),
            )
        rows = _participation(
            relationship=relationship,
            coach=relationship.coach_id,
            coachee=relationship.coachee_id,
            now=now,
        )
    for rounds, coach_answered, coachee_answered, open_rounds in rows:
        return Participation(rounds, coach_answered, coachee_answered, open_rounds)
    return Participation(rounds=0, coach_answered=0, coachee_answered=0, open_rounds=0)


@dataclass
class CheckInSummary:
    views: list[RoundView]
    current: RoundView | None
    points: list[TrendPoint]  # the trend of checkin_summary's `dimension_key`, these rounds


def _latest_rounds_query(relationship, last: int):
    """The latest `last` rounds, newest first, that someone answered, and the open one:
    a run of unanswered rounds must not push the answered ones out."""
    return (
        CheckInRound.objects.filter(relationship=relationship)
        .filter(
            Q(Exists(CheckInResponse.objects.filter(round=OuterRef("pk"))))
            | Q(closed_at__isnull=True)
        )
        # Not created_at: nothing shows it, and parsing it cost every round.
        .defer("created_at")
        .order_by("-opens_on")[:last]
    )


# The rounds' own columns that checkin_summary reads with their answers (not created_at:
# nothing shows it, and parsing it cost every round).
_ROUND_COLUMNS = tuple(
    field.attname for field in CheckInRound._meta.concrete_fields if field.name != "created_at"
)
_latest_rounds: dict[int, PreparedRead] = {}


def _latest_rounds_read(last: int) -> PreparedRead:
    """The latest rounds (_latest_rounds_query), oldest first, each joined to its
    answers (if any), as rows: _ROUND_COLUMNS, then _Answer.FIELDS. One query, compiled
    once per process and `last` (config.prepared): building the two it replaces cost
    Django ~1.5 ms a page."""
    if last not in _latest_rounds:
        from relationships.models import CoachingRelationship

        _latest_rounds[last] = PreparedRead(
            lambda relationship: (
                CheckInRound.objects.filter(
                    pk__in=_latest_rounds_query(relationship, last).values("pk")
                )
                .order_by("opens_on", "pk")
                .values_list(
                    *_ROUND_COLUMNS,
                    *_ANSWER_COLUMNS,
                )
            ),
            relationship=Row(CoachingRelationship),
        )
    return _latest_rounds[last]


def _rounds_and_answers(rows) -> tuple[list[CheckInRound], list[_Answer]]:
    """The rounds (model instances, as the ORM would make them) and their answers, from
    _latest_rounds_read's rows."""
    rounds: dict[int, CheckInRound] = {}
    answers = []
    width = len(_ROUND_COLUMNS)
    for row in rows:
        answer = _Answer(row[width:])
        if answer.round_id not in rounds:
            rounds[answer.round_id] = CheckInRound.from_db(
                DEFAULT_DB_ALIAS, _ROUND_COLUMNS, row[:width]
            )
        if answer.public_id is not None:  # None: nobody answered (the join found none)
            answers.append(answer)
    return list(rounds.values()), answers


def checkin_summary(
    relationship, user, last: int | None = None, dimension_key: str = "overall"
) -> CheckInSummary:
    """The check-in block and the trend of one dimension, in two queries however long
    the history. With `last`, the rounds (and trend points) are only the latest that
    many. The views' responses are plain rows (_Answer), not model instances."""
    now = timezone.now()
    if last:
        rounds, answers = _rounds_and_answers(_latest_rounds_read(last)(relationship=relationship))
    else:
        rounds = list(
            CheckInRound.objects.filter(relationship=relationship)
            .defer("created_at")
            .order_by("opens_on")
        )
        answers = map(
            _Answer,
            CheckInResponse.objects.filter(round__relationship=relationship)
            .order_by()
            .values_list(*_Answer.FIELDS),
        )
    # The responses as rows, not a prefetch: a prefetch builds a model instance per
    # response and a queryset per round.
    by_round: dict[int, dict] = {r.pk: {} for r in rounds}
    for answer in answers:
        by_round[answer.round_id][answer.respondent_id] = answer
    for r in rounds:
        r.relationship = relationship  # already loaded: no query per round
    other_name = relationship.other_party_name(user)
    views = [
        round_view(r, user, responses=by_round[r.pk], now=now, other_name=other_name)
        for r in rounds
    ]
    current = next((v for v in reversed(views) if v.open), None)
    value = _value_of(dimension_key)
    points = [
        point
        for v in views
        if (point := _point(v.round.opens_on, v.mine, v.theirs_visible, value)) is not None
    ]
    return CheckInSummary(views=views, current=current, points=points)


def trend_points(relationship, user, dimension_key: str, now) -> list[TrendPoint]:
    """The trend of one dimension over every round (see trend_history)."""
    return trend_history(relationship, user, dimension_key, now)[0]


def _trend_rows_query(relationship, moment):
    """Every round of the relationship, oldest first, joined to its responses (if any),
    as rows: the round's day, whether it is open at `moment`, then _Answer.FIELDS."""
    return (
        CheckInRound.objects.filter(relationship=relationship)
        .annotate(round_open=_round_open_at(moment))
        .order_by("opens_on")
        .values_list(
            "opens_on",
            "round_open",
            *_ANSWER_COLUMNS,
        )
    )


@cache
def _trend_rows() -> PreparedRead:
    # Compiled once per process (config.prepared): building it cost ~0.8 ms a page.
    # Made on first use: this module reads relationships.models only inside functions.
    from relationships.models import CoachingRelationship

    return PreparedRead(_trend_rows_query, relationship=Row(CoachingRelationship), moment=Moment())


@cache
def _trend_relationship() -> PreparedRead:
    from relationships.models import CoachingRelationship

    return PreparedRead(
        lambda person, public_id: (
            # The two names the trend page shows; not with_people(): nothing there
            # shows the organisation.
            CoachingRelationship.objects.started_for(person)
            .select_related("coach", "coachee")
            .filter(public_id=public_id)
        ),
        person=Row(User),
        public_id=PublicId(CoachingRelationship),
    )


def trend_relationship(user, public_id):
    """The person's started relationship (started_for) with this public id, with both
    people, for the trend page; None if there is none of theirs (the view then answers
    404 through scoped_get_or_404, which logs the refusal). Compiled once per process."""
    if not user.is_authenticated or not isinstance(public_id, uuid.UUID):
        return None
    rows = _trend_relationship()(person=user, public_id=public_id)
    return rows[0] if rows else None


def trend_history(
    relationship, user, dimension_key: str, now
) -> tuple[list[TrendPoint], Participation]:
    """The trend of one dimension over every round, and the participation figures, in
    one query and without a round view or model instance per round: the trend page
    draws a hundred rounds and shows nothing else of them. Each point shows what the
    check-in page would (_sides); the figures are participation()'s, counted from the
    same rows (every round, joined to its responses, if any)."""
    value = _value_of(dimension_key)
    rows = _trend_rows()(relationship=relationship, moment=now)
    rounds: dict[int, tuple[date, _RoundOpen, dict]] = {}
    answered = {relationship.coach_id: 0, relationship.coachee_id: 0}
    for opens_on, round_open, *row in rows:
        answer = _Answer(row)
        if answer.round_id not in rounds:
            rounds[answer.round_id] = (opens_on, _RoundOpen(round_open), {})
        if answer.public_id is None:
            continue  # a round nobody answered (the join found no response)
        rounds[answer.round_id][2][answer.respondent_id] = answer
        if answer.respondent_id in answered:
            answered[answer.respondent_id] += 1
    points = []
    user_id = user.pk  # once: request.user is a lazy object, each read goes through it
    for when, round_, responses in rounds.values():
        if not responses:
            continue
        mine, theirs, _, theirs_comment = _sides(round_, responses, relationship, user_id, now)
        point = _point(when, mine, theirs if theirs_comment is not None else None, value)
        if point is not None:
            points.append(point)
    so_far = Participation(
        rounds=len(rounds),
        coach_answered=answered[relationship.coach_id],
        coachee_answered=answered[relationship.coachee_id],
        open_rounds=sum(round_.open for _, round_, _ in rounds.values()),
    )
    return points, so_far


@dataclass
class DueCheckIn:
    round: CheckInRound
    they_answered: bool


def due_rounds(user, now):
    """The open rounds of the person's active relationships they have yet to answer:
    what the home page lists and what the navigation's badge counts (accounts.frame),
    so both say the same number."""
    from relationships.models import CoachingRelationship

    # The person's side of the relationship as a plain join, not an IN (subquery):
    # PostgreSQL planned that version several times slower than it ran.
    return (
        CheckInRound.objects.filter(
            Q(relationship__coach=user) | Q(relationship__coachee=user),
            relationship__status=CoachingRelationship.Status.ACTIVE,
        )
        .open_at(now)
        .exclude(responses__respondent=user)
    )


def _due_checkins_query(person, moment):
    return (
        due_rounds(person, moment)
        .annotate(
            they_answered=Exists(
                CheckInResponse.objects.filter(round=OuterRef("pk")).exclude(respondent=person)
            )
        )
        .select_related("relationship__coach", "relationship__coachee")
    )


# Compiled once per process (config.prepared): building it cost 2.5 ms of CPU a request.
_due_checkins = PreparedRead(_due_checkins_query, person=Row(User), moment=Moment())


def due_checkins(user) -> list[DueCheckIn]:
    """Open rounds the person has yet to answer, for the home page. One query: whether
    the other person answered is a subquery. (The navigation only counts them.)"""
    return [
        DueCheckIn(r, r.they_answered) for r in _due_checkins(person=user, moment=timezone.now())
    ]


def trend_context(relationship, user, dimension_key: str) -> dict:
    """The chart and its table of one dimension over every round: the trend page, and
    the relationship page's trend region, which htmx loads from it."""
    if dimension_key != "overall" and dimension_key not in {d.key for d in DIMENSIONS}:
        dimension_key = "overall"
    points, so_far = trend_history(relationship, user, dimension_key, timezone.now())
    other_name = relationship.other_party_name(user)
    chart = trend_chart(points, mine_label="How I see us", theirs_label=f"How {other_name} sees us")
    return {
        "relationship": relationship,
        "participation": so_far,
        "chart": chart,
        "points": points,
        "table_rows": table_rows_html(points, chart.days),
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


@cache
def _dismissals() -> PreparedRead:
    # Compiled once per process (config.prepared): building it cost ~0.4 ms a page.
    from relationships.models import CoachingRelationship

    return PreparedRead(
        lambda person, relationship: PromptDismissal.objects.filter(
            user=person, relationship=relationship
        ).values_list("kind", "round_id"),
        person=Row(User),
        relationship=Row(CoachingRelationship),
    )


def relationship_prompts(relationship, user, summary: CheckInSummary | None, has_sessions: bool):
    """What the relationship page offers the coach to reflect on right now, if anything:
    "step into their shoes" before the first session, the bias questions after a reveal
    with a gap of 1.5 points or more. Dismissed prompts stay away."""
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
    # relationship_of asked whether there are any (without its answer, look).
    dismissed = (
        set(_dismissals()(person=user, relationship=relationship))
        if getattr(relationship, "has_dismissals", True)
        else set()
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
    return Reflection.objects.visible_to(user).select_related(
        "relationship__coach", "relationship__coachee"
    )


# Compiled once per process (config.prepared): building the journal's reads cost it
# ~2 ms of CPU a request.
_journal_settings = PreparedRead(
    lambda person: JournalSettings.objects.filter(author=person), person=Row(User)
)
_journal_count = PreparedRead(
    lambda person: (
        journal_entries(person)
        .order_by()
        .values("author")
        .annotate(entries=Count("pk"))
        .values_list("entries", flat=True)
    ),
    person=Row(User),
)


@cache
def _journal_first_page(size: int) -> PreparedRead:
    return PreparedRead(lambda person: journal_entries(person)[:size], person=Row(User))


def journal_settings(user) -> JournalSettings | None:
    """The person's JournalSettings, or None (one per author)."""
    rows = _journal_settings(person=user)
    return rows[0] if rows else None


class JournalEntries:
    """journal_entries(user) for a Paginator of `first_page` entries a page: the count
    and the first page (what nearly every visit shows) run the prepared reads above;
    any other page is the same QuerySet, sliced."""

    def __init__(self, user, first_page: int):
        self.user, self.first_page = user, first_page

    def count(self) -> int:
        # visible_to keeps the author's own entries: one group, or none.
        rows = _journal_count(person=self.user)
        return rows[0] if rows else 0

    def __getitem__(self, key):
        # The Paginator's first page is [0:first_page], or [0:count] when shorter.
        first = isinstance(key, slice) and not key.start and key.step is None
        if first and key.stop is not None and key.stop <= self.first_page:
            return _journal_first_page(self.first_page)(person=self.user)[: key.stop]
        return journal_entries(self.user)[key]


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
