"""Use cases for people, organisations, teams and invitations. Each function is
the whole use case: it validates, saves and sends what it must, in one transaction."""

import csv
import io
import re
import secrets
import threading
import unicodedata
import weakref
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models.functions import Lower
from django.dispatch import Signal
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify

from accounts.audit import audit_log_verify, audit_record  # noqa: F401 (re-exported)
from accounts.models import (
    Invitation,
    Membership,
    Organisation,
    Team,
    User,
    hash_invitation_token,
)
from accounts.sessions import privileged_sessions_shorten
from outbox.services import cancel_unsent, queue_email, update_queued

# Sent inside the accepting transaction, with invitation= and user=.
invitation_accepted = Signal()


class InvitationError(Exception):
    """An invitation cannot be used; the message says why, in words for the person."""


def _unique_slug(name: str) -> str:
    base = slugify(name)[:120] or "organisation"
    slug, n = base, 1
    while Organisation.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


@transaction.atomic
def organisation_create(*, name: str, founder: User) -> Organisation:
    """Someone who signs up without an invitation founds an organisation and is its
    first HR admin."""
    organisation = Organisation(name=name.strip(), slug=_unique_slug(name))
    organisation.full_clean()
    organisation.save()
    Membership.objects.create(
        user=founder, organisation=organisation, role=Membership.Role.HR_ADMIN
    )
    return organisation


@transaction.atomic
def organisation_update(
    *,
    organisation: Organisation,
    name: str,
    anonymity_threshold: int,
    email_domains: str | None = None,
    by: User | None = None,
) -> Organisation:
    previous = Organisation.objects.get(pk=organisation.pk)
    previous_threshold = previous.anonymity_threshold
    organisation.name = name.strip()
    organisation.anonymity_threshold = anonymity_threshold
    if email_domains is not None:
        organisation.email_domains = email_domains
    organisation.full_clean()  # never below the minimum of 3
    if organisation.domains != previous.domains:
        # With company sign-in on, a new domain routes sign-ins to its provider: the same
        # rule as when it was connected (one organisation per domain).
        from sso.models import SingleSignOn
        from sso.services import check_domains_free

        if SingleSignOn.objects.filter(organisation=organisation).exists():
            try:
                check_domains_free(organisation, organisation.domains)
            except ValidationError as error:
                raise ValidationError({"email_domains": error.messages}) from None
    organisation.save(update_fields=["name", "anonymity_threshold", "email_domains"])
    if organisation.domains != previous.domains:
        audit_record(
            actor=by,
            action="organisation.email_domains_changed",
            target=organisation,
            organisation=organisation,
        )
    if anonymity_threshold != previous_threshold:
        direction = "raised" if anonymity_threshold > previous_threshold else "lowered"
        audit_record(
            actor=by,
            action=f"organisation.threshold_{direction}_{previous_threshold}_to_{anonymity_threshold}",
            target=organisation,
            organisation=organisation,
        )
    return organisation


@transaction.atomic
def team_create(*, organisation: Organisation, name: str, by: User | None = None) -> Team:
    name = name.strip()
    if (
        organisation.teams.annotate(lower_name=Lower("name"))
        .filter(lower_name=name.lower())
        .exists()
    ):
        raise ValidationError({"name": f"There is already a team called “{name}”."})
    team = Team(organisation=organisation, name=name)
    team.full_clean()
    try:
        with transaction.atomic():
            team.save()
    except IntegrityError:  # two people created the same team at once
        raise ValidationError({"name": f"There is already a team called “{name}”."}) from None
    audit_record(
        actor=by,
        action="team.created",
        target=team,
        organisation=organisation,
        details={"team": team.name},
    )
    return team


