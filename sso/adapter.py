"""allauth's social sign-in, as Rapport's company sign-in: each organisation's provider
comes from its SingleSignOn (never allauth's SocialApp table, which would keep the
client secret in plain text), and who may come in through it is decided here."""

import logging

from allauth.account.models import EmailAddress
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.models import SocialApp
from django.db import transaction
from django.shortcuts import render
from django.utils.crypto import constant_time_compare

from accounts.audit import audit_record
from accounts.models import Membership, User
from accounts.unverified import unverified_claims_release
from privacy.encryption import DecryptionError
from sso.models import SingleSignOn
from sso.provider import NONCE, CompanySignInProvider
from sso.saml import CompanySAMLProvider
from sso.saml import app_settings as saml_settings
from sso.services import ConnectLinkLimit, connect_link_send

logger = logging.getLogger(__name__)


def social_app(config: SingleSignOn) -> SocialApp | None:
    """The provider as allauth expects it, built in memory with its secret (the client
    secret, or the SAML signing key) decrypted for this request only; None (with the
    reason logged) when the secret no longer opens: someone changed the provider's
    columns in the database."""
    try:
        if config.protocol == SingleSignOn.Protocol.SAML:
            # allauth's SAML URLs name the app by its client_id.
            return SocialApp(
                provider=CompanySAMLProvider.id,
                provider_id=config.provider_id,
                client_id=config.provider_id,
                name=config.organisation.name,
                settings=saml_settings(config),
            )
        return SocialApp(
            provider=CompanySignInProvider.id,
            provider_id=config.provider_id,
            name=config.organisation.name,
            client_id=config.client_id,
            secret=config.client_secret,
            settings={"server_url": config.issuer, "oauth_pkce_enabled": True},
        )
    except DecryptionError:
        logger.error("Company sign-in %s: its secret does not decrypt", config.public_id)
        return None


