"""allauth's SAML views, loaded on first use (python3-saml, lxml and xmlsec cost each
process about 20 MB it needs only for SAML), each behind two guards:

- a request without a Host header (HTTP/1.0, some probes) gets Django's answer for it,
  not a 500 from allauth, which reads the header directly;
- the page that asks before leaving for the provider (GET of the login view) allows the
  provider's sign-in address in the strict CSP's form-action, on that page only."""

import functools
from importlib import import_module

from django.contrib.auth.decorators import login_not_required
from django.views.decorators.csrf import csrf_exempt

from sso.csp import allow_form_action
from sso.models import SingleSignOn


def _allauth(name: str):
    """allauth's SAML view `name`, imported when first called."""

    @login_not_required
    def view(request, *args, **kwargs):
        request.META.setdefault("HTTP_HOST", request.get_host())
        allauth_view = getattr(import_module("allauth.socialaccount.providers.saml.views"), name)
        return allauth_view(request, *args, **kwargs)

    view.__name__ = view.__qualname__ = name
    return view


# The identity provider posts to these from its own site: no CSRF token (allauth's own
# are exempt too; the assertion's signature is the proof).
acs = csrf_exempt(_allauth("acs"))
sls = csrf_exempt(_allauth("sls"))
finish_acs = _allauth("finish_acs")
metadata = _allauth("metadata")
_login = _allauth("login")


@functools.wraps(_login)
def login(request, organization_slug):
    response = _login(request, organization_slug=organization_slug)
    if request.method == "GET" and response.status_code == 200:
        config = SingleSignOn.objects.filter(
            provider_id=organization_slug, protocol=SingleSignOn.Protocol.SAML
        ).first()
        if config is not None:
            allow_form_action(response, config.idp_sso_url)
    return response