@transaction.atomic
def membership_update(
    *, membership: Membership, team: Team | None, role: str, by: User | None = None
) -> Membership:
    if team is not None and team.organisation_id != membership.organisation_id:
        raise ValidationError({"team": "Choose a team from this organisation."})
    if membership.is_hr_admin and role != Membership.Role.HR_ADMIN:
        other_admins = (
            Membership.objects.select_for_update()
            .filter(organisation=membership.organisation, role=Membership.Role.HR_ADMIN)
            .exclude(pk=membership.pk)
        )
        if not other_admins.exists():
            raise ValidationError(
                {
                    "role": "An organisation needs at least one HR admin. Make someone else "
                    "an HR admin first."
                }
            )
    role_changed = membership.role != role
    previous_team = Membership.objects.select_related("team").get(pk=membership.pk).team
    membership.team = team
    membership.role = role
    membership.full_clean()
    membership.save(update_fields=["team", "role"])
    if role_changed and role == Membership.Role.HR_ADMIN:
        privileged_sessions_shorten(membership.user)
    if previous_team != team:
        # Team moves change which groups HR's figures cover: who moved whom, from where
        # to where, with the names as they were then.
        audit_record(
            actor=by,
            action="membership.team_changed",
            target=membership,
            organisation=membership.organisation,
            subject=membership.user,
            details={
                "from_team": previous_team.name if previous_team else None,
                "to_team": team.name if team else None,
            },
        )
    if role_changed:
        audit_record(
            actor=by,
            action=f"membership.role_{role}",
            target=membership,
            organisation=membership.organisation,
            subject=membership.user,
        )
    return membership


@transaction.atomic
def invitation_create(
    *,
    organisation: Organisation,
    email: str,
    team: Team | None,
    role: str,
    invited_by: User,
    site_url: str,
) -> tuple[Invitation, str]:
    """Invite someone by email. Returns the invitation and the token, which exists
    only in the email's link.

    An HR admin's invitation goes out at once, and so does a member's to an address in
    one of the organisation's email domains. A member's invitation to any other address
    waits for an HR admin's approval (`invitation_approve`): until then no email is sent,
    no link exists, and the token returned is empty.

    Inviting an address that already has an outstanding invitation renews that one
    (one row per person, not a pile of them): a fresh token, since only the old one's
    hash is stored, and a full invitation period from now. An HR admin's renewal takes
    the team and role given now, and sends an invitation waiting for approval (their
    asking again is their approval). A member's renewal changes neither team nor role
    (they cannot choose those) and an invitation waiting for approval keeps waiting."""
    email = email.strip().lower()
    if Membership.objects.filter(organisation=organisation, user__email__iexact=email).exists():
        raise ValidationError({"email": f"{email} is already a member of {organisation}."})
    if team is not None and team.organisation_id != organisation.pk:
        raise ValidationError({"team": "Choose a team from this organisation."})
    inviter_is_hr = Membership.objects.filter(
        user=invited_by, organisation=organisation, role=Membership.Role.HR_ADMIN
    ).exists()
    existing = (
        organisation.invitations.outstanding()
        .filter(email__iexact=email)
        .select_for_update()
        .order_by("-created_at")
        .first()
    )
    if existing is not None:
        return _invitation_renew(
            existing, team=team, role=role, by=invited_by, by_hr=inviter_is_hr, site_url=site_url
        )
    awaiting_approval = not inviter_is_hr and not organisation.has_domain_of(email)
    now = timezone.now()
    token = secrets.token_urlsafe(32)
    invitation = Invitation(
        organisation=organisation,
        email=email,
        team=team,
        role=role,
        invited_by=invited_by,
        # Waiting for approval: a hash of a token nobody holds, replaced on approval.
        token_hash=hash_invitation_token(token),
        expires_at=now + timedelta(days=settings.RAPPORT_INVITATION_DAYS),
        awaiting_approval=awaiting_approval,
    )
    invitation.full_clean()
    invitation.save()
    audit_record(
        actor=invited_by,
        action="invitation.requested" if awaiting_approval else "invitation.created",
        target=invitation,
        organisation=organisation,
        # A member invites only to coach someone: HR's log says "a member", not who.
        details={} if inviter_is_hr else {"by_member": True},
    )
    if awaiting_approval:
        return invitation, ""
    _send_invitation(invitation, token=token, inviter=invited_by, site_url=site_url)
    return invitation, token


