"""Use cases for coaching relationships. Each function is the whole use case, in one
transaction: it checks who may do it, validates, saves, audits and notifies."""

import calendar
import uuid
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.dateformat import format as format_date

from accounts.models import Invitation, Membership, User
from accounts.services import audit_record, invitation_create
from config.errors import ConflictError
from config.forms import save_once
from notifications.models import Notification
from notifications.services import notify
from outbox.models import OutgoingEmail
from outbox.services import queue_email
from privacy import rls
from reflections.models import zone_of
from reflections.services import checkin_after_session
from relationships.models import (
    ActionItem,
    CoachingRelationship,
    CoachingSession,
    Note,
    NoteDraft,
    ScheduledSession,
    TalkingPoint,
)

Status = CoachingRelationship.Status

READ_ONLY_MESSAGE = "This relationship has ended, so its history is read-only."
NOT_STARTED_MESSAGE = "This relationship starts once the invitation is accepted."


def _require_writable(relationship: CoachingRelationship) -> None:
    if relationship.status == Status.ENDED:
        raise ValidationError(READ_ONLY_MESSAGE)
    if not relationship.is_writable:
        raise ValidationError(NOT_STARTED_MESSAGE)


def _require_party(relationship: CoachingRelationship, user: User) -> str:
    role = relationship.role_of(user)
    if role is None:  # views fetch through for_member(); this is a second lock
        raise PermissionError("Not a party to this relationship.")
    return role


# How far ahead a due date may be: beyond it, a date is far more likely a slip of the
# keyboard (2099 for 2029) than a plan.
MAX_DUE_YEARS = 5


def _day(day: date) -> str:
    return format_date(day, "j F Y")


def _today_of(user: User) -> date:
    """Today on the person's own calendar: the one they think in when they type a date."""
    return timezone.now().astimezone(zone_of(user)).date()


def _check_held_on(relationship: CoachingRelationship, user: User, held_on: date) -> None:
    """A session is logged once it has happened, and within the relationship: not in
    the future (scheduling is another feature) nor before the relationship began."""
    today = _today_of(user)
    if held_on > today:
        raise ValidationError(
            {
                "held_on": f"Choose a date no later than today ({_day(today)}): "
                "a session is logged once it has taken place."
            }
        )
    if relationship.accepted_at is not None:
        began = relationship.accepted_at.astimezone(zone_of(user)).date()
        if held_on < began:
            raise ValidationError(
                {
                    "held_on": f"Choose a date on or after {_day(began)}, "
                    "when this coaching relationship began."
                }
            )


def _check_due_on(user: User, due_on: date | None) -> None:
    """A new action item is due today or later: a date already past would count as
    missed the moment it is saved."""
    if due_on is None:
        return
    today = _today_of(user)
    if due_on < today:
        raise ValidationError(
            {"due_on": f"Choose a due date from today ({_day(today)}) on, or leave it empty."}
        )
    if due_on.year > today.year + MAX_DUE_YEARS:
        raise ValidationError(
            {"due_on": f"Choose a due date within the next {MAX_DUE_YEARS} years."}
        )


def _notify(*, to: str, subject: str, template: str, context: dict, key: str) -> None:
    # Queued with the change, sent by a worker: a rolled-back change sends nothing.
    queue_email(
        to=to,
        subject=subject,
        body=render_to_string(template, context),
        template=template,
        key=key,
    )


# --- Relationships ------------------------------------------------------------


@transaction.atomic
def relationship_invite(
    *,
    coach: User,
    purpose: str,
    coachee: User | None = None,
    email: str = "",
    site_url: str,
) -> CoachingRelationship:
    """A coach asks a colleague (or an email address, which also gets an invitation
    to the organisation) to be their coachee. Nothing happens without their consent."""
    membership = Membership.objects.select_related("organisation").get(user=coach)
    organisation = membership.organisation
    email = email.strip().lower()
    if coachee is None and email:
        coachee = User.objects.filter(
            email__iexact=email, membership__organisation=organisation
        ).first()
    if coachee is not None:
        if coachee.pk == coach.pk:
            raise ValidationError({"coachee": "You can't be your own coachee."})
        if not Membership.objects.filter(user=coachee, organisation=organisation).exists():
            raise ValidationError({"coachee": "Choose someone in your organisation."})
        pair = CoachingRelationship.objects.filter(coach=coach, coachee=coachee)
        pair.stale_invitations().update(status=Status.EXPIRED)
        if pair.open().exists():
            raise ValidationError(
                {"coachee": f"You already have an open relationship with {coachee.name}."}
            )
    elif not email:
        raise ValidationError({"coachee": "Choose a colleague or enter an email address."})

    relationship = CoachingRelationship(
        organisation=organisation,
        coach=coach,
        coachee=coachee,
        invited_email="" if coachee else email,
    )
    relationship.purpose = purpose.strip()
    if coachee is None:
        # Reuse a pending invitation (HR's, say) rather than replace it: a coach must
        # not be able to revoke or downgrade someone else's invitation.
        invitation = organisation.invitations.outstanding().filter(email__iexact=email).first()
        if invitation is None:
            invitation, _token = invitation_create(
                organisation=organisation,
                email=email,
                team=None,
                role=Membership.Role.MEMBER,
                invited_by=coach,
                site_url=site_url,
            )
        relationship.invitation = invitation
    try:
        with transaction.atomic():
            relationship.save()
    except IntegrityError:  # the same pair, invited twice at once
        raise ValidationError(
            {"coachee": "You already have an open relationship with this person."}
        ) from None
    audit_record(
        actor=coach,
        action="relationship.invited",
        target=relationship,
        organisation=organisation,
        subject=coachee,
    )
    if coachee is not None:
        notify(
            recipient=coachee,
            actor=coach,
            kind=Notification.Kind.INVITATION,
            verb="would like to coach you: accept or decline the invitation",
            link=reverse("relationship_list"),
            key=f"relationship.invited:{relationship.public_id}",
        )
        _notify(
            to=coachee.email,
            subject=f"{coach.name} would like to coach you on Rapport",
            template="relationships/email/invited.txt",
            context={
                "coach": coach,
                "relationship": relationship,
                "url": site_url.rstrip("/") + reverse("relationship_list"),
            },
            key=f"relationship.invited:{relationship.public_id}",
        )
    return relationship


