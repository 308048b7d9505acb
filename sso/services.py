"""Company sign-in: HR connecting their identity provider, making it the only way in,
and a person's existing account joined to it (by a link sent to their address)."""

import hashlib
import time

from allauth.account.models import EmailAddress
from django.core import signing
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.crypto import constant_time_compare

from accounts.audit import audit_record
from accounts.models import Membership, Organisation, User
from outbox.models import OutgoingEmail
from outbox.services import queue_email
from privacy.encryption import DecryptionError
from sso.models import SAMLKeyPair, SingleSignOn
from sso.oidc.discovery import DiscoveryError, discover
from sso.saml import read_idp_metadata, self_signed_certificate

CONNECT_SALT = "sso.connect"
# Long enough to find the email, short enough that a forgotten one is no standing key.
CONNECT_MAX_AGE = 60 * 60
CONNECT_LINKS_PER_DAY = 3


def check_domains_free(organisation: Organisation, domains: list[str]) -> None:
    """A domain routes sign-ins to one organisation's provider only, and only an
    organisation its people belong to: it may not be one that another organisation's
    company sign-in uses, nor one where another organisation has members."""
    others = SingleSignOn.objects.exclude(organisation=organisation).select_related("organisation")
    for domain in domains:
        if any(domain in other.organisation.domains for other in others):
            raise ValidationError(
                f"{domain} is already used by another organisation's company sign-in."
            )
        # Only a verified address counts: anyone can type an address into a sign-up
        # form, and must not thereby keep the domain's own company from connecting it.
        outside = (
            EmailAddress.objects.filter(
                email__iendswith=f"@{domain}", verified=True, user__membership__isnull=False
            )
            .exclude(user__membership__organisation=organisation)
            .exists()
        )
        if outside:
            raise ValidationError(
                f"People of another organisation sign in with {domain} addresses, so it "
                "cannot route to your company sign-in. Contact support if it is yours."
            )


def _check_can_connect(organisation: Organisation) -> None:
    if not organisation.domains:
        raise ValidationError(
            "Add your organisation's email domains first: company sign-in lets in "
            "people whose verified address is at one of them."
        )
    check_domains_free(organisation, organisation.domains)


def _locked_config(organisation: Organisation) -> SingleSignOn | None:
    return SingleSignOn.objects.select_for_update().filter(organisation=organisation).first()


def _new(organisation: Organisation, protocol: str) -> SingleSignOn:
    return SingleSignOn(
        organisation=organisation,
        provider_id=SingleSignOn.provider_id_for(organisation),
        protocol=protocol,
    )


def _record(config: SingleSignOn, *, by: User, created: bool, changed: list[str]) -> None:
    if created:
        audit_record(
            actor=by,
            action="sso.connected",
            target=config,
            organisation=config.organisation,
            details={"protocol": config.get_protocol_display()},
        )
    else:
        audit_record(
            actor=by,
            action="sso.changed",
            target=config,
            organisation=config.organisation,
            details={"fields": changed},
        )


@transaction.atomic
def sso_connect_oidc(
    *,
    organisation: Organisation,
    by: User,
    issuer: str,
    client_id: str,
    client_secret: str = "",
) -> SingleSignOn:
    """Connects (or changes) the organisation's OpenID Connect provider. The issuer is
    asked for its configuration first, so a typo is a message now rather than a failed
    sign-in later. A blank secret keeps the one saved. A new provider (another protocol,
    issuer or client) drops every account linked to the old one: nobody is signed in as
    someone by a provider they were not linked through."""
    issuer = issuer.strip().rstrip("/")
    client_id = client_id.strip()
    client_secret = client_secret.strip()
    _check_can_connect(organisation)
    try:
        discover(issuer)
    except DiscoveryError as error:
        raise ValidationError({"issuer": str(error)}) from None

    config = _locked_config(organisation)
    created = config is None
    if created:
        config = _new(organisation, SingleSignOn.Protocol.OIDC)
    was_oidc = not created and config.protocol == SingleSignOn.Protocol.OIDC
    try:
        kept_secret = client_secret or (config.client_secret if was_oidc else "")
    except DecryptionError:  # read under the old binding, which a database edit broke
        raise ValidationError(
            {"client_secret": "The saved secret can no longer be read: enter it again."}
        ) from None
    if not kept_secret:
        raise ValidationError({"client_secret": "Enter the client secret."})
    changed = [
        label
        for label, differs in (
            ("protocol", not created and not was_oidc),
            ("issuer", issuer != config.issuer),
            ("client ID", client_id != config.client_id),
            ("client secret", bool(client_secret) and was_oidc),
        )
        if differs
    ]
    if not created and not changed:
        return config
    before = None if created else config.identity()
    config.protocol = SingleSignOn.Protocol.OIDC
    config.issuer, config.client_id = issuer, client_id
    _clear_saml(config)
    config.client_secret = kept_secret  # sealed (again) under the new binding
    config.save()
    if before is not None and before != config.identity():
        _unlink_everyone(config, told=True)
    _record(config, by=by, created=created, changed=changed)
    return config


