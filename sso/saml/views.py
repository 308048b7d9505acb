"""allauth's SAML views, loaded on first use (python3-saml, lxml and xmlsec cost each
process about 20 MB it needs only for SAML), each behind two guards:

- a request without a Host header (HTTP/1.0, some probes) gets Django's answer for it,
  not a 500 from allauth, which reads the header directly;
- the page that asks before leaving for the provider (GET of the login view) allows the
  provider's sign-in address in the strict CSP's form-action, on that page only."""

import functools
import uuid
from importlib import import_module
from types import SimpleNamespace

from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.csrf import csrf_exempt

from sso.csp import allow_form_action
from sso.models import SAMLKeyPair, SingleSignOn


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
_acs = _allauth("acs")


@csrf_exempt
@functools.wraps(_acs)
def acs(request, organization_slug):
    """A sign-in the provider starts on its own (an app tile on the Okta or Entra portal)
    is not trusted, as nothing ties it to this browser; it is answered by starting a
    sign-in from here, which the provider (already signed in) answers at once."""
    if _unsolicited(request):
        return redirect("saml_login", organization_slug=organization_slug)
    return _acs(request, organization_slug=organization_slug)


def _unsolicited(request) -> bool:
    """Whether the posted answer answers no request (no InResponseTo). Read only to pick
    the way: nothing in it is trusted, and allauth checks every answer it is given."""
    raw = request.POST.get("SAMLResponse") if request.method == "POST" else None
    if not raw:
        return False
    from onelogin.saml2.utils import OneLogin_Saml2_Utils
    from onelogin.saml2.xml_utils import OneLogin_Saml2_XML

    try:
        root = OneLogin_Saml2_XML.to_etree(OneLogin_Saml2_Utils.b64decode(raw))
    except Exception:  # noqa: BLE001 (not XML: allauth's checks answer it)
        return False
    return not root.get("InResponseTo")


sls = csrf_exempt(_allauth("sls"))
finish_acs = _allauth("finish_acs")
_metadata = _allauth("metadata")


@login_not_required
def metadata(request, organization_slug):
    """Rapport's SAML metadata: allauth's once the provider's is saved, and before that
    from the key pair HR published (sso.services.saml_key_pair_prepare), since IT
    registers Rapport at the provider first."""
    if SingleSignOn.objects.filter(
        provider_id=organization_slug, protocol=SingleSignOn.Protocol.SAML
    ).exists():
        return _metadata(request, organization_slug=organization_slug)
    pair = SAMLKeyPair.objects.filter(organisation__public_id=_public_id(organization_slug)).first()
    if pair is None:
        raise Http404
    from allauth.socialaccount.providers.saml.utils import build_saml_config
    from onelogin.saml2.settings import OneLogin_Saml2_Settings

    from sso.saml import app_settings

    waiting = SimpleNamespace(
        idp_entity_id="",
        idp_sso_url="",
        idp_certificate="",
        sp_certificate=pair.sp_certificate,
        sp_private_key=pair.sp_private_key,
    )
    request.META.setdefault("HTTP_HOST", request.get_host())
    config = build_saml_config(request, app_settings(waiting), organization_slug)
    saml = OneLogin_Saml2_Settings(settings=config, sp_validation_only=True)
    return HttpResponse(saml.get_sp_metadata(), content_type="text/xml")


def _public_id(organization_slug: str):
    try:
        return uuid.UUID(hex=organization_slug.removeprefix("org-"))
    except ValueError:
        raise Http404 from None


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