def relationship_attach_invited_coachee(*, invitation: Invitation, user: User) -> int:
    """When someone joins through an organisation invitation a coach sent, the coaching
    invitation becomes theirs to accept or decline."""
    return CoachingRelationship.objects.filter(
        organisation=invitation.organisation,
        invited_email__iexact=user.email,
        coachee__isnull=True,
        status=Status.INVITED,
    ).update(coachee=user, invited_email="")


@transaction.atomic
def relationship_respond(
    *, relationship: CoachingRelationship, user: User, accept: bool
) -> CoachingRelationship:
    relationship = CoachingRelationship.objects.select_for_update().get(pk=relationship.pk)
    if relationship.coachee_id != user.pk:
        raise PermissionError("Only the invited coachee can answer.")
    if relationship.invitation_has_lapsed:
        raise ValidationError(
            f"This invitation expired on {relationship.invitation_expires_at:%-d %B %Y}. "
            f"Ask {relationship.coach.name} to invite you again if you'd like to work together."
        )
    if relationship.status != Status.INVITED:
        raise ValidationError("This invitation has already been answered.")
    now = timezone.now()
    if accept:
        relationship.status = Status.ACTIVE
        relationship.accepted_at = now
    else:
        relationship.status = Status.DECLINED
        relationship.ended_at = now
    relationship.save(update_fields=["status", "accepted_at", "ended_at"])
    audit_record(
        actor=user,
        action="relationship.accepted" if accept else "relationship.declined",
        target=relationship,
        organisation=relationship.organisation,
        subject=relationship.coach,
    )
    return relationship


# What each side may do from each status. Either side can pause, resume or end; the
# coach can also withdraw an invitation that has not been answered.
TRANSITIONS = {
    "pause": ({Status.ACTIVE}, Status.PAUSED),
    "resume": ({Status.PAUSED}, Status.ACTIVE),
    "end": ({Status.ACTIVE, Status.PAUSED}, Status.ENDED),
    "withdraw": ({Status.INVITED}, Status.WITHDRAWN),
}
PAST_TENSE = {"pause": "paused", "resume": "resumed", "end": "ended", "withdraw": "withdrawn"}


@transaction.atomic
def relationship_transition(
    *, relationship: CoachingRelationship, user: User, action: str
) -> CoachingRelationship:
    relationship = CoachingRelationship.objects.select_for_update().get(pk=relationship.pk)
    role = _require_party(relationship, user)
    if action not in TRANSITIONS:
        raise ValidationError("Unknown change.")
    allowed_from, new_status = TRANSITIONS[action]
    if action == "withdraw" and role != "coach":
        raise ValidationError("Only the coach can withdraw an invitation.")
    if relationship.status not in allowed_from:
        raise ValidationError(
            f"A relationship that is {relationship.get_status_display().lower()} can't be "
            f"{PAST_TENSE[action]}."
        )
    relationship.status = new_status
    if new_status == Status.ENDED:
        relationship.ended_at = timezone.now()
    relationship.save(update_fields=["status", "ended_at"])
    if new_status == Status.ENDED:
        # Nothing left to meet about: out of both calendars (feeds drop them too).
        ScheduledSession.objects.filter(
            relationship=relationship, status=ScheduledSession.Status.SCHEDULED
        ).update(status=ScheduledSession.Status.CANCELLED, version=F("version") + 1)
    audit_record(
        actor=user,
        action=f"relationship.{new_status}",
        target=relationship,
        organisation=relationship.organisation,
        subject=relationship.other_party(user),
    )
    return relationship


# --- Scheduling -----------------------------------------------------------------

# How far ahead a session may be scheduled.
MAX_SCHEDULE_DAYS = 366
_CADENCE_DAYS = {
    ScheduledSession.Cadence.WEEKLY: 7,
    ScheduledSession.Cadence.FORTNIGHTLY: 14,
}


