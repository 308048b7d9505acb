"""Use cases for people, organisations, teams and invitations. Each function is
the whole use case: it validates, saves and sends what it must, in one transaction."""

import secrets
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models.functions import Lower
from django.dispatch import Signal
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify

from accounts.models import (
    AuditEvent,
    Invitation,
    Membership,
    Organisation,
    Team,
    User,
    hash_invitation_token,
)

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
    *, organisation: Organisation, name: str, anonymity_threshold: int, by: User | None = None
) -> Organisation:
    previous_threshold = Organisation.objects.get(pk=organisation.pk).anonymity_threshold
    organisation.name = name.strip()
    organisation.anonymity_threshold = anonymity_threshold
    organisation.full_clean()  # never below the minimum of 3
    organisation.save(update_fields=["name", "anonymity_threshold"])
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
def team_create(*, organisation: Organisation, name: str) -> Team:
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
    membership.team = team
    membership.role = role
    membership.full_clean()
    membership.save(update_fields=["team", "role"])
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
    only in the email's link. A new invitation replaces a pending one to the same
    address."""
    email = email.strip().lower()
    if Membership.objects.filter(organisation=organisation, user__email__iexact=email).exists():
        raise ValidationError({"email": f"{email} is already a member of {organisation}."})
    if team is not None and team.organisation_id != organisation.pk:
        raise ValidationError({"team": "Choose a team from this organisation."})
    now = timezone.now()
    organisation.invitations.pending().filter(email__iexact=email).update(revoked_at=now)
    token = secrets.token_urlsafe(32)
    invitation = Invitation(
        organisation=organisation,
        email=email,
        team=team,
        role=role,
        invited_by=invited_by,
        token_hash=hash_invitation_token(token),
        expires_at=now + timedelta(days=settings.RAPPORT_INVITATION_DAYS),
    )
    invitation.full_clean()
    invitation.save()
    audit_record(
        actor=invited_by, action="invitation.created", target=invitation, organisation=organisation
    )
    accept_url = site_url.rstrip("/") + reverse("invitation_accept", args=[token])
    context = {"invitation": invitation, "accept_url": accept_url, "inviter": invited_by}
    # Sent after commit: a rolled-back invitation must not reach anyone's inbox.
    transaction.on_commit(
        lambda: send_mail(
            subject=f"{invited_by.name} invited you to {organisation.name} on Rapport",
            message=render_to_string("accounts/email/invitation.txt", context),
            from_email=None,
            recipient_list=[email],
        )
    )
    return invitation, token


@transaction.atomic
def invitation_revoke(*, invitation: Invitation, by: User | None = None) -> Invitation:
    if not invitation.is_pending:
        raise ValidationError("Only a pending invitation can be revoked.")
    invitation.revoked_at = timezone.now()
    invitation.save(update_fields=["revoked_at"])
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


def audit_record(
    *, actor: User | None, action: str, target=None, organisation=None, subject=None
) -> AuditEvent:
    """Append an audit event, chained to the previous one by its hash. `target` is any
    model with a public_id; no text of it is kept."""
    with transaction.atomic():
        # One writer at a time extends the chain (a row lock on PostgreSQL).
        last = AuditEvent.objects.select_for_update().order_by("-id").first()
        event = AuditEvent(
            organisation=organisation,
            actor=actor,
            subject=subject,
            action=action,
            target_type=target._meta.label_lower if target is not None else "",
            target_id=getattr(target, "public_id", None),
            previous_hash=last.hash if last else "",
        )
        event.hash = event.compute_hash()
        event.save()
    return event


def audit_log_verify() -> list[str]:
    """Problems in the chain: an edited row, or a row deleted from the middle."""
    problems, previous = [], ""
    for event in AuditEvent.objects.order_by("id").iterator(chunk_size=2000):
        if event.previous_hash != previous:
            problems.append(f"event {event.pk}: the event before it was deleted or changed")
        if event.compute_hash() != event.hash:
            problems.append(f"event {event.pk}: its contents were changed")
        previous = event.hash
    return problems


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
