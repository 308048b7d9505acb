from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from accounts.selectors import hr_membership_or_404
from config.access import scoped_get_or_404
from config.forms import apply_validation_error
from sso.forms import CompanySignInForm, OIDCForm, SAMLForm
from sso.models import SAMLKeyPair, SingleSignOn
from sso.services import (
    ConnectLinkError,
    connect_account,
    connect_link_read,
    saml_key_pair_prepare,
    sso_connect_oidc,
    sso_connect_saml,
    sso_remove,
    sso_set_only,
)

# --- Signing in ---------------------------------------------------------------------------


@login_not_required
@require_http_methods(["GET", "POST"])
def company_sign_in(request):
    """The work email decides the organisation, and so the provider to go to."""
    if request.method == "GET":
        form = CompanySignInForm(initial={"email": request.GET.get("email", "")[:254]})
        return render(request, "sso/start.html", {"form": form})
    form = CompanySignInForm(request.POST)
    if form.is_valid():
        email = form.cleaned_data["email"]
        config = SingleSignOn.objects.for_email(email)
        if config is None:
            domain = email.rsplit("@", 1)[-1]
            form.add_error(
                "email",
                f"No organisation signs in with company sign-in for {domain} addresses. "
                "Sign in with your password or a passkey instead.",
            )
        elif config.protocol == SingleSignOn.Protocol.SAML:
            # allauth's page that asks before leaving for the provider (sso.saml.views;
            # sso.oidc.views for OpenID Connect).
            return redirect("saml_login", organization_slug=config.provider_id)
        else:
            return redirect("company_oidc_login", provider_id=config.provider_id)
    return render(request, "sso/start.html", {"form": form}, status=400)


@login_not_required
@require_http_methods(["GET", "POST"])
def connect(request, token):
    """The link emailed to an existing account: joining it to the provider is that
    account's owner's choice, made from their own mailbox."""
    try:
        user, config, uid = connect_link_read(token)
    except ConnectLinkError as error:
        return render(request, "sso/connect.html", {"problem": str(error)}, status=400)
    if request.method == "POST":
        try:
            connect_account(user=user, config=config, uid=uid)
        except ConnectLinkError as error:
            return render(request, "sso/connect.html", {"problem": str(error)}, status=400)
        messages.success(
            request,
            f"Your account now signs in through {config.organisation.name}'s company "
            "sign-in. Sign in with it now.",
        )
        return redirect(reverse("sso_start") + "?" + urlencode({"email": user.email}))
    return render(
        request,
        "sso/connect.html",
        {"email": user.email, "organisation": config.organisation},
    )


# --- HR connects the organisation's provider ------------------------------------------------


@require_http_methods(["GET", "POST"])
def settings_page(request):
    """Connect (or change) the provider: OpenID Connect or SAML 2.0, one form each; the
    form sent says which."""
    organisation = hr_membership_or_404(request).organisation
    config = (
        SingleSignOn.objects.managed_by(request.user)
        .select_related("break_glass")
        .filter(organisation=organisation)
        .first()
    )
    is_oidc = config is not None and config.protocol == SingleSignOn.Protocol.OIDC
    is_saml = config is not None and config.protocol == SingleSignOn.Protocol.SAML
    oidc_initial = {"issuer": config.issuer, "client_id": config.client_id} if is_oidc else None
    saml_initial = {"metadata_url": config.idp_metadata_url} if is_saml else None
    oidc_form = OIDCForm(initial=oidc_initial, has_secret=is_oidc, prefix="oidc")
    saml_form = SAMLForm(initial=saml_initial, prefix="saml")
    status = 200
    if request.method == "POST":
        protocol = request.POST.get("protocol")
        if protocol == "saml":
            form = saml_form = SAMLForm(request.POST, prefix="saml")
            connect = sso_connect_saml
        else:
            form = oidc_form = OIDCForm(request.POST, has_secret=is_oidc, prefix="oidc")
            connect = sso_connect_oidc
        if form.is_valid():
            try:
                connect(organisation=organisation, by=request.user, **form.cleaned_data)
            except ValidationError as error:
                apply_validation_error(form, error)
            else:
                messages.success(
                    request,
                    "Company sign-in is connected: people with a verified address at your "
                    "domains can sign in with it.",
                )
                return redirect("sso_settings")
        status = 400
    provider_id = SingleSignOn.provider_id_for(organisation)
    absolute = request.build_absolute_uri
    return render(
        request,
        "sso/settings.html",
        {
            "organisation": organisation,
            "config": config,
            "failures": config.failures.all()[:10] if config is not None else [],
            "saml_published": is_saml
            or SAMLKeyPair.objects.filter(organisation=organisation).exists(),
            "oidc_form": oidc_form,
            "saml_form": saml_form,
            "redirect_uri": absolute(
                reverse("company_oidc_callback", kwargs={"provider_id": provider_id})
            ),
            "saml_metadata_url": absolute(reverse("saml_metadata", args=[provider_id])),
            "saml_acs_url": absolute(reverse("saml_acs", args=[provider_id])),
        },
        status=status,
    )


@require_POST
def saml_prepare_view(request):
    """HR starts connecting SAML: Rapport's metadata is published for IT to register."""
    organisation = hr_membership_or_404(request).organisation
    try:
        saml_key_pair_prepare(organisation=organisation, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            "Rapport's SAML metadata is published at the address below: register Rapport "
            "at your provider with it, then give your provider's metadata here.",
        )
    return redirect(reverse("sso_settings") + "#saml-heading")


@require_POST
def only_view(request):
    organisation = hr_membership_or_404(request).organisation
    config = scoped_get_or_404(
        request, SingleSignOn.objects.managed_by(request.user), organisation=organisation
    )
    only = request.POST.get("only")
    if only not in {"on", "off"}:
        messages.error(request, "Choose whether company sign-in is the only way in.")
        return redirect("sso_settings")
    sso_set_only(organisation=config.organisation, by=request.user, only=only == "on")
    messages.success(
        request,
        "Members now sign in only through company sign-in. You keep your password as the "
        "break-glass account, and each use of it is in the audit log."
        if only == "on"
        else "Members can sign in with a password or a passkey again.",
    )
    return redirect("sso_settings")


@require_POST
def remove_view(request):
    organisation = hr_membership_or_404(request).organisation
    sso_remove(organisation=organisation, by=request.user)
    messages.success(
        request,
        "Company sign-in is removed. Members sign in with a password or a passkey; anyone "
        "who never set a password can set one with “Forgot your password?”.",
    )
    return redirect("sso_settings")