def schedule_refusal(relationship: CoachingRelationship, user: User) -> str | None:
    """Why this party cannot schedule, move or cancel the relationship's sessions, or
    None if they can: the coach can while the pair works together, the coachee too if
    the coach allows it."""
    if not relationship.is_writable:
        return READ_ONLY_MESSAGE if relationship.status == Status.ENDED else NOT_STARTED_MESSAGE
    if relationship.role_of(user) == "coachee" and not relationship.coachee_schedules:
        return (
            f"{relationship.coach.name} schedules your sessions: ask them to, or to let you "
            "schedule them too."
        )
    return None


def _may_schedule(relationship: CoachingRelationship, user: User) -> None:
    _require_party(relationship, user)
    refusal = schedule_refusal(relationship, user)
    if refusal:
        raise ValidationError(refusal)


def _instant(day: date, start: time, zone: ZoneInfo) -> datetime:
    """The instant `day` at `start` reads on the clocks of `zone` (a time the clocks skip
    in spring reads as the one after it, as a calendar would show it)."""
    return datetime.combine(day, start, tzinfo=zone).astimezone(UTC)


def _check_starts_at(starts_at: datetime) -> None:
    now = timezone.now()
    if starts_at <= now:
        raise ValidationError({"start_time": "Choose a time that is still to come."})
    if starts_at > now + timedelta(days=MAX_SCHEDULE_DAYS):
        raise ValidationError({"day": "Choose a day within the next year."})


def _when(scheduled: ScheduledSession, person: User) -> str:
    """ "Tuesday 1 December 2026, 10:00–10:45 (Europe/London)", on `person`'s clocks."""
    zone = zone_of(person)
    start = scheduled.starts_at.astimezone(zone)
    end = scheduled.ends_at.astimezone(zone)
    return f"{format_date(start, 'l j F Y')}, {start:%H:%M}–{end:%H:%M} ({zone.key})"


_SESSION_KINDS = {
    "scheduled": Notification.Kind.SESSION_SCHEDULED,
    "moved": Notification.Kind.SESSION_MOVED,
    "cancelled": Notification.Kind.SESSION_CANCELLED,
}


def _tell_other_party(
    scheduled: ScheduledSession, user: User, what: str, *, site_url: str, series_too=False
) -> None:
    """Email the other person who scheduled, moved or cancelled their session, and when:
    names and times only, never an agenda or a note (the email leaves Rapport)."""
    relationship = scheduled.relationship
    other = relationship.other_party(user)
    if other is None:
        return
    notify(
        recipient=other,
        actor=user,
        kind=_SESSION_KINDS[what],
        verb=f"{what} {'the series of' if series_too else 'a'} session{'s' if series_too else ''} "
        f"with you: {_when(scheduled, other)}",
        link=reverse("scheduled_detail", args=[scheduled.public_id]),
        key=f"scheduled.{what}:{scheduled.public_id}:{scheduled.version}",
    )
    if not other.email:
        return
    _notify(
        to=other.email,
        subject=f"{user.name} {what} a coaching session with you",
        template="relationships/email/scheduled.txt",
        context={
            "other": other,
            "user": user,
            "what": what,
            "when": _when(scheduled, other),
            "series_too": series_too,
            "url": site_url.rstrip("/") + reverse("scheduled_detail", args=[scheduled.public_id]),
        },
        key=f"scheduled.{what}:{scheduled.public_id}:{scheduled.version}",
    )


@transaction.atomic
def session_schedule(
    *,
    relationship: CoachingRelationship,
    user: User,
    day: date,
    start_time: time,
    duration_minutes: int,
    cadence: str,
    site_url: str,
) -> ScheduledSession:
    """The coach (or the coachee, if the coach allows it) puts the next session in both
    calendars, once or as a series; the other person is told by email."""
    _may_schedule(relationship, user)
    zone = zone_of(user)
    starts_at = _instant(day, start_time, zone)
    _check_starts_at(starts_at)
    same = ScheduledSession.objects.filter(
        relationship=relationship, status=ScheduledSession.Status.SCHEDULED, starts_at=starts_at
    ).first()
    if same is not None:
        return same  # the same form, sent twice (or the same time chosen again)
    scheduled = ScheduledSession.objects.create(
        relationship=relationship,
        starts_at=starts_at,
        slot_starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=duration_minutes),
        duration_minutes=duration_minutes,
        time_zone=zone.key,
        cadence=cadence,
        series=None if cadence == ScheduledSession.Cadence.ONCE else uuid.uuid4(),
        day_of_month=day.day if cadence == ScheduledSession.Cadence.MONTHLY else None,
        created_by=user,
    )
    # Points left over from a session held or cancelled with none after it, the other
    # person's private ones too.
    with rls.for_purpose(rls.agenda(relationship.pk)):
        TalkingPoint.objects.filter(
            relationship=relationship, scheduled__isnull=True, discussed_at__isnull=True
        ).update(scheduled=scheduled)
    _tell_other_party(scheduled, user, "scheduled", site_url=site_url)
    return scheduled