def _invitation_renew(
    invitation: Invitation, *, team: Team | None, role: str, by: User, by_hr: bool, site_url: str
) -> tuple[Invitation, str]:
    """See `invitation_create`. The old link stops working: its token is replaced."""
    if not by_hr and invitation.awaiting_approval:
        return invitation, ""  # still HR's decision; nothing to send
    was_awaiting = invitation.awaiting_approval
    # The earlier email's link stops working: if it has not gone out yet, it never will.
    cancel_unsent(key_prefix=f"invitation:{invitation.public_id}:")
    token = secrets.token_urlsafe(32)
    invitation.token_hash = hash_invitation_token(token)
    invitation.expires_at = timezone.now() + timedelta(days=settings.RAPPORT_INVITATION_DAYS)
    invitation.awaiting_approval = False
    if by_hr:
        invitation.team, invitation.role = team, role
    invitation.full_clean()
    invitation.save(update_fields=["token_hash", "expires_at", "awaiting_approval", "team", "role"])
    audit_record(
        actor=by,
        action="invitation.approved" if was_awaiting else "invitation.renewed",
        target=invitation,
        organisation=invitation.organisation,
        details={} if by_hr else {"by_member": True},
    )
    # As on approval, the email names whoever first asked.
    _send_invitation(
        invitation, token=token, inviter=invitation.invited_by or by, site_url=site_url
    )
    return invitation, token


def _send_invitation(invitation: Invitation, *, token: str, inviter: User, site_url: str) -> None:
    accept_url = site_url.rstrip("/") + reverse("invitation_accept", args=[token])
    context = {"invitation": invitation, "accept_url": accept_url, "inviter": inviter}
    organisation_name = " ".join(invitation.organisation.name.split())  # one line
    subject = f"{inviter.name} invited you to {organisation_name} on Rapport"
    # Queued with the invitation: a rolled-back invitation reaches nobody's inbox, a
    # committed one is delivered even if the mail server is down right now. Each token
    # is its own intent (a resend makes a new one).
    queue_email(
        to=invitation.email,
        subject=subject,
        body=render_to_string("accounts/email/invitation.txt", context),
        template="accounts/email/invitation.txt",
        key=f"invitation:{invitation.public_id}:{invitation.token_hash}",
    )


@transaction.atomic
def invitation_approve(*, invitation: Invitation, by: User, site_url: str) -> str:
    """An HR admin lets a member's invitation to an outside address go out: a fresh
    token and a full invitation period from now. Returns the token."""
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if not invitation.is_awaiting_approval:
        raise ValidationError("Only an invitation waiting for approval can be approved.")
    token = secrets.token_urlsafe(32)
    invitation.token_hash = hash_invitation_token(token)
    invitation.expires_at = timezone.now() + timedelta(days=settings.RAPPORT_INVITATION_DAYS)
    invitation.awaiting_approval = False
    invitation.save(update_fields=["token_hash", "expires_at", "awaiting_approval"])
    audit_record(
        actor=by,
        action="invitation.approved",
        target=invitation,
        organisation=invitation.organisation,
    )
    # The email says who asked: the member who invited them, as an unapproved one would.
    _send_invitation(
        invitation, token=token, inviter=invitation.invited_by or by, site_url=site_url
    )
    return token


@transaction.atomic
def invitation_revoke(*, invitation: Invitation, by: User | None = None) -> Invitation:
    if not (invitation.is_pending or invitation.is_awaiting_approval):
        raise ValidationError("Only a pending invitation can be revoked.")
    invitation.revoked_at = timezone.now()
    invitation.save(update_fields=["revoked_at"])
    cancel_unsent(key_prefix=f"invitation:{invitation.public_id}:")
    audit_record(
        actor=by,
        action="invitation.revoked",
        target=invitation,
        organisation=invitation.organisation,
    )
    return invitation


