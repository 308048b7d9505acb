"""Company sign-in over OpenID Connect: allauth's OpenID Connect provider, stricter.

allauth checks the ID token's issuer, audience and expiry, and (as the specification
allows for a token fetched straight from the provider over TLS) skips its signature.
Rapport checks the signature against the provider's published keys every time, and
sends a nonce that the token must carry back (checked in sso.adapter), so a token
replayed from another sign-in is refused too."""

import secrets

import jwt
from allauth.socialaccount.internal import jwtkit
from allauth.socialaccount.providers.oauth2.client import OAuth2Error
from allauth.socialaccount.providers.openid_connect.provider import (
    OpenIDConnectProvider,
    _pick_data,
)
from allauth.socialaccount.providers.openid_connect.views import OpenIDConnectOAuth2Adapter
from allauth.utils import build_absolute_uri
from django.urls import reverse

NONCE = "nonce"


# Signatures with a public key only: never "none", never a shared secret (HS256, whose
# "secret" would be the client secret, which Rapport holds too).
SIGNING_ALGORITHMS = {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384"}


class CompanySignInAdapter(OpenIDConnectOAuth2Adapter):
    def _decode_id_token(self, app, id_token: str) -> dict:
        try:
            header = jwt.get_unverified_header(id_token)
            if header.get("alg") not in SIGNING_ALGORITHMS or not header.get("kid"):
                raise OAuth2Error("The ID token is not signed with one of the provider's keys.")
            return jwtkit.verify_and_decode(
                credential=id_token,
                keys_url=self.openid_config["jwks_uri"],
                issuer=self.openid_config["issuer"],
                audience=app.client_id,
                lookup_kid=jwtkit.lookup_kid_jwk,
                verify_signature=True,
            )
        except (jwt.PyJWTError, KeyError, ValueError) as error:
            # allauth lets a malformed token's KeyError through: a refusal, not a 500.
            raise OAuth2Error("The ID token could not be checked.") from error

    def get_callback_url(self, request, app):
        callback = reverse("company_oidc_callback", kwargs={"provider_id": self.provider_id})
        return build_absolute_uri(request, callback, self.redirect_uri_protocol)


class CompanySignInProvider(OpenIDConnectProvider):
    id = "company_oidc"
    name = "Company sign-in"
    package = "sso.oidc"
    oauth2_adapter_class = CompanySignInAdapter
    # Proof of the code's origin (PKCE), whatever the provider requires.
    pkce_enabled_default = True

    def extract_email_addresses(self, data):
        """An address at the organisation's own domains (the adapter lets in no other) is
        the company's directory vouching for its own people, even when the provider does
        not say so (Microsoft Entra ID sends no `email_verified`), as with SAML; a
        provider that says `email_verified: false` is believed."""
        addresses = super().extract_email_addresses(data)
        if "email_verified" not in _pick_data(data):
            for address in addresses:
                address.verified = True
        return addresses

    def redirect(self, request, process, next_url=None, data=None, **kwargs):
        nonce = secrets.token_urlsafe(32)
        auth_params = kwargs.pop("auth_params", None) or self.get_auth_params()
        auth_params[NONCE] = nonce
        # The nonce is kept in allauth's state for this sign-in (the session), and
        # compared with the ID token's in sso.adapter.
        return super().redirect(
            request, process, next_url, data, auth_params=auth_params, nonce=nonce, **kwargs
        )


provider_classes = [CompanySignInProvider]