@transaction.atomic
def session_reschedule(
    *,
    scheduled: ScheduledSession,
    user: User,
    day: date,
    start_time: time,
    duration_minutes: int,
    expected_version: int,
    site_url: str,
) -> ScheduledSession:
    """Move one session (of a series: this one only); the other person is told."""
    _may_schedule(scheduled.relationship, user)
    if scheduled.status != ScheduledSession.Status.SCHEDULED:
        raise ValidationError("This session was held or cancelled: it can no longer move.")
    starts_at = _instant(day, start_time, zone_of(user))
    _check_starts_at(starts_at)
    ends_at = starts_at + timedelta(minutes=duration_minutes)
    updated = ScheduledSession.objects.filter(
        pk=scheduled.pk, version=expected_version, status=ScheduledSession.Status.SCHEDULED
    ).update(
        starts_at=starts_at,
        ends_at=ends_at,
        duration_minutes=duration_minutes,
        version=F("version") + 1,
        updated_at=timezone.now(),
    )
    if not updated:
        raise ConflictError()
    scheduled.refresh_from_db()
    _tell_other_party(scheduled, user, "moved", site_url=site_url)
    return scheduled


@transaction.atomic
def session_cancel(
    *, scheduled: ScheduledSession, user: User, whole_series: bool, site_url: str
) -> ScheduledSession:
    """Cancel one session (a series goes on with its next one) or, with `whole_series`,
    the series from this one on; the other person is told."""
    _may_schedule(scheduled.relationship, user)
    updated = ScheduledSession.objects.filter(
        pk=scheduled.pk, status=ScheduledSession.Status.SCHEDULED
    ).update(
        status=ScheduledSession.Status.CANCELLED,
        version=F("version") + 1,
        updated_at=timezone.now(),
    )
    if not updated:
        raise ValidationError("This session was held or cancelled already.")
    scheduled.refresh_from_db()
    series_too = whole_series and scheduled.series is not None
    if scheduled.series is not None and not series_too:
        _schedule_next(scheduled)
    _carry_talking_points(scheduled)
    _tell_other_party(scheduled, user, "cancelled", site_url=site_url, series_too=series_too)
    return scheduled


def _next_slot(scheduled: ScheduledSession, slot: datetime) -> datetime:
    """The series' slot after `slot`: the same time of day in the series' zone, a week,
    two weeks or a calendar month later (a monthly series keeps its day of the month, or
    the month's last day when the month is shorter)."""
    zone = ZoneInfo(scheduled.time_zone)
    local = slot.astimezone(zone)
    days = _CADENCE_DAYS.get(scheduled.cadence)
    if days is not None:
        day = local.date() + timedelta(days=days)
    else:
        year, month = divmod(local.month, 12)
        year, month = local.year + year, month + 1
        wanted = scheduled.day_of_month or local.day
        day = date(year, month, min(wanted, calendar.monthrange(year, month)[1]))
    return _instant(day, local.time().replace(tzinfo=None), zone)


def _schedule_next(scheduled: ScheduledSession) -> ScheduledSession | None:
    """A series' next session after `scheduled` (the first of its slots still to come),
    made once however many runs ask at the same moment."""
    if scheduled.series is None or not scheduled.relationship.is_writable:
        return None
    now = timezone.now()
    slot = _next_slot(scheduled, scheduled.slot_starts_at)
    while slot + timedelta(minutes=scheduled.duration_minutes) <= now:
        slot = _next_slot(scheduled, slot)
    try:
        with transaction.atomic():
            return ScheduledSession.objects.create(
                relationship=scheduled.relationship,
                starts_at=slot,
                slot_starts_at=slot,
                ends_at=slot + timedelta(minutes=scheduled.duration_minutes),
                duration_minutes=scheduled.duration_minutes,
                time_zone=scheduled.time_zone,
                cadence=scheduled.cadence,
                series=scheduled.series,
                day_of_month=scheduled.day_of_month,
                created_by=scheduled.created_by,
            )
    except IntegrityError:
        return None  # another run made it a moment ago


def _mark_held(scheduled: ScheduledSession, session: CoachingSession | None) -> None:
    """The scheduled session happened: held (with the session logged for it, if any), and
    a series schedules its next one."""
    was_scheduled = ScheduledSession.objects.filter(
        pk=scheduled.pk, status=ScheduledSession.Status.SCHEDULED
    ).update(status=ScheduledSession.Status.HELD, updated_at=timezone.now())
    if session is not None:
        ScheduledSession.objects.filter(
            pk=scheduled.pk, session__isnull=True, status=ScheduledSession.Status.HELD
        ).update(session=session)
    if was_scheduled:
        _schedule_next(scheduled)
        _carry_talking_points(scheduled)


def _carry_talking_points(scheduled: ScheduledSession) -> None:
    """The points not discussed at a session held or cancelled move to the relationship's
    next scheduled session, first on its agenda and labelled with the day they were
    first meant for; private ones stay their author's. With no next session yet they
    wait for one (session_schedule picks them up)."""
    with rls.for_purpose(rls.agenda(scheduled.relationship_id)):
        _carry_points_of(scheduled)