def invitation_problem(invitation: Invitation | None, user: User | None = None) -> str | None:
    """Why this invitation cannot be accepted (by this user), or None when it can."""
    if invitation is None:
        return (
            "This invitation link isn't valid. Check that you copied the whole link, "
            "or ask your HR admin to send a new invitation."
        )
    match invitation.status:
        case Invitation.Status.ACCEPTED:
            return (
                "This invitation has already been used. Sign in with the account that "
                "accepted it, or ask your HR admin for a new invitation."
            )
        case Invitation.Status.REVOKED:
            return "This invitation was withdrawn. Ask your HR admin for a new one if you need it."
        case Invitation.Status.EXPIRED:
            return "This invitation has expired. Ask your HR admin to send you a new one."
        case Invitation.Status.AWAITING_APPROVAL:
            return "This invitation hasn't been approved yet. Ask your HR admin about it."
    if user is not None and user.is_authenticated:
        membership = Membership.objects.filter(user=user).select_related("organisation").first()
        if membership is not None and membership.organisation_id == invitation.organisation_id:
            return f"You are already a member of {invitation.organisation}."
        if membership is not None:
            return (
                f"You already belong to {membership.organisation}, and a Rapport account "
                "belongs to one organisation. Sign out and create a new account with the "
                f"invited address to join {invitation.organisation}."
            )
        if user.email.lower() != invitation.email.lower():
            return (
                "This invitation was sent to another email address than the one you are "
                f"signed in with ({user.email}). Sign out and use the invited address."
            )
    return None


@transaction.atomic
def invitation_accept(*, invitation: Invitation, user: User) -> Membership:
    """The invited person joins the organisation. The row is locked so two tabs
    cannot both use one invitation."""
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    problem = invitation_problem(invitation, user)
    if problem:
        raise InvitationError(problem)
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    membership = Membership.objects.create(
        user=user,
        organisation=invitation.organisation,
        team=invitation.team,
        role=invitation.role,
    )
    audit_record(
        actor=user,
        action="invitation.accepted",
        target=invitation,
        organisation=invitation.organisation,
        subject=user,
    )
    # Other apps attach what waited for this person (a coach's invitation, say).
    invitation_accepted.send(sender=Invitation, invitation=invitation, user=user)
    return membership


def pending_invitation_for_token(token: str | None) -> Invitation | None:
    if not token:
        return None
    return (
        Invitation.objects.pending()
        .with_token(token)
        .select_related("organisation", "team")
        .first()
    )


@transaction.atomic
def profile_update(*, user: User, display_name: str, time_zone: str) -> User:
    user.display_name = display_name.strip()
    user.time_zone = time_zone
    user.full_clean(exclude=["password"])
    user.save(update_fields=["display_name", "time_zone"])
    return user


def calendar_feed_set(*, user: User, on: bool) -> User:
    """Turn the person's private calendar feed on with a new address (the old one, if
    any, stops working) or off."""
    user.calendar_feed_key = secrets.token_hex(32) if on else ""
    user.save(update_fields=["calendar_feed_key"])
    return user


@transaction.atomic
def member_set_active(*, membership: Membership, active: bool, by: User) -> Membership:
    """An HR admin can stop someone signing in (and let them back in). They cannot read
    or take over that person's data: deactivation touches nothing else."""
    if membership.user_id == by.pk:
        raise ValidationError("You can't deactivate your own account.")
    user = membership.user
    user.is_active = active
    user.save(update_fields=["is_active"])
    audit_record(
        actor=by,
        action="membership.reactivated" if active else "membership.deactivated",
        target=membership,
        organisation=membership.organisation,
        subject=user,
    )
    return membership


# --- Telling people their credentials changed -----------------------------------------

# kind → (email subject, what happened). Never private text: only the kind of change.
CREDENTIAL_CHANGES = {
    "password_changed": ("Your password was changed", "The password of your account was changed."),
    "password_removed": ("Your password was removed", "The password of your account was removed."),
    "email_changed": (
        "Your email address was changed",
        "The email address you sign in with was changed.",
    ),
    "email_added": (
        "An email address was added to your account",
        "An email address was added to your account.",
    ),
    "email_verified": (
        "An email address on your account was verified",
        "A new email address on your account was verified.",
    ),
    "email_removed": (
        "An email address was removed from your account",
        "An email address was removed from your account.",
    ),
    "mfa_added": (
        "Two-factor authentication was set up",
        "Two-factor authentication was set up on your account.",
    ),
    "mfa_removed": (
        "Two-factor authentication was removed",
        "Two-factor authentication was removed from your account.",
    ),
    "passkey_added": (
        "A passkey was added to your account",
        "A passkey was added to your account: it can sign in to Rapport.",
    ),
    "passkey_removed": (
        "A passkey was removed from your account",
        "A passkey was removed from your account: it no longer signs in to Rapport.",
    ),
    "sso_connected": (
        "Your account now signs in through company sign-in",
        "Your account was joined to your organisation's company sign-in: it can sign you in.",
    ),
    "mfa_reset": (
        "New recovery codes were made",
        "New two-factor recovery codes were made for your account; the old ones no longer work.",
    ),
}

