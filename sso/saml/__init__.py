"""Company sign-in over SAML 2.0: allauth's SAML provider (python3-saml, which checks
signatures with xmlsec), configured from the identity provider's metadata.

Rapport's settings for it are strict: the assertion must be signed by the provider's
certificate, for Rapport's entity ID (the audience), at Rapport's ACS, within its time
window, and in answer to a request Rapport sent (no sign-in the provider starts on its
own). Rapport signs its requests with a key of the organisation's own, made when HR
connects the provider; its private half is encrypted at rest (sso.models)."""

import datetime

from allauth.account.models import EmailAddress
from allauth.socialaccount.providers.saml.provider import SAMLProvider
from django.conf import settings

from sso.oidc.discovery import DiscoveryError, check_address

# python3-saml (with lxml and xmlsec), requests and cryptography's X.509 are imported
# where they are used, not here: this module loads in every process (the adapter needs
# the provider class), and they cost each worker memory it needs only for a SAML
# request or for HR's SAML settings.

# Where providers put the address and the name (standard OIDs, then Entra ID's and
# others' claim URIs, then plain names), and whether the address was verified.
ATTRIBUTE_MAPPING = {
    "uid": ["urn:oasis:names:tc:SAML:attribute:subject-id"],
    "email": [
        "urn:oid:0.9.2342.19200300.100.1.3",
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress",
        "email",
        "mail",
    ],
    "email_verified": ["email_verified", "http://schemas.auth0.com/email_verified"],
    "name": [
        "urn:oid:2.16.840.1.113730.3.1.241",
        "http://schemas.microsoft.com/identity/claims/displayname",
        "displayName",
        "name",
    ],
}


NAMEID_TRANSIENT = "urn:oasis:names:tc:SAML:2.0:nameid-format:transient"


class CompanySAMLProvider(SAMLProvider):
    # In allauth's SAML provider's place (SOCIALACCOUNT_PROVIDERS["saml"]["provider_class"]),
    # with allauth's SAML URLs from sso/saml/urls.py, whose views load python3-saml only
    # when first asked.
    package = "sso.saml"

    def extract_uid(self, data):
        """Who the person is at the provider, the same every time. A transient NameID
        (SimpleSAMLphp's and Shibboleth's default) is new at each sign-in, so it names
        nobody: then the address the provider vouches for does (the adapter lets in
        only addresses at the organisation's domains)."""
        fields = self._extract(data)
        if fields.get("uid"):
            return fields["uid"]
        if data.get_nameid_format() == NAMEID_TRANSIENT and fields.get("email"):
            return "email:" + fields["email"].strip().lower()
        return data.get_nameid()

    def _extract(self, data):
        """allauth's reading of the assertion, and the address in the NameID even when
        its format is not emailAddress (Okta's and Google Workspace's default apps send
        the address as the NameID, often as "unspecified", and no attributes), when it
        is at one of the organisation's domains."""
        fields = super()._extract(data)
        nameid = (data.get_nameid() or "").strip()
        if not fields.get("email") and "@" in nameid:
            organisation = self._organisation()
            if organisation is not None and organisation.has_domain_of(nameid):
                fields["email"] = nameid
        return fields

    def _organisation(self):
        """The provider's organisation, read once per sign-in (allauth reads the
        assertion's fields several times)."""
        if not hasattr(self, "_organisation_cache"):
            from sso.models import SingleSignOn

            config = (
                SingleSignOn.objects.select_related("organisation")
                .filter(provider_id=self.app.client_id)
                .first()
            )
            self._organisation_cache = config.organisation if config is not None else None
        return self._organisation_cache

    def extract_email_addresses(self, data):
        """The organisation's own directory vouches for addresses at its domains (the
        adapter lets in no other), unless the provider says an address is unverified."""
        fields = self._extract(data)
        email = (fields.get("email") or "").strip()
        if not email:
            return []
        verified = fields.get("email_verified", True) is not False
        return [EmailAddress(email=email, verified=verified, primary=True)]


def self_signed_certificate(common_name: str) -> tuple[str, str]:
    """A new RSA key and a ten-year self-signed certificate for it, both as PEM."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name[:64])])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=3650))
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    return key_pem, certificate.public_bytes(serialization.Encoding.PEM).decode()


def pem_body(pem: str) -> str:
    """A certificate as python3-saml wants it: base64 only, no armour or line breaks."""
    return "".join(line for line in pem.strip().splitlines() if "-----" not in line)


def read_idp_metadata(*, url: str = "", xml: str = "") -> dict:
    """The provider's entity ID, sign-in address and signing certificate, from its
    metadata (fetched from `url`, or as pasted). Raises DiscoveryError with a message
    for HR."""
    import requests
    from onelogin.saml2.idp_metadata_parser import OneLogin_Saml2_IdPMetadataParser

    from sso.fetch import FetchRefused, session

    if url:
        check_address(url)
        try:
            with session() as http:
                response = http.get(url)
        except FetchRefused as error:
            raise DiscoveryError(str(error)) from None
        except requests.RequestException:
            raise DiscoveryError(f"Rapport could not reach {url}: check the address.") from None
        if response.status_code != 200:
            raise DiscoveryError(f"{url} answered {response.status_code}, not SAML metadata.")
        xml = response.text
    try:
        parsed = OneLogin_Saml2_IdPMetadataParser.parse(xml).get("idp") or {}
    except Exception:  # noqa: BLE001 (any parse failure is the same message to HR)
        raise DiscoveryError("That is not SAML metadata: paste the whole XML file.") from None
    entity_id = parsed.get("entityId")
    sso_url = (parsed.get("singleSignOnService") or {}).get("url")
    certificate = parsed.get("x509cert") or next(
        iter((parsed.get("x509certMulti") or {}).get("signing") or []), None
    )
    if not entity_id or not sso_url:
        raise DiscoveryError(
            "The metadata names no sign-in address with the HTTP-Redirect binding: check "
            "it is your provider's (IdP) metadata."
        )
    if not certificate:
        raise DiscoveryError(
            "The metadata has no signing certificate, so no answer could be trusted."
        )
    return {"entity_id": entity_id, "sso_url": sso_url, "certificate": certificate}


def app_settings(config) -> dict:
    """allauth's SAML settings for one organisation's provider."""
    return {
        "idp": {
            "entity_id": config.idp_entity_id,
            "sso_url": config.idp_sso_url,
            "x509cert": config.idp_certificate,
        },
        "attribute_mapping": ATTRIBUTE_MAPPING,
        "advanced": {
            "strict": True,
            # A signature by the provider's certificate over the assertion, or over the
            # whole Response that holds it (Keycloak's and Shibboleth's default signs
            # the Response only); python3-saml refuses an answer signed by neither, and
            # checks that the signed element is the one it reads.
            "want_assertion_signed": False,
            "want_message_signed": False,
            "authn_request_signed": True,
            "x509cert": pem_body(config.sp_certificate),
            "private_key": config.sp_private_key,
            "reject_idp_initiated_sso": True,
            "reject_deprecated_algorithm": True,
            # The address may come in the NameID alone (Okta's, Google Workspace's).
            "want_attribute_statement": False,
            # "localhost" and the test client's "testserver" are single-label hosts.
            "allow_single_label_domains": settings.RAPPORT_SSO_ALLOW_LOCAL_PROVIDERS,
        },
    }