@transaction.atomic
def saml_key_pair_prepare(*, organisation: Organisation, by: User) -> SAMLKeyPair | None:
    """HR starts connecting SAML: Rapport's metadata is published from now on, so IT can
    register Rapport at the provider before giving HR the provider's metadata. The pair
    stays the same until the provider's metadata is saved (then it is the connection's).
    None when SAML is connected already: its metadata is published."""
    _check_can_connect(organisation)
    config = SingleSignOn.objects.filter(organisation=organisation).first()
    if config is not None and config.protocol == SingleSignOn.Protocol.SAML:
        return None
    pair = SAMLKeyPair.objects.filter(organisation=organisation).first()
    if pair is None:
        key, certificate = self_signed_certificate(f"Rapport for {organisation.name}")
        pair = SAMLKeyPair(organisation=organisation, sp_certificate=certificate)
        pair.sp_private_key = key
        pair.save()
        audit_record(
            actor=by,
            action="sso.saml_prepared",
            target=organisation,
            organisation=organisation,
        )
    return pair


@transaction.atomic
def sso_connect_saml(
    *, organisation: Organisation, by: User, metadata_url: str = "", metadata_xml: str = ""
) -> SingleSignOn:
    """Connects (or changes) the organisation's SAML 2.0 provider from its metadata. The
    first time, Rapport makes the organisation its own key pair to sign requests with;
    it stays across changes, so the provider need not learn a new certificate."""
    metadata_url = metadata_url.strip()
    _check_can_connect(organisation)
    try:
        idp = read_idp_metadata(url=metadata_url, xml=metadata_xml)
    except DiscoveryError as error:
        field = "metadata_url" if metadata_url else "metadata_xml"
        raise ValidationError({field: str(error)}) from None

    config = _locked_config(organisation)
    created = config is None
    if created:
        config = _new(organisation, SingleSignOn.Protocol.SAML)
    was_saml = not created and config.protocol == SingleSignOn.Protocol.SAML
    key = certificate = ""
    if was_saml and config.sp_certificate:
        try:
            key, certificate = config.sp_private_key, config.sp_certificate
        except DecryptionError:
            key = ""  # unreadable after a database edit: a new pair, below
    prepared = SAMLKeyPair.objects.filter(organisation=organisation).first()
    if not key and prepared is not None:
        try:
            # The pair in the metadata IT registered before this was saved.
            key, certificate = prepared.sp_private_key, prepared.sp_certificate
        except DecryptionError:
            key = ""
    if not key:
        key, certificate = self_signed_certificate(f"Rapport for {organisation.name}")
    changed = [
        label
        for label, differs in (
            ("protocol", not created and not was_saml),
            ("metadata URL", metadata_url != config.idp_metadata_url),
            ("entity ID", idp["entity_id"] != config.idp_entity_id),
            ("sign-in address", idp["sso_url"] != config.idp_sso_url),
            ("certificate", idp["certificate"] != config.idp_certificate),
        )
        if differs
    ]
    if not created and not changed:
        return config
    before = None if created else config.identity()
    config.protocol = SingleSignOn.Protocol.SAML
    config.issuer = config.client_id = config.client_secret_ciphertext = ""
    config.idp_metadata_url = metadata_url
    config.idp_entity_id = idp["entity_id"]
    config.idp_sso_url = idp["sso_url"]
    config.idp_certificate = idp["certificate"]
    config.sp_certificate = certificate
    config.sp_private_key = key  # sealed (again) under the new binding
    config.save()
    if prepared is not None:
        prepared.delete()
    # A new certificate is a new provider even under the old entity ID: the entity ID is
    # a label anyone can paste, the certificate's key is what signs people in.
    if before is not None and before != config.identity():
        _unlink_everyone(config, told=True)
    _record(config, by=by, created=created, changed=changed)
    return config