# Who did it, as far as Rapport knows.
CHANGED_BY = {
    "signed_in": "It was done by someone signed in to your account.",
    "reset_link": "It was done with a password-reset link sent to your email address.",
    "confirmation_link": "It was done by opening a confirmation link sent to that address.",
    None: (
        "It was not done from your own account pages: for example, by an administrator "
        "with access to the server."
    ),
}


class _Notice:
    """One email about one kind of change, queued with the change."""

    def __init__(self, *, user_id: int, kind: str, how: str | None, also_to: set[str]):
        self.user_id, self.kind, self.how, self.also_to = user_id, kind, how, also_to
        self.when = timezone.now()
        self.email = None  # the queued email, rewritten if the change is reported again
        self.cancelled = False


# Notices of the transaction in progress, per thread, so a second report of the same
# change rewrites the queued email instead of queueing another. Weak: each lives until
# its transaction ends (its on-commit callback holds it; a rollback drops both).
_pending = threading.local()


def _pending_notices() -> weakref.WeakValueDictionary:
    if not hasattr(_pending, "notices"):
        _pending.notices = weakref.WeakValueDictionary()
    return _pending.notices


def credential_change_notify(
    *, user: User, kind: str, how: str | None = None, also_to: tuple[str, ...] = ()
) -> None:
    """Email the person that their password, email addresses or second factor changed
    (queued in this transaction, sent once it commits), and record it in the audit log.
    The same change reported twice in one transaction (by the User save and by
    allauth's signal) sends one email; the signal's report of who did it wins."""
    if kind not in CREDENTIAL_CHANGES:
        raise ValueError(f"Unknown credential change {kind!r}.")
    pending = _pending_notices()
    notice = pending.get((user.pk, kind))
    if notice is not None:
        notice.how = how or notice.how
        notice.also_to |= set(also_to)
    else:
        notice = _Notice(user_id=user.pk, kind=kind, how=how, also_to=set(also_to))
        pending[(user.pk, kind)] = notice
        audit_record(actor=None, action=f"account.{kind}", subject=user)
        transaction.on_commit(lambda: _forget(notice))
    _queue_notice(notice, user)


def _forget(notice: _Notice) -> None:
    _pending_notices().pop((notice.user_id, notice.kind), None)


def credential_notices_cancel(*, user: User) -> None:
    """The account is being anonymised (deleted by its owner): nothing more to tell.
    (The account's deletion forgets its other queued email.)"""
    for (user_id, _kind), notice in list(_pending_notices().items()):
        if user_id == user.pk:
            notice.cancelled = True
            if notice.email is not None:
                cancel_unsent(notice.email)


def _deliverable(address: str) -> bool:
    # .invalid never delivers (RFC 2606): anonymised accounts use it.
    return bool(address) and not address.lower().endswith(".invalid")


def _queue_notice(notice: _Notice, user: User) -> None:
    if notice.cancelled:
        return
    recipients = sorted({a.lower() for a in {user.email, *notice.also_to} if _deliverable(a)})
    if not recipients:
        return
    subject, what = CREDENTIAL_CHANGES[notice.kind]
    site = settings.RAPPORT_SITE_URL.rstrip("/")
    context = {
        "what": what,
        "when": notice.when,
        "who": CHANGED_BY.get(notice.how, CHANGED_BY[None]),
        "reset_url": site + reverse("account_reset_password"),
        "activity_url": site + reverse("my_activity"),
    }
    subject = f"[Rapport] {subject}"
    body = render_to_string("accounts/email/credential_changed.txt", context)
    if notice.email is None:
        notice.email = queue_email(
            to=recipients,
            subject=subject,
            body=body,
            template="accounts/email/credential_changed.txt",
        )
    else:
        update_queued(notice.email, to=recipients, subject=subject, body=body)


