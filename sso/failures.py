"""Why a company sign-in failed, in words an IT admin can act on, recorded for HR's
company sign-in page under a reference the person is shown (sso.models.SignInFailure).

The reasons come from python3-saml's and PyJWT's own findings and Rapport's checks; they
name settings (audience, recipient, clock, certificate, algorithm), never a token, an
assertion or who was signing in."""

import logging
import secrets

import jwt

from sso.models import SignInFailure, SingleSignOn

logger = logging.getLogger(__name__)

KEEP = 20  # per organisation: the last few are what IT needs

# python3-saml's reason (a substring of it) → what to check.
SAML_REASONS = [
    (
        ("No Signature found", "Signature validation failed", "is not signed"),
        "The answer was not signed by the certificate in the provider's metadata (or not "
        "signed at all): check that the provider signs the assertion or the response, and "
        "save its current metadata here.",
    ),
    (
        ("audience", "Audience"),
        "The answer was for another application (audience): at the provider, set the "
        "audience (entity ID) to Rapport's metadata address shown on this page.",
    ),
    (
        ("expired", "NotOnOrAfter", "NotBefore", "not yet valid", "Timing issues"),
        "The answer had expired or was not valid yet: check the provider's clock (clock "
        "skew), and that signing in took less than a few minutes.",
    ),
    (
        ("destination", "Destination", "Recipient", "recipient"),
        "The answer was sent for another address (recipient): at the provider, set the "
        "ACS URL to the one shown on this page.",
    ),
    (
        ("deprecated", "Deprecated"),
        "The answer was signed with an algorithm Rapport refuses (SHA-1): have the "
        "provider sign with RSA-SHA256.",
    ),
    (
        ("AttributeStatement", "NameID", "attribute"),
        "The answer did not say who signed in: send the email address as an attribute "
        "(mail or emailaddress) or as the NameID.",
    ),
]

JWT_REASONS = [
    (
        jwt.InvalidAudienceError,
        "The ID token was for another application (audience): check the client ID saved "
        "here is the one the provider issued.",
    ),
    (
        jwt.ExpiredSignatureError,
        "The ID token had expired: check the provider's clock (clock skew).",
    ),
    (
        jwt.ImmatureSignatureError,
        "The ID token was not valid yet: check the provider's clock (clock skew).",
    ),
    (
        jwt.InvalidIssuerError,
        "The ID token came from another issuer than the one saved here.",
    ),
    (
        jwt.InvalidSignatureError,
        "The ID token's signature did not match the provider's published keys.",
    ),
]


def reason_for(*, exception=None, extra_context=None) -> str:
    saml = (extra_context or {}).get("saml_last_error_reason") or ""
    if saml or (extra_context or {}).get("saml_errors"):
        for needles, reason in SAML_REASONS:
            if any(needle in saml for needle in needles):
                return reason
        return f"The provider's answer was refused: {saml[:200] or 'it could not be read'}."
    import requests

    from sso.fetch import FetchRefused

    if isinstance(exception, FetchRefused):
        return str(exception)[:400]
    if isinstance(exception, requests.RequestException):
        return (
            "Rapport could not reach the provider (its discovery, keys or token address): "
            "check it is up and reachable from the internet."
        )
    cause = getattr(exception, "__cause__", None)
    for kind, reason in JWT_REASONS:
        if isinstance(cause, kind):
            return reason
    message = str(exception or "")
    if "not signed with one of the provider's keys" in message:
        return (
            "The ID token was not signed with an algorithm Rapport accepts (RS256, PS256 "
            "or ES256 with a published key; never 'none' or HS256)."
        )
    if message:
        return f"The provider's answer was refused: {message[:200]}"
    return (
        "The sign-in did not come back as started (it took too long, or was opened in "
        "another browser): try again."
    )


def failure_record(*, provider_id: str, reason: str) -> SignInFailure | None:
    config = SingleSignOn.objects.filter(provider_id=provider_id).first()
    if config is None:
        return None
    failure = SignInFailure.objects.create(
        config=config, reference=secrets.token_hex(4).upper(), reason=reason
    )
    stale = config.failures.values_list("pk", flat=True)[KEEP:]
    SignInFailure.objects.filter(pk__in=list(stale)).delete()
    logger.warning(
        "Company sign-in failed for %s: %s (reference %s)",
        config.provider_id,
        reason,
        failure.reference,
    )
    return failure