def _clear_saml(config: SingleSignOn) -> None:
    config.idp_metadata_url = config.idp_entity_id = config.idp_sso_url = ""
    config.idp_certificate = config.sp_certificate = config.sp_private_key_ciphertext = ""


def _unlink_everyone(config: SingleSignOn, *, told: bool = False) -> None:
    """Nobody stays signed in through a provider they were not linked through. With
    `told`, each person who was linked is emailed that it changed: a new provider joins
    them again only through the link emailed to their own address."""
    from allauth.socialaccount.models import SocialAccount

    linked = SocialAccount.objects.filter(provider=config.provider_id)
    people = list(User.objects.filter(socialaccount__in=linked, is_active=True).distinct())
    linked.delete()
    if not told:
        return
    identity = config.identity()
    for person in people:
        queue_email(
            to=person.email,
            subject="[Rapport] Your company sign-in has changed",
            body=render_to_string(
                "sso/email/changed.txt", {"organisation": config.organisation.name}
            ),
            template="sso/email/changed.txt",
            key=f"sso-changed:{person.pk}:{config.provider_id}:{identity}",
        )


@transaction.atomic
def sso_remove(*, organisation: Organisation, by: User) -> None:
    config = SingleSignOn.objects.filter(organisation=organisation).first()
    if config is None:
        return
    _unlink_everyone(config)
    config.delete()
    audit_record(actor=by, action="sso.removed", target=organisation, organisation=organisation)


@transaction.atomic
def sso_set_only(*, organisation: Organisation, by: User, only: bool) -> SingleSignOn:
    """SSO-only: members sign in through the provider alone. The HR admin who turns it
    on keeps their password as the break-glass account (with their second factor), so
    an outage at the provider never locks HR out; each use of it is audited."""
    config = SingleSignOn.objects.select_for_update().get(organisation=organisation)
    if config.sso_only == only:
        return config
    config.sso_only = only
    config.break_glass = by if only else None
    config.save(update_fields=["sso_only", "break_glass", "updated_at"])
    audit_record(
        actor=by,
        action="sso.only_on" if only else "sso.only_off",
        target=config,
        organisation=organisation,
    )
    return config


def password_sign_in_refused(user: User) -> SingleSignOn | None:
    """The company sign-in that refuses this person's password (or passkey, or emailed
    code): their organisation's, when it is SSO-only and they are not its break-glass
    account."""
    config = (
        SingleSignOn.objects.select_related("organisation")
        .filter(organisation__memberships__user=user, sso_only=True)
        .first()
    )
    if config is None or _is_break_glass(config, user):
        return None
    return config


def _is_break_glass(config: SingleSignOn, user: User) -> bool:
    """Break-glass belongs to the HR admin who turned SSO-only on while they are one:
    demoted, they sign in through the provider like everyone else."""
    return (
        config.break_glass_id == user.pk
        and Membership.objects.filter(
            user=user, organisation_id=config.organisation_id, role=Membership.Role.HR_ADMIN
        ).exists()
    )


def refused_message(config: SingleSignOn) -> str:
    return (
        f"{config.organisation.name} signs in through company sign-in only: use “Sign in "
        "with your company account” below, with your work email address."
    )


def break_glass_used(user: User) -> None:
    config = SingleSignOn.objects.filter(break_glass=user, sso_only=True).first()
    if config is not None and _is_break_glass(config, user):
        audit_record(
            actor=user,
            action="sso.break_glass_used",
            target=config,
            organisation=config.organisation,
        )


# --- An existing account joined to company sign-in --------------------------------------