# --- Inviting many people at once -------------------------------------------------------


class BulkInputError(Exception):
    """A pasted list or an uploaded file cannot be read at all; the message says why."""


@dataclass
class BulkRow:
    """One line of a pasted list or a CSV, as read, then checked."""

    number: int
    name: str = ""
    email: str = ""
    team_name: str = ""
    problem: str = ""
    team: Team | None = None
    note: str = ""

    @property
    def ok(self) -> bool:
        return not self.problem


# "Ada Lovelace <ada@example.com>", optionally followed by ", team".
_NAME_ADDRESS = re.compile(
    # Bounded repeats: unbounded ones took minutes on a long line of spaces.
    r"^\s{0,50}\"?(?P<name>[^<>\"]{0,200}?)\"?\s{0,50}<(?P<email>[^<>]{0,320})>"
    r"\s{0,50}(?:[,;\t]\s{0,50}(?P<team>.{0,200}))?$"
)


def _row_from_fields(number: int, fields: list[str]) -> BulkRow:
    fields = [field.strip() for field in fields]
    while fields and not fields[-1]:
        fields.pop()
    if sum("@" in field for field in fields) > 1:
        return BulkRow(number, problem="Several addresses on one line: put each on its own line.")
    if len(fields) > 3:
        return BulkRow(number, problem="Too many columns: write name, address, team.")
    if not fields:  # a blank spreadsheet row: ",,"
        return BulkRow(number, problem="No email address on this line.")
    if len(fields) == 1:
        return BulkRow(number, email=fields[0])
    if len(fields) == 2:
        # "address, team" or "name, address": the address is the part with an @.
        if "@" in fields[0]:
            return BulkRow(number, email=fields[0], team_name=fields[1])
        return BulkRow(number, name=fields[0], email=fields[1])
    return BulkRow(number, name=fields[0], email=fields[1], team_name=fields[2])


def bulk_rows_from_text(text: str) -> list[BulkRow]:
    """Pasted lines: "address", "Name <address>" or "name, address, team" (commas, tabs
    from a spreadsheet, or semicolons). Blank lines are skipped."""
    rows = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        match = _NAME_ADDRESS.match(line)
        if match:
            rows.append(
                BulkRow(
                    number,
                    name=match["name"].strip(),
                    email=match["email"].strip(),
                    team_name=(match["team"] or "").strip(),
                )
            )
            continue
        delimiter = "\t" if "\t" in line else (";" if ";" in line and "," not in line else ",")
        try:
            fields = next(csv.reader([line], delimiter=delimiter))
        except csv.Error:
            fields = line.split(delimiter)
        rows.append(_row_from_fields(number, fields))
    return rows