def refuse(request, reason: str, *, status: int = 403):
    """Stops the sign-in with a page that says why and what to do instead."""
    raise ImmediateHttpResponse(
        render(request, "sso/refused.html", {"reason": reason}, status=status)
    )


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def on_authentication_error(
        self, request, provider, error=None, exception=None, extra_context=None
    ):
        """A sign-in back from the provider failed: why, recorded for HR's page under a
        reference the error page shows (sso.failures). Declining at the provider is the
        person's choice, not a failure."""
        from allauth.socialaccount.providers.base.constants import AuthError

        from sso.failures import failure_record, reason_for

        super().on_authentication_error(
            request, provider, error=error, exception=exception, extra_context=extra_context
        )
        if error == AuthError.CANCELLED or extra_context is None:
            return
        app = getattr(provider, "app", None)
        if app is None:
            return
        failure = failure_record(
            provider_id=app.provider_id,
            reason=reason_for(exception=exception, extra_context=extra_context),
        )
        if failure is not None:
            extra_context["failure"] = failure

    def get_requests_session(self):
        """allauth's requests to the provider (discovery, keys, token, userinfo), each
        connection checked where it goes (sso.fetch)."""
        from sso.fetch import session

        return session()

    def list_apps(self, request, provider=None, client_id=None):
        configs = SingleSignOn.objects.select_related("organisation")
        if provider == CompanySAMLProvider.id and client_id:
            # allauth's SAML views: the organisation's provider named in the URL.
            configs = configs.filter(protocol=SingleSignOn.Protocol.SAML, provider_id=client_id)
        elif provider in (None, CompanySignInProvider.id, CompanySAMLProvider.id):
            # Asked for every provider (allauth's connections page): only the person's
            # own organisation's, never a list of every organisation's providers.
            user = getattr(request, "user", None)
            if user is None or not user.is_authenticated:
                return []
            configs = configs.filter(organisation__memberships__user=user)
        else:
            configs = configs.filter(provider_id=provider)
            if client_id:
                configs = configs.filter(client_id=client_id)
        return [app for app in map(social_app, configs) if app is not None]

    def pre_social_login(self, request, sociallogin):
        config = (
            SingleSignOn.objects.select_related("organisation")
            .filter(provider_id=sociallogin.account.provider)
            .first()
        )
        if config is None:
            refuse(request, "This company sign-in is no longer set up.", status=404)
        state = sociallogin.state or {}
        if state.get("process") != "login":
            refuse(request, "Company sign-in only signs you in; it cannot be added here.")
        if config.protocol == SingleSignOn.Protocol.OIDC:
            claims = (sociallogin.account.extra_data or {}).get("id_token") or {}
            nonce, expected = str(claims.get(NONCE, "")), str(state.get(NONCE) or "-")
            if not constant_time_compare(nonce, expected):
                refuse(request, "The sign-in answer from your company was not for this sign-in.")
        organisation = config.organisation

        if sociallogin.is_existing:
            member = Membership.objects.filter(
                user=sociallogin.user, organisation=organisation
            ).exists()
            if not member:
                refuse(request, f"Your account is no longer part of {organisation.name}.")
            return

        email = _verified_email(sociallogin)
        if email is None:
            refuse(
                request,
                "Your company's sign-in did not confirm your email address, so Rapport "
                "cannot tell which organisation you belong to. Ask your IT team to mark "
                "it verified.",
            )
        if not organisation.has_domain_of(email):
            refuse(
                request,
                f"{email} is not an address of {organisation.name}, so it cannot join "
                "through its company sign-in. Ask your HR team to invite you.",
            )
        # Whoever merely typed this address into an account (unverified) loses it: the
        # provider vouches for it, and only a verified address names an account.
        unverified_claims_release(email=email)
        existing = _account_with(email)
        if existing is not None:
            in_organisation = Membership.objects.filter(
                user=existing, organisation=organisation
            ).exists()
            if not in_organisation:
                refuse(
                    request,
                    f"A Rapport account outside {organisation.name} already uses {email}: "
                    "sign in with it as before.",
                )
            if not existing.is_active:
                refuse(
                    request,
                    f"The Rapport account of {email} cannot sign in at the moment: ask your "
                    "HR team.",
                )
            try:
                connect_link_send(
                    user=existing,
                    email=email,
                    config=config,
                    uid=sociallogin.account.uid,
                    site_url=request.build_absolute_uri("/"),
                )
            except ConnectLinkLimit as error:
                refuse(request, str(error), status=429)
            raise ImmediateHttpResponse(
                render(request, "sso/check_email.html", {"organisation": organisation})
            )
        sociallogin.user.email = email

    def is_open_for_signup(self, request, sociallogin):
        # Reached only past pre_social_login: a verified address of the organisation.
        return True

    def populate_user(self, request, sociallogin, data):
        user = sociallogin.user
        user.email = (data.get("email") or "").strip().lower()
        user.display_name = " ".join((data.get("name") or "").split())[:80]
        return user

    @transaction.atomic
    def save_user(self, request, sociallogin, form=None):
        """A first sign-in through the provider: the account, and membership (never HR)
        of the provider's organisation, together."""
        user = super().save_user(request, sociallogin, form)
        config = SingleSignOn.objects.select_related("organisation").get(
            provider_id=sociallogin.account.provider
        )
        membership = Membership.objects.create(
            user=user, organisation=config.organisation, role=Membership.Role.MEMBER
        )
        audit_record(
            actor=user,
            action="sso.joined",
            target=membership,
            organisation=config.organisation,
            subject=user,
        )
        return user


def _verified_email(sociallogin) -> str | None:
    for address in sociallogin.email_addresses:
        if address.verified and address.email:
            return address.email.strip().lower()
    return None


def _account_with(email: str) -> User | None:
    """The account that proved it holds this address (verified it), if any."""
    address = (
        EmailAddress.objects.filter(email__iexact=email, verified=True)
        .select_related("user")
        .first()
    )
    return address.user if address is not None else None
