"""Publishing HR's months. Callers (reflections.rollups) pass numbers and labels only:
nothing here knows who answered. A month is published once and never rewritten; a
later recomputation is compared with it, and differences are reported, not stored."""

import csv
import io
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


# The activity figures, in the CSV's order, and their labels there.
EXPORTED_ACTIVITY = [
    (ACTIVE_RELATIONSHIPS, "active relationships"),
    (SESSIONS_HELD, "sessions held"),
    (PARTICIPATION, "check-in participation %"),
]
# A cell a spreadsheet would read as a formula (a team named "=HYPERLINK(...)").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def as_text(typed: str) -> str:
    """Text someone typed (a team name), kept as text when the CSV is opened."""
    return "'" + typed if typed.startswith(FORMULA_START) else typed


def month_export(period: date, cells: list[tuple]) -> tuple[str, str]:
    """The month's rows of HR's CSV export, as CSV text: its trust figures, and its
    activity figures. Stored with the month when it is published, because the month
    never changes and writing a year's thousand rows on every download cost more than
    the page's whole budget (issue 15).

    `cells` are (group, perspective, measure, value, respondents, reason) in the
    published order (by position, then as published). Exactly what the dashboard
    shows: each mean as there, suppressed figures blank with the reason; per
    perspective the whole organisation overall and by dimension, then each team (both
    perspectives together) in the published order."""
    month = f"{period:%Y-%m}"
    whole, teams, activity = {}, {}, {}
    for cell in cells:
        group, perspective, measure = cell[:3]
        if not perspective:
            activity[measure] = cell
        elif group == WHOLE_ORGANISATION:
            whole[(perspective, measure)] = cell
        else:
            teams.setdefault(group, {})[perspective] = cell

    def row(group, perspective, measure, cell):
        value, respondents, reason = cell[3:] if cell else (None, None, "")
        return [
            as_text(group),
            month,
            perspective,
            measure,
            "" if reason or value is None else float(value),
            "" if reason or respondents is None else respondents,
            reason,
        ]

    trust = io.StringIO()
    writer = csv.writer(trust)
    for perspective in PERSPECTIVES:
        if (perspective, OVERALL) not in whole:
            continue  # nobody answered from this side that month
        for measure in (OVERALL, *DIMENSION_KEYS):
            cell = whole.get((perspective, measure))
            writer.writerow(row(WHOLE_ORGANISATION, perspective.value, measure, cell))
    for group, by_perspective in teams.items():
        for perspective in PERSPECTIVES:
            if perspective in by_perspective:
                writer.writerow(row(group, perspective.value, OVERALL, by_perspective[perspective]))
    figures = io.StringIO()
    writer = csv.writer(figures)
    for measure, label in EXPORTED_ACTIVITY:
        _group, _perspective, _measure, value, _people, reason = activity.get(
            measure, (None, None, None, None, None, "")
        )
        writer.writerow([month, label, "" if reason or value is None else int(value), reason])
    return trust.getvalue(), figures.getvalue()


def month_summary(cells: list[tuple]) -> dict:
    """The month's whole-organisation figures as the dashboard shows them, for its
    twelve months of trends: {perspective: {measure: [value, respondents, reason]}},
    the activity figures under the perspective "". Stored with the month when it is
    published, so the dashboard reads a year of them from twelve rows rather than
    folding a few hundred cells (issue 15). `cells` as month_export takes them."""
    summary: dict[str, dict[str, list]] = {}
    for group, perspective, measure, value, respondents, reason in cells:
        if group != WHOLE_ORGANISATION:
            continue
        if value is not None:
            # Means as before (3.4), activity figures as whole numbers.
            value = float(value) if perspective else int(value)
        summary.setdefault(str(perspective), {})[measure] = [value, respondents, reason]
    return summary


def _exported(cells: list[PublishedCell]) -> list[tuple]:
    """Cells in the published order, as month_export takes them."""
    return [
        (cell.group, cell.perspective, cell.measure, cell.value, cell.respondents, cell.reason)
        for cell in sorted(cells, key=lambda cell: cell.position)  # stable: as published
    ]


def months_published(organisation: Organisation) -> dict[date, int]:
    """The organisation's published months, with the k each was published under."""
    return dict(
        PublishedMonth.objects.filter(organisation=organisation).values_list("period", "threshold")
    )


def month_publish(*, organisation: Organisation, period: date, source: MonthSource) -> bool:
    """Store a closed month, once. False if it was published already (perhaps a moment
    ago by a concurrent run): a published month is never rewritten."""
    cells = month_cells(source)
    csv_figures, csv_activity = month_export(month_of(period), _exported(cells))
    summary = month_summary(_exported(cells))
    try:
        with transaction.atomic():
            month = PublishedMonth.objects.create(
                organisation=organisation,
                period=month_of(period),
                threshold=source.threshold,
                small_team_count=source.small_team_count,
                csv_figures=csv_figures,
                csv_activity=csv_activity,
                summary=summary,
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
    cells = list(month.cells.order_by("position", "pk"))
    stored = {_key(cell): cell for cell in cells}
    fresh = {_key(cell): cell for cell in month_cells(source)}
    differences = []
    if month.small_team_count != source.small_team_count:
        differences.append(f"{period:%Y-%m}: the number of teams folded into “Other teams”")
    for key in sorted(stored.keys() | fresh.keys()):
        if _shown(stored.get(key)) != _shown(fresh.get(key)):
            group, perspective, measure = key
            where = " · ".join(part for part in (group, perspective, measure) if part)
            differences.append(f"{period:%Y-%m}: {where}")
    # The dashboard's summary and the CSV's rows were written from these cells when the
    # month was published: they must still say the same (a fresh month's would differ
    # only where a cell does).
    if month.summary != month_summary(_exported(cells)):
        differences.append(f"{period:%Y-%m}: the dashboard's summary of the month")
    if (month.csv_figures, month.csv_activity) != month_export(month.period, _exported(cells)):
        differences.append(f"{period:%Y-%m}: the CSV export's rows")
    return differences