def connect_link_send(
    *, user: User, email: str, config: SingleSignOn, uid: str, site_url: str
) -> None:
    """Someone signed in at their organisation's provider for the first time, and an
    account that verified their address exists already. Whoever controls the provider
    (and its configuration, HR) must not thereby get into that account: it is joined only
    from a link sent to that address, the one the provider vouched for, as a password
    reset would be. Sent anywhere else (the account's other address), the link would let
    the account's holder capture the provider's person."""
    if not EmailAddress.objects.filter(user=user, email__iexact=email, verified=True).exists():
        raise ValueError("A joining link goes only to a verified address of the account.")
    token = signing.dumps(
        {
            "user": user.public_id.hex,
            "provider": config.provider_id,
            "identity": config.identity(),
            "uid": uid,
        },
        salt=CONNECT_SALT,
    )
    url = site_url.rstrip("/") + reverse("sso_connect", args=[token])
    hour = int(time.time()) // CONNECT_MAX_AGE
    subject = hashlib.sha256(f"{config.provider_id}\n{uid}".encode()).hexdigest()[:24]
    key = f"sso-connect:{user.pk}:{config.identity()[:24]}:{subject}:{hour}"
    if not OutgoingEmail.objects.filter(idempotency_key=key).exists():
        _count_connect_link(email=email, subject=subject)
    queue_email(
        to=email,
        subject="[Rapport] Join your account to your company sign-in",
        body=render_to_string(
            "sso/email/connect.txt",
            {"url": url, "organisation": config.organisation.name, "hours": 1},
        ),
        template="sso/email/connect.txt",
        # One email per hour, however often they try: a new one once the last expired.
        key=key,
    )


class ConnectLinkLimit(Exception):
    pass


def _count_connect_link(*, email: str, subject: str) -> None:
    """A few joining links a day per address and per person at the provider: enough to
    find one, too few to fill anyone's mailbox (a provider can vouch for one address under
    many names, or one name under many addresses)."""
    counters = [
        "sso-connect-links:address:" + hashlib.sha256(email.lower().encode()).hexdigest()[:32],
        f"sso-connect-links:subject:{subject}",
    ]
    day = 24 * 60 * 60
    now = time.time()
    # When each of the last day's links was sent (a sliding day, not a calendar one).
    sent = {counter: [t for t in cache.get(counter, []) if t > now - day] for counter in counters}
    if any(len(times) >= CONNECT_LINKS_PER_DAY for times in sent.values()):
        raise ConnectLinkLimit(
            f"Rapport has sent {CONNECT_LINKS_PER_DAY} links to join your account today: "
            f"use the latest one in your email at {email}, or try again tomorrow."
        )
    for counter, times in sent.items():
        cache.set(counter, [*times, now], timeout=day)


class ConnectLinkError(Exception):
    pass


def connect_link_read(token: str) -> tuple[User, SingleSignOn, str]:
    try:
        data = signing.loads(token, salt=CONNECT_SALT, max_age=CONNECT_MAX_AGE)
    except signing.SignatureExpired:
        raise ConnectLinkError(
            "This link has expired (links last an hour). Sign in through your company "
            "again to get a new one."
        ) from None
    except signing.BadSignature:
        raise ConnectLinkError(
            "This link is not valid: copy the whole link from the email."
        ) from None
    user = User.objects.filter(public_id=data["user"], is_active=True).first()
    config = (
        SingleSignOn.objects.select_related("organisation")
        .filter(provider_id=data["provider"])
        .first()
    )
    # A link names the provider as it was when sent: changed since, it joins nobody.
    member = (
        user is not None
        and config is not None
        and constant_time_compare(str(data.get("identity", "")), config.identity())
        and Membership.objects.filter(user=user, organisation=config.organisation).exists()
    )
    if not member:
        raise ConnectLinkError("This link no longer works: company sign-in has changed since.")
    return user, config, data["uid"]


@transaction.atomic
def connect_account(*, user: User, config: SingleSignOn, uid: str) -> None:
    from allauth.socialaccount.models import SocialAccount

    from accounts.services import credential_change_notify

    taken = SocialAccount.objects.filter(provider=config.provider_id, uid=uid).first()
    if taken is not None and taken.user_id != user.pk:
        raise ConnectLinkError("This company account is already joined to another account.")
    SocialAccount.objects.get_or_create(
        provider=config.provider_id, uid=uid, defaults={"user": user, "extra_data": {}}
    )
    credential_change_notify(user=user, kind="sso_connected", how="confirmation_link")