def _carry_points_of(scheduled: ScheduledSession) -> None:
    left = TalkingPoint.objects.filter(scheduled=scheduled, discussed_at__isnull=True)
    if not left.exists():
        return
    # The next session after this one (never an earlier one still to come), locked while
    # its agenda is renumbered.
    target = (
        ScheduledSession.objects.select_for_update()
        .filter(
            relationship_id=scheduled.relationship_id,
            status=ScheduledSession.Status.SCHEDULED,
            starts_at__gt=scheduled.starts_at,
        )
        .order_by("starts_at", "pk")
        .first()
    )
    day = scheduled.starts_at.astimezone(ZoneInfo(scheduled.time_zone)).date()
    left.filter(carried_from__isnull=True).update(carried_from=day)
    moved = list(left.values_list("pk", flat=True))
    TalkingPoint.objects.filter(pk__in=moved).update(scheduled=target)
    if target is not None:
        agenda = sorted(
            target.talking_points.all(), key=lambda point: (point.pk not in moved, point.position)
        )
        for position, point in enumerate(agenda):
            point.position = position
        TalkingPoint.objects.bulk_update(agenda, ["position"])


# How long after its end a session's agenda stays open before it counts as held: the
# two people tick off what they discussed once the meeting is over, and the points they
# did not get to move on only then.
HELD_AFTER = timedelta(hours=12)


def scheduled_sessions_roll(now: datetime | None = None) -> int:
    """Sessions over for HELD_AFTER count as held (a session can still be logged for
    them), and each series gets its next one. Safe to run in two processes at once: each
    session is marked once, and each next one made once."""
    now = now or timezone.now()
    over = ScheduledSession.objects.filter(
        status=ScheduledSession.Status.SCHEDULED, ends_at__lte=now - HELD_AFTER
    ).select_related("relationship")
    rolled = 0
    for scheduled in over.iterator():
        with transaction.atomic():
            if ScheduledSession.objects.filter(
                pk=scheduled.pk, status=ScheduledSession.Status.SCHEDULED
            ).update(status=ScheduledSession.Status.HELD, updated_at=now):
                rolled += 1
                _schedule_next(scheduled)
                _carry_talking_points(scheduled)
    return rolled


def session_reminders_send(*, now: datetime | None = None, site_url: str | None = None) -> int:
    """The day before a scheduled session, both people get an email: when, with whom,
    and a link to add their talking points (never the agenda itself). Once per person
    and time: a session moved after its reminder gets another. Safe to run often and in
    two processes at once."""
    now = now or timezone.now()
    site_url = (site_url or settings.RAPPORT_SITE_URL).rstrip("/")
    soon = ScheduledSession.objects.filter(
        status=ScheduledSession.Status.SCHEDULED,
        starts_at__gt=now,
        starts_at__lte=now + timedelta(days=1),
        relationship__status=Status.ACTIVE,
    ).select_related("relationship__coach", "relationship__coachee")
    sent = 0
    for scheduled in soon:
        relationship = scheduled.relationship
        for person in (relationship.coach, relationship.coachee):
            if person is None or not person.is_active or not person.email:
                continue
            moment = f"{scheduled.starts_at:%Y%m%dT%H%M}"
            key = f"reminder:{scheduled.public_id}:{person.public_id}:{moment}"
            if OutgoingEmail.objects.filter(idempotency_key=key).exists():
                continue
            other_name = relationship.other_party_name(person)
            with transaction.atomic():
                _notify(
                    to=person.email,
                    subject=f"Coming up: your coaching session with {other_name}",
                    template="notifications/email/reminder.txt",
                    context={
                        "person": person,
                        "other_name": other_name,
                        "when": _when(scheduled, person),
                        "url": site_url
                        + reverse("scheduled_detail", args=[scheduled.public_id])
                        + "#agenda",
                    },
                    key=key,
                )
            sent += 1
    return sent


def action_items_due_notify(*, now: datetime | None = None) -> int:
    """The owner of an open item due tomorrow (on their own clock) is told, once per
    item and due date."""
    now = now or timezone.now()
    today = now.astimezone(UTC).date()
    with rls.for_purpose(rls.DUE_ITEMS):
        return _tell_items_due(now, today)


def _tell_items_due(now: datetime, today: date) -> int:
    due = ActionItem.objects.filter(
        done_at__isnull=True,
        due_on__gte=today,
        due_on__lte=today + timedelta(days=2),
        relationship__status__in=CoachingRelationship.WRITABLE_STATUSES,
    ).select_related("relationship__coach", "relationship__coachee")
    told = 0
    for item in due:
        relationship = item.relationship
        owner = relationship.coach if item.owner == ActionItem.Owner.COACH else relationship.coachee
        if owner is None or item.due_on != now.astimezone(zone_of(owner)).date() + timedelta(
            days=1
        ):
            continue
        key = f"item_due:{item.public_id}:{item.due_on.isoformat()}"
        if Notification.objects.filter(recipient=owner, key=key).exists():
            continue
        with transaction.atomic():
            notify(
                recipient=owner,
                kind=Notification.Kind.ITEM_DUE,
                verb="an action item you own is due tomorrow",
                link=reverse("my_action_items"),
                key=key,
            )
        told += 1
    return told


def relationship_schedulers(
    *, relationship: CoachingRelationship, user: User, coachee_schedules: bool
) -> CoachingRelationship:
    """The coach lets the coachee schedule sessions too, or stops them."""
    if _require_party(relationship, user) != "coach":
        raise ValidationError("Only the coach decides who schedules sessions.")
    _require_writable(relationship)
    relationship.coachee_schedules = coachee_schedules
    relationship.save(update_fields=["coachee_schedules"])
    return relationship


