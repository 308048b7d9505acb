import csv

from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from accounts.models import Membership
from accounts.services import audit_record
from insights.selectors import PERSPECTIVES, dashboard


def _hr_membership(request) -> Membership:
    """HR admins only; anyone else gets a 404, as if the page did not exist."""
    return get_object_or_404(
        Membership.objects.select_related("organisation"),
        user=request.user,
        role=Membership.Role.HR_ADMIN,
    )


@require_GET
def insights_dashboard(request):
    membership = _hr_membership(request)
    organisation = membership.organisation
    context = {
        "membership": membership,
        **dashboard(organisation, request.GET.get("dimension", "overall")),
    }
    audit_record(
        actor=request.user, action="insights.viewed", target=organisation, organisation=organisation
    )
    return render(request, "insights/dashboard.html", {"organisation": organisation, **context})


def _value(cell):
    return "" if cell.suppressed or cell.mean is None else cell.mean


@require_GET
def insights_export(request):
    """Exactly what the dashboard shows, for every published month, as CSV: suppressed
    figures blank, with the reason."""
    organisation = _hr_membership(request).organisation
    data = dashboard(organisation)
    audit_record(
        actor=request.user,
        action="insights.exported",
        target=organisation,
        organisation=organisation,
    )
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="rapport-insights-{organisation.slug}.csv"'
    )
    writer = csv.writer(response)
    writer.writerow(["# Minimum group size (k)", data["k"]])
    writer.writerow(
        [
            "group",
            "month",
            "perspective",
            "dimension",
            "mean (1-5)",
            "responses",
            "suppressed because",
        ]
    )
    for month in data["published_months"]:
        for perspective in PERSPECTIVES:
            cell = month.cells[perspective]
            if not cell.published:
                continue  # nobody answered from this side that month
            writer.writerow(_row("Whole organisation", month.period, perspective, "overall", cell))
            for d in data["dimensions"]:
                dimension_cell = month.dimensions[(perspective, d.key)]
                writer.writerow(
                    _row("Whole organisation", month.period, perspective, d.key, dimension_cell)
                )
        for team in month.teams:
            for perspective in PERSPECTIVES:
                cell = team.cells.get(perspective)
                if cell is not None:
                    writer.writerow(_row(team.label, month.period, perspective, "overall", cell))
    writer.writerow([])
    writer.writerow(["month", "figure", "value", "suppressed because"])
    for month in data["published_months"]:
        for label, figure in (
            ("active relationships", month.active_relationships),
            ("sessions held", month.sessions_held),
            ("check-in participation %", month.participation),
        ):
            value = "" if figure.suppressed or figure.value is None else figure.value
            writer.writerow([f"{month.period:%Y-%m}", label, value, figure.reason])
    return response


# A cell a spreadsheet would read as a formula (a team named "=HYPERLINK(...)").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _as_text(typed: str) -> str:
    """Text someone typed (a team name), kept as text when the CSV is opened."""
    return "'" + typed if typed.startswith(FORMULA_START) else typed


def _row(group, period, perspective, dimension, cell):
    return [
        _as_text(group),
        f"{period:%Y-%m}",
        perspective,
        dimension,
        _value(cell),
        "" if cell.suppressed or cell.respondents is None else cell.respondents,
        cell.reason,
    ]
