from allauth.account.decorators import reauthentication_required
from django.contrib import messages
from django.contrib.auth import logout
from django.db import transaction
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.views.decorators.http import require_GET, require_http_methods

from accounts.services import audit_record
from privacy.services import account_delete, data_export


def _export(request):
    audit_record(actor=request.user, action="data.exported", subject=request.user)
    return data_export(request.user)


@require_GET
@transaction.atomic  # its audit row, only if the export is made: see config/transactions.py
def export_json(request):
    response = JsonResponse(_export(request), json_dumps_params={"indent": 2})
    response["Content-Disposition"] = 'attachment; filename="rapport-my-data.json"'
    return response


@require_GET
@transaction.atomic  # its audit row, only if the export is made: see config/transactions.py
def export_html(request):
    html = render_to_string("privacy/export.html", {"data": _export(request)}, request=request)
    response = HttpResponse(html)
    response["Content-Disposition"] = 'attachment; filename="rapport-my-data.html"'
    return response


@require_http_methods(["GET", "POST"])
@reauthentication_required
def delete_account(request):
    """Asks for the password again (allauth's reauthentication) before anything goes."""
    if request.method == "POST":
        if request.POST.get("confirm") != "delete":
            messages.error(request, "Type delete to confirm.")
            return redirect("delete_account")
        user = request.user
        logout(request)
        account_delete(user=user)
        messages.success(request, "Your account and everything you wrote are deleted.")
        return redirect("account_login")
    return render(request, "privacy/delete_account.html")


@require_GET
def my_data(request):
    return render(request, "privacy/my_data.html")