# --- The agenda: talking points ----------------------------------------------------

MAX_TALKING_POINT_LENGTH = 500
AGENDA_CLOSED_MESSAGE = (
    "This session was held or cancelled, so its agenda is closed: "
    "points not discussed moved to the next one."
)


def _open_agenda(scheduled: ScheduledSession) -> ScheduledSession:
    """The scheduled session, locked while its agenda changes (two people reordering
    at once each move what they saw), if its agenda is still open."""
    locked = ScheduledSession.objects.select_for_update().filter(pk=scheduled.pk).first()
    if locked is None or locked.status != ScheduledSession.Status.SCHEDULED:
        raise ValidationError(AGENDA_CLOSED_MESSAGE)
    return locked


@transaction.atomic
def talking_point_add(
    *,
    scheduled: ScheduledSession,
    user: User,
    text: str,
    visibility: str,
    client_token: uuid.UUID | None = None,
) -> TalkingPoint:
    """Either person adds a point to the agenda of a session still to come: shared (on
    both agendas) or private (a reminder only its author sees)."""
    relationship = scheduled.relationship
    _require_party(relationship, user)
    _require_writable(relationship)
    same_form = TalkingPoint.objects.filter(author=user, client_token=client_token)
    if client_token is not None and (existing := same_form.first()) is not None:
        return existing  # the same form, sent twice
    _open_agenda(scheduled)
    text = text.strip()
    if not text:
        raise ValidationError({"text": "Write the point you want to talk about."})
    if len(text) > MAX_TALKING_POINT_LENGTH:
        raise ValidationError(
            {"text": f"Keep a talking point under {MAX_TALKING_POINT_LENGTH} characters."}
        )
    # After every point, the other person's private ones included.
    with rls.for_purpose(rls.agenda(relationship.pk)):
        last = TalkingPoint.objects.filter(scheduled=scheduled).order_by("-position").first()
    point = TalkingPoint(
        relationship=relationship,
        scheduled=scheduled,
        author=user,
        visibility=visibility,
        position=last.position + 1 if last else 0,
        client_token=client_token,
    )
    point.text = text
    point.full_clean()
    saved = save_once(point, same_form)
    if saved.pk == point.pk and not point.is_private:
        other = relationship.other_party(user)
        if other is not None:
            day = scheduled.starts_at.astimezone(zone_of(other))
            notify(
                recipient=other,
                actor=user,
                kind=Notification.Kind.TALKING_POINT,
                verb=f"added a talking point for your session on {format_date(day, 'l j F')}",
                link=reverse("scheduled_detail", args=[scheduled.public_id]) + "#agenda",
                key=f"talking_point:{point.public_id}",
            )
    return saved


def _require_agenda_change(point: TalkingPoint, user: User) -> None:
    _require_party(point.relationship, user)
    _require_writable(point.relationship)
    if point.is_private and point.author_id != user.pk:
        raise PermissionError("A private talking point is its author's alone.")
    if point.scheduled is None:
        raise ValidationError(AGENDA_CLOSED_MESSAGE)
    _open_agenda(point.scheduled)


@transaction.atomic
def talking_point_set_discussed(*, point: TalkingPoint, user: User, discussed: bool) -> None:
    """Either person ticks a shared point off (or back on); a private one, its author."""
    _require_agenda_change(point, user)
    TalkingPoint.objects.filter(pk=point.pk).update(
        discussed_at=timezone.now() if discussed else None
    )


@transaction.atomic
def talking_point_move(*, point: TalkingPoint, user: User, up: bool) -> None:
    """Move a point above (or below) the next point the person sees: the other person's
    private points keep their places among the rest."""
    _require_agenda_change(point, user)
    with rls.for_purpose(rls.agenda(point.relationship_id)):
        _move(point, user, up)


def _move(point: TalkingPoint, user: User, up: bool) -> None:
    agenda = list(TalkingPoint.objects.filter(scheduled_id=point.scheduled_id))
    seen = [p for p in agenda if not p.is_private or p.author_id == user.pk]
    index = next((i for i, p in enumerate(seen) if p.pk == point.pk), None)
    if index is None:
        return  # removed a moment ago: nothing here to move
    neighbour_index = index - 1 if up else index + 1
    if not 0 <= neighbour_index < len(seen):
        return  # already first (or last)
    neighbour = seen[neighbour_index]
    agenda = [p for p in agenda if p.pk != point.pk]
    at = next(i for i, p in enumerate(agenda) if p.pk == neighbour.pk)
    agenda.insert(at if up else at + 1, point)
    for position, each in enumerate(agenda):
        each.position = position
    TalkingPoint.objects.bulk_update(agenda, ["position"])


@transaction.atomic
def talking_point_delete(*, point: TalkingPoint, user: User) -> None:
    if point.author_id != user.pk:
        raise PermissionError("Only the person who added a talking point removes it.")
    _require_writable(point.relationship)
    if point.scheduled is not None:
        # A held session's agenda is its record, for both people: it stays as it was.
        _open_agenda(point.scheduled)
    point.delete()


# --- Sessions -------------------------------------------------------------------