def bulk_rows_from_csv(data: bytes) -> list[BulkRow]:
    """A CSV file with name, email and team columns; a header row naming them (in any
    order) is used when present."""
    if b"\x00" in data:
        raise BulkInputError(
            "That file isn't a CSV (it looks like a spreadsheet or another binary file). "
            "Save it as “CSV UTF-8” and upload it again."
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BulkInputError(
            "That file isn't UTF-8 text, so its names could come out garbled. Save it as "
            "“CSV UTF-8” and upload it again."
        ) from None
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    try:
        records = [
            (n, record) for n, record in enumerate(csv.reader(io.StringIO(text), dialect), 1)
        ]
    except csv.Error:
        raise BulkInputError(
            "That file couldn't be read as a CSV (a quotation mark may be unclosed). Check it, "
            "or paste the addresses instead."
        ) from None
    records = [(n, record) for n, record in records if any(field.strip() for field in record)]
    if not records:
        raise BulkInputError("That file is empty.")
    header = [field.strip().lower() for field in records[0][1]]
    columns = None
    if "email" in header or "e-mail" in header or "email address" in header:
        column_of = {}
        for index, title in enumerate(header):
            key = {"e-mail": "email", "email address": "email", "full name": "name"}.get(
                title, title
            )
            column_of.setdefault(key, index)
        columns = (column_of.get("name"), column_of["email"], column_of.get("team"))
        records = records[1:]

    def field(record, index):
        return record[index] if index is not None and index < len(record) else ""

    rows = []
    for number, record in records:
        if columns is None:
            rows.append(_row_from_fields(number, record))
        else:
            name, email, team = (field(record, index) for index in columns)
            rows.append(
                BulkRow(number, name=name.strip(), email=email.strip(), team_name=team.strip())
            )
    return rows


def invitations_bulk_preview(
    *, organisation: Organisation, rows: list[BulkRow], default_team: Team | None = None
) -> list[BulkRow]:
    """Check every row and say what is wrong with each, before anything is sent: a bad
    address, a team the organisation doesn't have, someone already a member, or an
    address twice in the list. In a fixed number of queries, whatever the length."""
    teams = {team.name.casefold(): team for team in organisation.teams.all()}
    addresses = {row.email.lower() for row in rows if row.email}
    members = set(
        Membership.objects.filter(organisation=organisation)
        .annotate(address=Lower("user__email"))
        .filter(address__in=addresses)
        .values_list("address", flat=True)
    )
    invited = set(
        organisation.invitations.outstanding()
        .annotate(address=Lower("email"))
        .filter(address__in=addresses)
        .values_list("address", flat=True)
    )
    seen: dict[str, int] = {}
    for row in rows:
        if row.problem:
            continue
        row.email = row.email.strip().lower()
        if len(row.name) > 80:
            row.problem = "The name is longer than 80 characters."
            continue
        if any(unicodedata.category(c) == "Cc" for c in row.name + row.email + row.team_name):
            row.problem = "This line has a control character in it."
            continue
        if not row.email:
            row.problem = "No email address on this line."
            continue
        try:
            validate_email(row.email)
        except ValidationError:
            row.problem = f"“{row.email}” isn't a valid email address."
            continue
        if row.team_name:
            row.team = teams.get(row.team_name.casefold())
            if row.team is None:
                row.problem = (
                    f"There is no team called “{row.team_name}”. Create it first, or fix the name."
                )
                continue
        else:
            row.team = default_team
        if row.email in members:
            row.problem = f"{row.email} is already a member of {organisation}."
            continue
        if row.email in seen:
            row.problem = f"{row.email} is also on line {seen[row.email]}."
            continue
        seen[row.email] = row.number
        if row.email in invited:
            row.note = "Already invited: the invitation is sent again."
    return rows


@dataclass
class BulkResult:
    sent: list[BulkRow]
    not_sent: list[BulkRow]


def invitations_bulk_send(
    *,
    organisation: Organisation,
    rows: list[BulkRow],
    role: str,
    invited_by: User,
    site_url: str,
    default_team: Team | None = None,
) -> BulkResult:
    """Send the rows that pass the preview's checks, checked again now: the list may have
    changed since it was previewed (someone joined, a team was renamed). Each line is one
    `invitation_create` in its own savepoint, so one line failing now keeps the others;
    the emails leave only once the whole request has committed."""
    rows = invitations_bulk_preview(organisation=organisation, rows=rows, default_team=default_team)
    sent, not_sent = [], []
    for row in rows:
        if not row.ok:
            not_sent.append(row)
            continue
        try:
            with transaction.atomic():
                invitation_create(
                    organisation=organisation,
                    email=row.email,
                    team=row.team,
                    role=role,
                    invited_by=invited_by,
                    site_url=site_url,
                )
        except ValidationError as error:
            row.problem = " ".join(error.messages)
            not_sent.append(row)
        else:
            sent.append(row)
    return BulkResult(sent=sent, not_sent=not_sent)


def bulk_rows_as_text(rows: list[BulkRow]) -> str:
    """Rows written back as "name, address, team" lines: what the preview's confirm form
    carries, read again by `bulk_rows_from_text`."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for row in rows:
        writer.writerow([row.name, row.email, row.team_name])
    return out.getvalue()
