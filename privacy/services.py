"""Data rights: take your data with you, or delete your account.

The export holds what the person authored or can read as a party, and nothing of
anyone else's private data. Deletion removes everything the person wrote or answered
and anonymises the account: its row stays only so that the other party of each
relationship keeps what is theirs (their notes, the sessions they logged)."""

import uuid

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.usersessions.models import UserSession
from django.contrib.sessions.models import Session
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import AuditEvent, Invitation, Membership, User
from accounts.services import audit_record
from notifications.models import Notification
from outbox.services import forget_addresses
from privacy import keys
from reflections.dimensions import DIMENSIONS
from reflections.models import (
    CheckInResponse,
    CheckInRound,
    IntegrityCheck,
    JournalSettings,
    PromptDismissal,
    Reflection,
)
from reflections.prompts import ALL_PROMPTS
from reflections.selectors import round_view
from relationships.models import (
    ActionItem,
    CoachingRelationship,
    CoachingSession,
    Note,
    NoteDraft,
    ScheduledSession,
    TalkingPoint,
)


def _answers(response) -> dict:
    return {d.key: getattr(response, d.key) for d in DIMENSIONS}


def data_export(user: User) -> dict:
    """Everything the person authored or can read as a party, as plain data."""
    membership = Membership.objects.filter(user=user).select_related("organisation", "team").first()
    relationships = list(CoachingRelationship.objects.for_member(user).with_people())
    rounds = (
        CheckInRound.objects.visible_to(user)
        .select_related("relationship__coach", "relationship__coachee")
        .prefetch_related("responses")
        .order_by("opens_on")
    )
    checkins = []
    for round_ in rounds:
        view = round_view(round_, user)
        if view.mine is None and view.theirs_visible is None:
            continue
        checkins.append(
            {
                "relationship": str(round_.relationship.public_id),
                "opens_on": round_.opens_on.isoformat(),
                "mine": _answers(view.mine)
                | {"comment": view.mine_comment, "shared": view.mine.shared}
                if view.mine
                else None,
                # The other person's answers only if revealed and they chose to share.
                "theirs": _answers(view.theirs_visible) | {"comment": view.theirs_comment}
                if view.theirs_visible
                else None,
            }
        )
    return {
        "exported_at": timezone.now().isoformat(),
        "profile": {
            "email": user.email,
            "display_name": user.display_name,
            "time_zone": user.time_zone,
            "organisation": membership.organisation.name if membership else None,
            "team": membership.team.name if membership and membership.team else None,
            "role": membership.get_role_display() if membership else None,
        },
        "relationships": [
            {
                "id": str(r.public_id),
                "my_role": r.role_of(user),
                "with": r.other_party_name(user),
                "status": r.status,
                "purpose": r.purpose,
                "started": r.accepted_at.isoformat() if r.accepted_at else None,
                "ended": r.ended_at.isoformat() if r.ended_at else None,
            }
            for r in relationships
        ],
        "sessions": [
            {
                "relationship": str(s.relationship.public_id),
                "held_on": s.held_on.isoformat(),
                "duration_minutes": s.duration_minutes,
                "focus": s.get_focus_display(),
                "agenda": s.agenda,
                "summary": s.summary,
            }
            for s in CoachingSession.objects.visible_to(user)
            .select_related("relationship")
            .order_by("held_on")
        ],
        "notes": [
            {
                "relationship": str(n.relationship.public_id),
                "written_by": "me" if n.author_id == user.pk else n.author.name,
                "visibility": n.visibility,
                "written_at": n.created_at.isoformat(),
                "body": n.body,
            }
            for n in Note.objects.visible_to(user)
            .select_related("relationship", "author")
            .order_by("created_at")
        ],
        "drafts": [
            {"saved_at": d.updated_at.isoformat(), "body": d.body}
            for d in NoteDraft.objects.visible_to(user)
        ],
        "action_items": [
            {
                "relationship": str(a.relationship.public_id),
                "owner": a.owner,
                "text": a.text,
                "due_on": a.due_on.isoformat() if a.due_on else None,
                "done_at": a.done_at.isoformat() if a.done_at else None,
            }
            for a in ActionItem.objects.visible_to(user).select_related("relationship")
        ],
        "talking_points": [
            {
                "relationship": str(p.relationship.public_id),
                "session_starts_at": p.scheduled.starts_at.isoformat() if p.scheduled else None,
                "written_by": "me"
                if p.author_id == user.pk
                else p.relationship.other_party_name(user),
                "visibility": p.visibility,
                "text": p.text,
                "discussed_at": p.discussed_at.isoformat() if p.discussed_at else None,
            }
            for p in TalkingPoint.objects.visible_to(user)
            .select_related("relationship__coach", "relationship__coachee", "scheduled")
            .order_by("created_at")
        ],
        "scheduled_sessions": [
            {
                "relationship": str(s.relationship.public_id),
                "starts_at": s.starts_at.isoformat(),
                "duration_minutes": s.duration_minutes,
                "time_zone": s.time_zone,
                "repeats": s.cadence,
                "status": s.status,
            }
            for s in ScheduledSession.objects.visible_to(user)
            .select_related("relationship")
            .order_by("starts_at")
        ],
        "checkins": checkins,
        "reflections": [
            {
                "written_at": r.created_at.isoformat(),
                "prompt": ALL_PROMPTS[r.prompt].text if r.prompt in ALL_PROMPTS else "",
                "body": r.body,
            }
            for r in Reflection.objects.visible_to(user)
        ],
        "integrity_self_checks": [
            {"taken_on": c.taken_on.isoformat(), "ratings": c.ratings}
            for c in IntegrityCheck.objects.visible_to(user)
        ],
        "notifications": [
            {
                "at": n.created_at.isoformat(),
                "message": n.message,
                "read_at": n.read_at.isoformat() if n.read_at else None,
            }
            for n in Notification.objects.visible_to(user).select_related("actor")
        ],
        "audit_events": [
            {"at": e.created_at.isoformat(), "action": e.action}
            for e in AuditEvent.objects.about(user).order_by("id")
        ],
    }