@transaction.atomic
def session_create(
    *,
    relationship: CoachingRelationship,
    user: User,
    held_on: date,
    duration_minutes: int,
    focus: str,
    agenda: str,
    summary: str = "",
    client_token: uuid.UUID | None = None,
    scheduled: ScheduledSession | None = None,
) -> CoachingSession:
    """Log a session; `scheduled`, the scheduled session it was (of this relationship),
    is then held."""
    _require_party(relationship, user)
    _require_writable(relationship)
    if scheduled is not None and scheduled.relationship_id != relationship.pk:
        raise ValidationError("That scheduled session belongs to another relationship.")
    same_form = CoachingSession.objects.filter(
        relationship=relationship, created_by=user, client_token=client_token
    )
    if client_token is not None and (existing := same_form.first()) is not None:
        return existing  # the same form, sent twice
    _check_held_on(relationship, user, held_on)
    session = CoachingSession(
        relationship=relationship,
        held_on=held_on,
        duration_minutes=duration_minutes,
        focus=focus,
        created_by=user,
        client_token=client_token,
    )
    session.agenda = agenda.strip()
    session.summary = summary.strip()
    session.full_clean()
    session = save_once(session, same_form)
    checkin_after_session(session)
    if scheduled is not None:
        _mark_held(scheduled, session)
    return session


@transaction.atomic
def session_update(
    *,
    session: CoachingSession,
    user: User,
    expected_version: int,
    held_on: date,
    duration_minutes: int,
    focus: str,
    agenda: str,
    summary: str,
) -> CoachingSession:
    _require_party(session.relationship, user)
    _require_writable(session.relationship)
    if held_on != session.held_on:  # a date already stored is not re-judged
        _check_held_on(session.relationship, user, held_on)
    session.held_on = held_on
    session.duration_minutes = duration_minutes
    session.focus = focus
    session.agenda = agenda.strip()
    session.summary = summary.strip()
    session.full_clean()
    updated = CoachingSession.objects.filter(pk=session.pk, version=expected_version).update(
        held_on=held_on,
        duration_minutes=duration_minutes,
        focus=focus,
        agenda_ciphertext=session.agenda_ciphertext,
        summary_ciphertext=session.summary_ciphertext,
        version=F("version") + 1,
        updated_at=timezone.now(),
    )
    if not updated:
        raise ConflictError()
    session.refresh_from_db()
    return session


# --- Notes and drafts -------------------------------------------------------------


@transaction.atomic
def note_create(
    *,
    author: User,
    relationship: CoachingRelationship,
    body: str,
    visibility: str,
    session: CoachingSession | None = None,
    client_token: uuid.UUID | None = None,
) -> Note:
    _require_party(relationship, author)
    _require_writable(relationship)
    if session is not None and session.relationship_id != relationship.pk:
        raise ValidationError({"session": "That session belongs to another relationship."})
    same_form = Note.objects.filter(
        relationship=relationship, author=author, client_token=client_token
    )
    if client_token is not None:
        NoteDraft.objects.filter(author=author, key=client_token).delete()
        if (existing := same_form.first()) is not None:
            return existing  # the same form, sent twice
    note = Note(
        relationship=relationship,
        session=session,
        author=author,
        visibility=visibility,
        client_token=client_token,
    )
    note.body = body.strip()
    note.full_clean()
    note = save_once(note, same_form)
    if not note.is_private:
        _tell_shared_note(note, author)
    return note


def _tell_shared_note(note: Note, author: User) -> None:
    """The other person learns a note was shared with them (once per note, however
    often it is edited or made private and shared again)."""
    anchor = "#notes"
    if note.session_id is not None:
        link = reverse("session_detail", args=[note.session.public_id]) + anchor
    else:
        link = reverse("relationship_detail", args=[note.relationship.public_id]) + anchor
    notify(
        recipient=note.relationship.other_party(author),
        actor=author,
        kind=Notification.Kind.SHARED_NOTE,
        verb="shared a note with you",
        link=link,
        key=f"shared_note:{note.public_id}",
    )


@transaction.atomic
def note_update(
    *,
    note: Note,
    author: User,
    body: str,
    visibility: str,
    expected_version: int,
    draft_key: uuid.UUID | None = None,
) -> Note:
    if note.author_id != author.pk:
        raise PermissionError("Only the author edits a note.")
    _require_writable(note.relationship)
    note.visibility = visibility  # first: the body's encryption is bound to it
    note.body = body.strip()
    note.full_clean()
    updated = Note.objects.filter(pk=note.pk, version=expected_version).update(
        body_ciphertext=note.body_ciphertext,
        visibility=visibility,
        version=F("version") + 1,
        updated_at=timezone.now(),
    )
    if not updated:
        raise ConflictError()
    if draft_key is not None:
        NoteDraft.objects.filter(author=author, key=draft_key).delete()
    note.refresh_from_db()
    if not note.is_private:
        _tell_shared_note(note, author)
    return note


@transaction.atomic
def note_delete(*, note: Note, author: User) -> None:
    if note.author_id != author.pk:
        raise PermissionError("Only the author deletes a note.")
    _require_writable(note.relationship)
    note.delete()


