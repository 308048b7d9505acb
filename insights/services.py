"""Publishing HR's months. Callers (reflections.rollups) pass numbers and labels only:
nothing here knows who answered. A month is published once and never rewritten; a
later recomputation is compared with it, and differences are reported, not stored."""

from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from django.db import IntegrityError, transaction

from accounts.models import Organisation
from insights.models import Perspective, PublishedCell, PublishedMonth
from insights.suppression import Cell, suppress
from reflections.dimensions import DIMENSION_KEYS

WHOLE_ORGANISATION = "Whole organisation"
OTHER_TEAMS = "Other teams and people without a team"
PERSPECTIVES = [Perspective.COACHEE_ABOUT_COACH, Perspective.COACH_ABOUT_COACHEE]
OVERALL = "overall"
# Activity figures, in the order the dashboard shows them.
PARTICIPATION = "participation"
ACTIVE_RELATIONSHIPS = "active_relationships"
SESSIONS_HELD = "sessions_held"
ACTIVITY_MEASURES = [PARTICIPATION, ACTIVE_RELATIONSHIPS, SESSIONS_HELD]


def month_of(day: date) -> date:
    return day.replace(day=1)


@dataclass(frozen=True)
class Respondent:
    """One person's month from one perspective: their own mean of each dimension,
    so a coach answering about three coachees weighs once, like everyone else."""

    means: tuple[Fraction, ...]  # in DIMENSION_KEYS order
    known: bool = False  # an HR admin when the month is published: HR knows these

    @property
    def overall(self) -> Fraction:
        return sum(self.means, Fraction(0)) / len(self.means)


@dataclass(frozen=True)
class Activity:
    value: Fraction | int | None  # participation in percent, or a count
    people: int  # distinct people the figure is about who are not HR admins


@dataclass
class MonthSource:
    """A closed month, as numbers: per perspective, each group's respondents (teams
    with a row of their own, then everyone else), and the activity figures."""

    threshold: int
    small_team_count: int = 0
    groups: dict[str, list[tuple[str, list[Respondent]]]] = field(default_factory=dict)
    activity: dict[str, Activity] = field(default_factory=dict)


def _rounded(value: Fraction, places: str = "0.01") -> Decimal:
    exact = Decimal(value.numerator) / Decimal(value.denominator)
    return exact.quantize(Decimal(places), rounding=ROUND_HALF_UP)


def _mean(values: list[Fraction]) -> Fraction:
    return sum(values, Fraction(0)) / len(values)


def month_cells(source: MonthSource) -> list[PublishedCell]:
    """Every cell of the month with its suppression decided (unsaved, no month yet)."""
    k = source.threshold
    cells: list[PublishedCell] = []

    def add(position, group, perspective, measure, value, cell: Cell, *, count=True):
        shown = not cell.suppressed
        cells.append(
            PublishedCell(
                position=position,
                group=group,
                perspective=perspective,
                measure=measure,
                value=value if shown else None,
                respondents=cell.respondents if shown and count else None,
                reason=cell.reason,
            )
        )

    for perspective in PERSPECTIVES:
        groups = [(label, people) for label, people in source.groups.get(perspective, []) if people]
        everyone = [person for _label, people in groups for person in people]
        if not everyone:
            continue  # nobody answered from this side: nothing to publish, not even a count

        def cell_of(label, people):
            unknown = sum(not person.known for person in people)
            return Cell(label=label, respondents=len(people), unknown=unknown)

        parent = cell_of(WHOLE_ORGANISATION, everyone)
        children = [cell_of(label, people) for label, people in groups]
        suppress(parent, children, k)
        add(
            0,
            WHOLE_ORGANISATION,
            perspective,
            OVERALL,
            _rounded(_mean([p.overall for p in everyone])),
            parent,
        )
        for index, key in enumerate(DIMENSION_KEYS):
            # The same respondents as the overall cell, so the same verdict.
            mean = _mean([person.means[index] for person in everyone])
            add(0, WHOLE_ORGANISATION, perspective, key, _rounded(mean), parent)
        for position, ((label, people), child) in enumerate(
            zip(groups, children, strict=True), start=1
        ):
            add(
                position,
                label,
                perspective,
                OVERALL,
                _rounded(_mean([p.overall for p in people])),
                child,
            )
    for measure in ACTIVITY_MEASURES:
        figure = source.activity.get(measure, Activity(None, 0))
        cell = Cell(label=measure, respondents=figure.people, unknown=figure.people)
        if figure.people < k:
            cell.hide(f"fewer than {k} people outside HR")
        value = None
        if figure.value is not None:
            value = _rounded(Fraction(figure.value), "1")
        # Activity shows the figure, not a head count.
        add(0, WHOLE_ORGANISATION, "", measure, value, cell, count=False)
    return cells


def months_published(organisation: Organisation) -> dict[date, int]:
    """The organisation's published months, with the k each was published under."""
    return dict(
        PublishedMonth.objects.filter(organisation=organisation).values_list("period", "threshold")
    )


def month_publish(*, organisation: Organisation, period: date, source: MonthSource) -> bool:
    """Store a closed month, once. False if it was published already (perhaps a moment
    ago by a concurrent run): a published month is never rewritten."""
    cells = month_cells(source)
    try:
        with transaction.atomic():
            month = PublishedMonth.objects.create(
                organisation=organisation,
                period=month_of(period),
                threshold=source.threshold,
                small_team_count=source.small_team_count,
            )
            for cell in cells:
                cell.month = month
            PublishedCell.objects.bulk_create(cells)
    except IntegrityError:
        if PublishedMonth.objects.filter(
            organisation=organisation, period=month_of(period)
        ).exists():
            return False  # another run published it at the same moment
        raise  # anything else is a bug to hear about, not a month silently never published
    return True


def _key(cell: PublishedCell) -> tuple:
    return (cell.group, cell.perspective, cell.measure)


def _shown(cell: PublishedCell | None) -> tuple:
    if cell is None:
        return ("absent",)
    value = None if cell.value is None else Decimal(cell.value).normalize()
    return (value, cell.respondents, cell.reason)


def month_compare(*, organisation: Organisation, period: date, source: MonthSource) -> list[str]:
    """What a recomputation would publish differently from the stored month. Only the
    names of differing cells are reported, never figures: old and new figures side by
    side would be exactly the difference the freeze exists to keep from anyone."""
    month = PublishedMonth.objects.get(organisation=organisation, period=month_of(period))
    stored = {_key(cell): cell for cell in month.cells.all()}
    fresh = {_key(cell): cell for cell in month_cells(source)}
    differences = []
    if month.small_team_count != source.small_team_count:
        differences.append(f"{period:%Y-%m}: the number of teams folded into “Other teams”")
    for key in sorted(stored.keys() | fresh.keys()):
        if _shown(stored.get(key)) != _shown(fresh.get(key)):
            group, perspective, measure = key
            where = " · ".join(part for part in (group, perspective, measure) if part)
            differences.append(f"{period:%Y-%m}: {where}")
    return differences
