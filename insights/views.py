import csv
import io

from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from accounts.audit import audit_record
from accounts.models import Membership
from insights.selectors import dashboard, export_rows
from privacy.rls import hr_reads


def _hr_admin(membership: Membership | None) -> Membership:
    """HR admins only; anyone else gets a 404, as if the page did not exist. The
    membership is the page frame's (accounts.middleware.PageFrameMiddleware), with its
    organisation: one query for the frame, this rule and the MFA check
    (PrivilegedNeedMFAMiddleware) rather than one each."""
    if membership is None or membership.role != Membership.Role.HR_ADMIN:
        raise Http404("No Membership matches the given query.")
    return membership


@require_GET
@transaction.atomic  # its audit row, only if the page is made: see config/transactions.py
def insights_dashboard(request):
    membership = _hr_admin(request.page_frame.membership)
    organisation = membership.organisation
    with hr_reads():
        context = {
            "membership": membership,
            **dashboard(organisation, request.GET.get("dimension", "overall")),
        }
    audit_record(
        actor=request.user, action="insights.viewed", target=organisation, organisation=organisation
    )
    return render(request, "insights/dashboard.html", {"organisation": organisation, **context})


@require_GET
@transaction.atomic  # its audit row, only if the page is made: see config/transactions.py
def insights_export(request):
    """Exactly what the dashboard shows, for every published month, as CSV: suppressed
    figures blank, with the reason. Each month's rows were written when it was
    published (insights.services.month_export)."""
    organisation = _hr_admin(request.page_frame.membership).organisation
    with hr_reads():
        figures, activity = export_rows(organisation)
    audit_record(
        actor=request.user,
        action="insights.exported",
        target=organisation,
        organisation=organisation,
    )
    head, between = io.StringIO(), io.StringIO()
    writer = csv.writer(head)
    writer.writerow(["# Minimum group size (k)", organisation.anonymity_threshold])
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
    writer = csv.writer(between)
    writer.writerow([])
    writer.writerow(["month", "figure", "value", "suppressed because"])
    response = HttpResponse(
        "".join([head.getvalue(), *figures, between.getvalue(), *activity]),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = (
        f'attachment; filename="rapport-insights-{organisation.slug}.csv"'
    )
    return response