@transaction.atomic
def note_draft_save(
    *,
    author: User,
    relationship: CoachingRelationship,
    key: uuid.UUID,
    body: str,
    session: CoachingSession | None = None,
    note: Note | None = None,
) -> NoteDraft | None:
    """Autosave: keep what the person is typing, privately. An emptied form drops its
    draft."""
    _require_party(relationship, author)
    form_drafts = NoteDraft.objects.filter(author=author, key=key)
    # An emptied form drops its draft, whatever the relationship's status: people can
    # always erase their own private text. So does a form whose note is already saved
    # (a late autosave must not bring a draft back).
    if not body.strip() or Note.objects.filter(author=author, client_token=key).exists():
        form_drafts.delete()
        return None
    _require_writable(relationship)
    draft = form_drafts.filter(relationship=relationship).first()
    if draft is None:
        draft = NoteDraft(author=author, key=key, relationship=relationship)
    draft.relationship = relationship
    draft.session = session
    draft.note = note
    draft.body = body
    try:
        with transaction.atomic():
            draft.save()
    except IntegrityError:  # two autosaves of one form at the same moment
        return form_drafts.first()
    return draft


# --- Action items -------------------------------------------------------------------


@transaction.atomic
def action_item_create(
    *,
    relationship: CoachingRelationship,
    user: User,
    text: str,
    owner: str,
    due_on: date | None = None,
    session: CoachingSession | None = None,
    client_token: uuid.UUID | None = None,
) -> ActionItem:
    _require_party(relationship, user)
    _require_writable(relationship)
    if session is not None and session.relationship_id != relationship.pk:
        raise ValidationError({"session": "That session belongs to another relationship."})
    same_form = ActionItem.objects.filter(
        relationship=relationship, created_by=user, client_token=client_token
    )
    if client_token is not None and (existing := same_form.first()) is not None:
        return existing  # the same form, sent twice
    _check_due_on(user, due_on)
    item = ActionItem(
        relationship=relationship,
        session=session,
        owner=owner,
        due_on=due_on,
        created_by=user,
        client_token=client_token,
    )
    item.text = text.strip()
    item.full_clean()
    item = save_once(item, same_form)
    _tell_item(item, user, changed=())
    return item


_FIELD_NAMES = {"text": "its text", "owner": "its owner", "due_on": "its due date"}


def _tell_item(item: ActionItem, user: User, *, changed) -> None:
    """The other person learns of an item given to them, or of a change to one they
    share: what changed, never the text."""
    relationship = item.relationship
    other = relationship.other_party(user)
    if other is None:
        return
    given = item.owner == relationship.role_of(other) and (not changed or "owner" in changed)
    if given:
        kind, verb = Notification.Kind.ITEM_GIVEN, "gave you an action item"
    elif changed:
        fields = " and ".join(_FIELD_NAMES[name] for name in changed)
        kind, verb = Notification.Kind.ITEM_CHANGED, f"changed an action item: {fields}"
    else:
        return  # a new item they own themselves
    notify(
        recipient=other,
        actor=user,
        kind=kind,
        verb=verb,
        link=reverse("relationship_detail", args=[relationship.public_id]) + "#actions",
        key=f"item:{item.public_id}:{item.version}",
    )


@transaction.atomic
def action_item_update(
    *,
    item: ActionItem,
    user: User,
    text: str,
    owner: str,
    due_on: date | None,
    expected_version: int,
) -> ActionItem:
    """Either person changes an open item's text, owner or due date. The change is kept
    on the item (changed_by, changed_fields) for both to see. Nothing changed: nothing
    saved. ConflictError if it was changed since `expected_version` was read."""
    _require_party(item.relationship, user)
    _require_writable(item.relationship)
    if item.is_done:
        raise ValidationError("This item is done: mark it not done yet to change it.")
    text = text.strip()
    changed = [
        name
        for name, value in (("text", text), ("owner", owner), ("due_on", due_on))
        if getattr(item, name) != value
    ]
    if not changed:
        if item.version != expected_version:
            raise ConflictError()
        return item
    if "due_on" in changed:
        # A due date left as it was may be past by now (an overdue item); a new one not.
        _check_due_on(user, due_on)
    item.text, item.owner, item.due_on = text, owner, due_on
    item.full_clean()
    now = timezone.now()
    updated = ActionItem.objects.filter(pk=item.pk, version=expected_version).update(
        text_ciphertext=item.text_ciphertext,
        owner=owner,
        due_on=due_on,
        version=F("version") + 1,
        changed_by=user,
        changed_at=now,
        changed_fields=",".join(changed),
    )
    if not updated:
        raise ConflictError()
    item.refresh_from_db()
    _tell_item(item, user, changed=changed)
    return item


@transaction.atomic
def action_item_set_done(*, item: ActionItem, user: User, done: bool) -> ActionItem:
    """Only the owner ticks an item off: the coach's follow-through is theirs to earn."""
    role = _require_party(item.relationship, user)
    _require_writable(item.relationship)
    if role != item.owner:
        raise ValidationError("Only the person who owns this item can mark it done.")
    item.done_at = (item.done_at or timezone.now()) if done else None
    item.save(update_fields=["done_at"])
    return item
