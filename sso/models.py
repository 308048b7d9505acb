"""An organisation's company sign-in (single sign-on): which identity provider signs its
members in, and whether it is the only way in.

The client secret is encrypted at rest (privacy.encryption, under the master key: it
belongs to the organisation, not to a person) and bound to the organisation, the issuer
and the client id, so a database edit that points the secret at another provider leaves
it unreadable. No page shows it again after it is saved, and no admin lists it."""

import hashlib
import uuid

from django.conf import settings
from django.db import models

from accounts.models import Membership, Organisation
from privacy.encryption import EncryptedText


class SingleSignOnQuerySet(models.QuerySet):
    def managed_by(self, user):
        """The configuration an HR admin may change: their own organisation's."""
        return self.filter(
            organisation__memberships__user=user,
            organisation__memberships__role=Membership.Role.HR_ADMIN,
        )

    def for_email(self, email: str):
        """The company sign-in of the organisation whose email domains hold this address
        (a domain belongs to at most one organisation with company sign-in)."""
        domain = email.rsplit("@", 1)[-1].strip().lower()
        if not domain:
            return None
        candidates = self.select_related("organisation").filter(
            organisation__email_domains__icontains=domain
        )
        return next((c for c in candidates if domain in c.organisation.domains), None)


class SingleSignOn(models.Model):
    class Protocol(models.TextChoices):
        OIDC = "oidc", "OpenID Connect"
        SAML = "saml", "SAML 2.0"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organisation = models.OneToOneField(
        Organisation, on_delete=models.CASCADE, related_name="single_sign_on"
    )
    # allauth's name for this provider, in its URLs and on each linked account: fixed per
    # organisation, so the address registered at the provider stays the same.
    provider_id = models.CharField(max_length=64, unique=True, editable=False)
    protocol = models.CharField(max_length=8, choices=Protocol.choices)
    # OpenID Connect.
    issuer = models.URLField("issuer URL", max_length=500, blank=True)
    client_id = models.CharField("client ID", max_length=255, blank=True)
    client_secret_ciphertext = models.TextField(editable=False, default="")
    client_secret = EncryptedText(
        "client_secret_ciphertext", bind=("organisation_id", "issuer", "client_id")
    )
    # SAML 2.0: the provider, from its metadata (the certificate is public), and
    # Rapport's own key pair for this organisation, which signs its requests.
    idp_metadata_url = models.URLField("metadata URL", max_length=500, blank=True)
    idp_entity_id = models.CharField(max_length=500, blank=True)
    idp_sso_url = models.URLField(max_length=1000, blank=True)
    idp_certificate = models.TextField(blank=True)
    sp_certificate = models.TextField(blank=True)
    sp_private_key_ciphertext = models.TextField(editable=False, default="")
    sp_private_key = EncryptedText(
        "sp_private_key_ciphertext", bind=("organisation_id", "idp_entity_id")
    )
    # Members sign in only through the provider; the break-glass account (an HR admin,
    # who turned it on) keeps its password, and each use of it is audited.
    sso_only = models.BooleanField("company sign-in only", default=False)
    break_glass = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = SingleSignOnQuerySet.as_manager()

    def __str__(self):
        return f"Company sign-in of {self.organisation}"

    def identity(self) -> str:
        """What makes the provider the one members were linked through: its key material
        and addresses, never a label alone. For SAML the entity ID, the sign-in address
        and the signing certificate (whoever holds its private key can sign anyone in);
        for OpenID Connect the issuer and client (its keys come from the issuer's own
        published set). Any change of these is a new provider (sso.services)."""
        if self.protocol == self.Protocol.SAML:
            parts = [self.idp_entity_id, self.idp_sso_url, "".join(self.idp_certificate.split())]
        else:
            parts = [self.issuer, self.client_id]
        return hashlib.sha256("\n".join([self.protocol, *parts]).encode()).hexdigest()

    @staticmethod
    def provider_id_for(organisation: Organisation) -> str:
        return f"org-{organisation.public_id.hex}"


class SignInFailure(models.Model):
    """A company sign-in that came back from the provider and failed: what went wrong,
    in words IT can act on, and a reference the person is shown, for HR's company sign-in
    page. Nothing about who tried (no address, no name), and no token or assertion."""

    config = models.ForeignKey(SingleSignOn, on_delete=models.CASCADE, related_name="failures")
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    reference = models.CharField(max_length=12, unique=True)
    reason = models.CharField(max_length=500)

    class Meta:
        ordering = ["-at", "-pk"]

    def __str__(self):
        return f"Sign-in failure {self.reference}"


class SAMLKeyPair(models.Model):
    """Rapport's key pair for an organisation's SAML connection before the provider's
    metadata is saved: IT registers Rapport at the provider first, from Rapport's
    metadata, which carries this certificate. Saving the provider's metadata moves the
    pair into the organisation's SingleSignOn (sso.services.sso_connect_saml)."""

    # Its sealed key is bound to this row (privacy.encryption) and its organisation.
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organisation = models.OneToOneField(
        Organisation, on_delete=models.CASCADE, related_name="saml_key_pair"
    )
    sp_certificate = models.TextField()
    sp_private_key_ciphertext = models.TextField(editable=False, default="")
    sp_private_key = EncryptedText("sp_private_key_ciphertext", bind=("organisation_id",))
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"SAML key pair of {self.organisation}"