def _outstanding_invitation_email(email) -> bool:
    kind, _, rest = email.idempotency_key.partition(":")
    if kind != "invitation":
        return False
    public_id = rest.partition(":")[0]
    return Invitation.objects.filter(
        public_id=public_id, accepted_at__isnull=True, revoked_at__isnull=True
    ).exists()


@transaction.atomic
def account_delete(*, user: User) -> None:
    """Delete what the person wrote or answered, end their relationships, and
    anonymise the account. The anonymous rollup numbers stay as they are."""
    membership = Membership.objects.filter(user=user).select_related("organisation").first()
    organisation = membership.organisation if membership else None
    Note.objects.filter(author=user).delete()
    NoteDraft.objects.filter(author=user).delete()
    TalkingPoint.objects.filter(author=user).delete()
    Reflection.objects.filter(author=user).delete()
    IntegrityCheck.objects.filter(author=user).delete()
    JournalSettings.objects.filter(author=user).delete()
    PromptDismissal.objects.filter(user=user).delete()
    CheckInResponse.objects.filter(respondent=user).delete()
    now = timezone.now()
    CoachingRelationship.objects.for_member(user).filter(
        status__in=CoachingRelationship.WRITABLE_STATUSES
    ).update(status=CoachingRelationship.Status.ENDED, ended_at=now)
    CoachingRelationship.objects.for_member(user).filter(
        status=CoachingRelationship.Status.INVITED
    ).update(status=CoachingRelationship.Status.WITHDRAWN, ended_at=now)
    # Sign them out everywhere and forget how they signed in.
    for session in UserSession.objects.filter(user=user):
        Session.objects.filter(session_key=session.session_key).delete()
    UserSession.objects.filter(user=user).delete()
    Authenticator.objects.filter(user=user).delete()
    addresses = {
        user.email,
        *EmailAddress.objects.filter(user=user).values_list("email", flat=True),
    }
    EmailAddress.objects.filter(user=user).delete()
    Membership.objects.filter(user=user).delete()
    # HR's list of invitations would otherwise keep the address of someone who left. Only
    # their own organisation's (another's HR must not learn that the address left Rapport);
    # any still outstanding is withdrawn, so an old link cannot be used under the scrubbed
    # address, and each row gets an address of its own, so nothing links them.
    own = Q(accepted_by=user)
    if organisation is not None:
        own |= Q(organisation=organisation, email__iexact=user.email)
    for invitation in Invitation.objects.filter(own):
        invitation.email = f"deleted-{uuid.uuid4().hex}{keys.DELETED_EMAIL_DOMAIN}"
        if invitation.accepted_at is None and invitation.revoked_at is None:
            invitation.revoked_at = now
        invitation.save(update_fields=["email", "revoked_at"])
    CoachingRelationship.objects.filter(coachee=user).update(invited_email="")
    # Email to them: unsent ones cancelled, their address gone from every row, except
    # another organisation's outstanding invitation (as above, not ours to touch).
    forget_addresses(addresses, spare=_outstanding_invitation_email)
    user.email = f"deleted-{uuid.uuid4().hex}{keys.DELETED_EMAIL_DOMAIN}"
    user.display_name = "Former member"
    user.is_active = False
    user.is_staff = False
    user.is_superuser = False
    user.set_unusable_password()
    user.save()
    # No personal data: not even who it was.
    audit_record(actor=None, action="account.deleted", organisation=organisation)
    # Their private text is deleted above; destroying the only key that opens it makes
    # every copy unreadable too, old backups of the database included.
    keys.destroy_after_commit(keys.PERSON, user.pk)
