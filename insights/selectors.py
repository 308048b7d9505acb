"""HR's dashboard: fixed groupings (the organisation and its teams, by calendar month),
closed months only, every cell checked against the organisation's k."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Count
from django.utils import timezone

from accounts.models import Organisation
from insights.models import ActivityRollup, Perspective, TrustRollup
from insights.suppression import Cell, suppress
from reflections.charts import trend_chart
from reflections.dimensions import DIMENSIONS

OTHER_TEAMS = "Other teams and people without a team"
PERSPECTIVES = [Perspective.COACHEE_ABOUT_COACH, Perspective.COACH_ABOUT_COACHEE]


def closed_months(today: date, count: int = 12) -> list[date]:
    """The `count` calendar months before the current one, oldest first. The current
    month is published when it ends, so one new answer can't be seen as a change."""
    months, month = [], today.replace(day=1)
    for _ in range(count):
        month = (month - timedelta(days=1)).replace(day=1)
        months.append(month)
    return months[::-1]


@dataclass
class MonthRow:
    period: date
    cells: dict  # perspective -> Cell
    dimensions: dict  # (perspective, dimension key) -> Cell
    participation: float | None
    active_relationships: int
    sessions_held: int

    @property
    def gap(self) -> float | None:
        a, b = (self.cells[p].mean for p in PERSPECTIVES)
        return None if a is None or b is None else round(a - b, 2)


@dataclass
class TeamRow:
    label: str
    cells: dict  # perspective -> Cell


@dataclass
class TrendPoint:
    when: date
    mine: float | None
    theirs: float | None


def _blank(label):
    return {"label": label, "respondents": 0, "answer_sum": 0, "answer_count": 0}


def dashboard(organisation: Organisation, dimension: str = "overall") -> dict:
    k = organisation.anonymity_threshold
    if dimension not in {d.key for d in DIMENSIONS}:
        dimension = "overall"
    months = closed_months(timezone.localdate())
    teams = list(organisation.teams.annotate(member_count=Count("memberships")))
    big_teams = {t.pk: t for t in teams if t.member_count >= k}
    overall = defaultdict(lambda: defaultdict(lambda: _blank("")))
    per_dimension = defaultdict(lambda: _blank(""))
    # Plain tuples: a large organisation has thousands of cells, and model instances
    # were most of the page's time.
    cells = TrustRollup.objects.filter(organisation=organisation, period__in=months).values_list(
        "team_id", "period", "perspective", "dimension", "respondents", "answer_sum", "answer_count"
    )
    for team_id, period, perspective, dimension_key, respondents, answer_sum, answer_count in cells:
        group = team_id if team_id in big_teams else ("org" if team_id is None else None)
        if group is None:
            continue  # small teams: inside the organisation total and "other teams"
        cell = overall[(period, perspective)][group]
        # Every response answers all six statements: the respondents are the same.
        cell["respondents"] = max(cell["respondents"], respondents)
        cell["answer_sum"] += answer_sum
        cell["answer_count"] += answer_count
        if group == "org":
            per_dimension[(period, perspective, dimension_key)].update(
                respondents=respondents, answer_sum=answer_sum, answer_count=answer_count
            )
    activity = {
        a.period: a
        for a in ActivityRollup.objects.filter(
            organisation=organisation, team__isnull=True, period__in=months
        )
    }
    month_rows, team_rows = [], []
    for period in months:
        cells, dimension_cells = {}, {}
        for perspective in PERSPECTIVES:
            groups = overall[(period, perspective)]
            parent = Cell(**{**groups["org"], "label": "Whole organisation"})
            children = [
                Cell(**{**groups[team_id], "label": team.name})
                for team_id, team in big_teams.items()
                if groups[team_id]["respondents"]
            ]
            other = Cell(
                label=OTHER_TEAMS,
                respondents=parent.respondents - sum(c.respondents for c in children),
                answer_sum=parent.answer_sum - sum(c.answer_sum for c in children),
                answer_count=parent.answer_count - sum(c.answer_count for c in children),
            )
            if other.respondents > 0:
                children.append(other)
            suppress(parent, children, k)
            cells[perspective] = parent
            for d in DIMENSIONS:
                dimension_cell = Cell(
                    **{**per_dimension[(period, perspective, d.key)], "label": d.label}
                )
                # Same respondents as the overall cell, so the same verdict.
                dimension_cell.suppressed, dimension_cell.reason = parent.suppressed, parent.reason
                dimension_cells[(perspective, d.key)] = dimension_cell
            if period == months[-1]:
                team_rows.append((perspective, children))
        stats = activity.get(period)
        answered = stats.rounds_answered if stats else 0
        missed = stats.rounds_missed if stats else 0
        month_rows.append(
            MonthRow(
                period=period,
                cells=cells,
                dimensions=dimension_cells,
                participation=round(100 * answered / (answered + missed))
                if answered + missed
                else None,
                active_relationships=stats.active_relationships if stats else 0,
                sessions_held=stats.sessions_held if stats else 0,
            )
        )
    teams_table: dict[str, dict] = {}
    for perspective, children in team_rows:
        for child in children:
            teams_table.setdefault(child.label, {})[perspective] = child

    def cell_for(row, perspective):
        if dimension == "overall":
            return row.cells[perspective]
        return row.dimensions[(perspective, dimension)]

    points = [
        TrendPoint(r.period, *(cell_for(r, p).mean for p in PERSPECTIVES))
        for r in month_rows
        if any(cell_for(r, p).mean is not None for p in PERSPECTIVES)
    ]
    return {
        "k": k,
        "months": month_rows,
        "latest": month_rows[-1],
        "team_rows": [TeamRow(label, cells) for label, cells in teams_table.items()],
        "small_team_count": len(teams) - len(big_teams),
        "points": points,
        "chart": trend_chart(
            points,
            mine_label=Perspective.COACHEE_ABOUT_COACH.label,
            theirs_label=Perspective.COACH_ABOUT_COACHEE.label,
        ),
        "perspectives": [(p, p.label) for p in PERSPECTIVES],
        "dimensions": DIMENSIONS,
        "dimension_key": dimension,
        "dimension_label": next((d.label for d in DIMENSIONS if d.key == dimension), "Overall"),
        "dimension_choices": [("overall", "Overall")] + [(d.key, d.label) for d in DIMENSIONS],
    }
