"""allauth's OpenID Connect login and callback views, with Rapport's stricter adapter."""

import requests
from allauth.account.internal.decorators import login_not_required
from allauth.socialaccount.models import SocialApp
from allauth.socialaccount.providers.oauth2.views import OAuth2CallbackView, OAuth2LoginView
from django.http import Http404
from django.shortcuts import render

from sso.csp import allow_form_action
from sso.provider import CompanySignInAdapter


@login_not_required
def login(request, provider_id):
    """allauth's page that asks before leaving for the provider (GET), and the leaving
    (POST). The strict CSP's form-action would stop that form's redirect to another
    site, so the page allows the provider's sign-in address, and only on this page."""
    adapter = CompanySignInAdapter(request, provider_id)
    try:
        response = OAuth2LoginView.adapter_view(adapter)(request)
        if request.method == "GET" and response.status_code == 200:
            allow_form_action(response, adapter.authorize_url)
        return response
    except SocialApp.DoesNotExist:
        raise Http404 from None
    except requests.RequestException as error:
        # The provider's configuration could not be read: it is down, not Rapport.
        from sso.failures import failure_record, reason_for

        failure = failure_record(provider_id=provider_id, reason=reason_for(exception=error))
        return render(request, "socialaccount/authentication_error.html", {"failure": failure})


@login_not_required
def callback(request, provider_id):
    try:
        view = OAuth2CallbackView.adapter_view(CompanySignInAdapter(request, provider_id))
        return view(request)
    except SocialApp.DoesNotExist:
        raise Http404 from None
