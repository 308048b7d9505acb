"""Check-in use cases: opening and closing rounds, answering, reminding.

Each relationship keeps days in its coach's time zone: that is the day a round opens
and its last day. When it opens, the round stores the instant it closes; from then on
that instant alone decides whether it is open, so a later change of anyone's profile
time zone cannot close it early or reveal answers sooner. Everything here is safe to
run again, or twice at once:
database constraints (one open round per relationship, one round per day, one answer
per person, one reminder of a kind) turn a second attempt into a no-op.
"""

import zoneinfo
from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from accounts.models import Organisation, User
from config.errors import ConflictError
from config.forms import save_once
from notifications.models import Notification
from notifications.services import notify
from outbox.services import queue_email
from privacy import rls
from reflections.dimensions import DIMENSION_KEYS
from reflections.models import (
    CheckInReminder,
    CheckInResponse,
    CheckInRound,
    IntegrityCheck,
    JournalSettings,
    PromptDismissal,
    Reflection,
    end_of_day,
    zone_of,
)
from reflections.prompts import ALL_PROMPTS, INTEGRITY_BEHAVIOURS
from reflections.rollups import activity_publish_closed_month, record_response
from relationships.models import CoachingRelationship, CoachingSession

Cadence = CoachingRelationship.Cadence
ROUND_WINDOW_DAYS = 7
INTERVAL_DAYS = {Cadence.WEEKLY: 7, Cadence.FORTNIGHTLY: 14}


def _clock(relationship: CoachingRelationship) -> zoneinfo.ZoneInfo:
    """The relationship's calendar: the coach's time zone."""
    return zone_of(relationship.coach)


def today_for(relationship: CoachingRelationship) -> date:
    return timezone.now().astimezone(_clock(relationship)).date()


def _add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    for candidate in (day.day, 30, 29, 28):  # the 31st becomes the month's last day
        try:
            return day.replace(year=year, month=month, day=candidate)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def latest_scheduled_date(relationship: CoachingRelationship, today: date) -> date | None:
    """The most recent day on or before `today` when a periodic round was due, counting
    whole intervals from the day the relationship started; None before the first."""
    if relationship.accepted_at is None:
        return None
    start = relationship.accepted_at.astimezone(_clock(relationship)).date()
    cadence = relationship.checkin_cadence
    if cadence in INTERVAL_DAYS:
        steps = (today - start).days // INTERVAL_DAYS[cadence]
        return start + timedelta(days=steps * INTERVAL_DAYS[cadence]) if steps >= 1 else None
    if cadence == Cadence.MONTHLY:
        months = (today.year - start.year) * 12 + today.month - start.month
        if _add_months(start, months) > today:
            months -= 1
        return _add_months(start, months) if months >= 1 else None
    return None


def next_scheduled_date(relationship: CoachingRelationship, today: date) -> date | None:
    """The day the next periodic round opens: the first scheduled day from `today` on
    that has no round yet. None for "after each session" (a logged session opens one)
    and before the relationship has started."""
    if relationship.accepted_at is None:
        return None
    start = relationship.accepted_at.astimezone(_clock(relationship)).date()
    cadence = relationship.checkin_cadence
    latest_opened = (
        relationship.checkin_rounds.order_by("-opens_on").values_list("opens_on", flat=True).first()
    )
    earliest = max(today, latest_opened + timedelta(days=1)) if latest_opened else today
    if cadence in INTERVAL_DAYS:
        interval = INTERVAL_DAYS[cadence]
        steps = max(1, -(-(earliest - start).days // interval))  # rounded up
        return start + timedelta(days=steps * interval)
    if cadence == Cadence.MONTHLY:
        months = max(1, (earliest.year - start.year) * 12 + earliest.month - start.month)
        while _add_months(start, months) < earliest:
            months += 1
        return _add_months(start, months)
    return None


# --- Opening and closing rounds -----------------------------------------------------


def round_open(
    *, relationship: CoachingRelationship, opens_on: date, session: CoachingSession | None = None
) -> CheckInRound | None:
    """Open a round unless one is already open, or was opened that day. Returns the new
    round, or None when there was nothing to do."""
    if relationship.status != CoachingRelationship.Status.ACTIVE:
        return None
    closes_on = opens_on + timedelta(days=ROUND_WINDOW_DAYS - 1)
    try:
        with transaction.atomic():
            return CheckInRound.objects.create(
                relationship=relationship,
                session=session,
                opens_on=opens_on,
                closes_on=closes_on,
                closes_at=end_of_day(closes_on, _clock(relationship)),
            )
    except IntegrityError:  # another process (or an earlier run) got there first
        return None


def round_close(round_: CheckInRound) -> bool:
    """Close a round whose window has passed, marking who did not answer as missed."""
    answered = set(round_.responses.values_list("respondent_id", flat=True))
    relationship = round_.relationship
    updated = CheckInRound.objects.filter(pk=round_.pk, closed_at__isnull=True).update(
        closed_at=timezone.now(),
        coach_missed=relationship.coach_id not in answered,
        coachee_missed=relationship.coachee_id not in answered,
    )
    return bool(updated)


def rounds_close_expired(relationship: CoachingRelationship) -> int:
    """Close the relationship's rounds whose stored closing instant has passed."""
    expired = CheckInRound.objects.filter(
        relationship=relationship, closed_at__isnull=True, closes_at__lte=timezone.now()
    ).select_related("relationship")
    return sum(round_close(round_) for round_ in expired)


def rounds_open_due(relationship: CoachingRelationship, today: date) -> CheckInRound | None:
    if relationship.status != CoachingRelationship.Status.ACTIVE:
        return None
    if relationship.checkin_cadence == Cadence.AFTER_SESSION:
        recent = (
            CoachingSession.objects.filter(
                relationship=relationship,
                held_on__lte=today,
                held_on__gt=today - timedelta(days=ROUND_WINDOW_DAYS),
                checkin_round__isnull=True,
            )
            .order_by("-held_on", "-created_at")
            .first()
        )
        return (
            round_open(relationship=relationship, opens_on=today, session=recent)
            if recent
            else None
        )
    due = latest_scheduled_date(relationship, today)
    if due is None or due + timedelta(days=ROUND_WINDOW_DAYS - 1) < today:
        return None  # nothing due yet, or this period's window already passed unseen
    if relationship.checkin_rounds.filter(opens_on__gte=due).exists():
        return None
    return round_open(relationship=relationship, opens_on=due)


def checkin_after_session(session: CoachingSession) -> CheckInRound | None:
    """The "after each session" cadence: logging a session opens its round at once."""
    relationship = session.relationship
    if relationship.checkin_cadence != Cadence.AFTER_SESSION:
        return None
    today = today_for(relationship)
    if session.held_on > today or session.held_on <= today - timedelta(days=ROUND_WINDOW_DAYS):
        return None
    rounds_close_expired(relationship)
    return round_open(relationship=relationship, opens_on=today, session=session)


# --- Answering ----------------------------------------------------------------------


@dataclass
class Submitted:
    response: CheckInResponse
    created: bool


@transaction.atomic
def checkin_submit(
    *,
    round_: CheckInRound,
    user: User,
    answers: dict[str, int],
    comment: str = "",
    shared: bool = True,
) -> Submitted:
    relationship = round_.relationship
    if relationship.role_of(user) is None:  # views fetch through visible_to(); a second lock
        raise PermissionError("Not a party to this relationship.")
    existing = CheckInResponse.objects.filter(round=round_, respondent=user).first()
    if existing is not None:  # final once submitted: a resent form changes nothing
        return Submitted(existing, created=False)
    # A round is open from the moment it exists until its stored instant.
    if not round_.is_open_at(timezone.now()):
        closed_on = timezone.localtime(round_.open_until)
        next_on = next_scheduled_date(relationship, today_for(relationship))
        then = f"The next one opens on {next_on:%A %-d %B}." if next_on else ""
        raise ValidationError(f"This check-in closed on {closed_on:%-d %B}. {then}".strip())
    response = CheckInResponse(round=round_, respondent=user, shared=shared)
    for key in DIMENSION_KEYS:
        setattr(response, key, answers[key])
    response.comment = comment.strip()
    response.full_clean(exclude=["round", "respondent"])
    try:
        with transaction.atomic():
            response.save()
    except IntegrityError:  # the same form, sent twice at the same moment
        return Submitted(CheckInResponse.objects.get(round=round_, respondent=user), created=False)
    # HR's anonymous rollups move in the same transaction as the answer.
    record_response(response)
    return Submitted(response, created=True)


@transaction.atomic
def cadence_update(*, relationship: CoachingRelationship, user: User, cadence: str):
    if relationship.role_of(user) is None:
        raise PermissionError("Not a party to this relationship.")
    if relationship.status not in CoachingRelationship.WRITABLE_STATUSES:
        raise ValidationError("Check-ins can be changed only while you work together.")
    if cadence not in Cadence.values:
        raise ValidationError("Choose one of the check-in rhythms.")
    relationship.checkin_cadence = cadence
    relationship.save(update_fields=["checkin_cadence"])
    return relationship


# --- Reminders and the scheduled command ------------------------------------------------


def _remind(round_: CheckInRound, recipient: User, kind: str, site_url: str) -> bool:
    try:
        with transaction.atomic():
            CheckInReminder.objects.create(round=round_, recipient=recipient, kind=kind)
            relationship = round_.relationship
            other = relationship.other_party(recipient)
            context = {
                "recipient": recipient,
                "other_name": other.name,
                "round": round_,
                "kind": kind,
                "url": site_url.rstrip("/") + reverse("checkin_detail", args=[round_.public_id]),
            }
            subject = (
                f"Check-in with {other.name}: how is it going?"
                if kind == CheckInReminder.Kind.OPENED
                else f"Check-in with {other.name} closes tomorrow"
            )
            # Dates in the email are the recipient's own, like on their pages.
            with timezone.override(zone_of(recipient)):
                body = render_to_string("reflections/email/reminder.txt", context)
            if kind == CheckInReminder.Kind.OPENED:
                notify(
                    recipient=recipient,
                    kind=Notification.Kind.CHECKIN_DUE,
                    verb="a check-in is open: how is it going?",
                    link=reverse("checkin_detail", args=[round_.public_id]),
                    key=f"checkin:{round_.public_id}",
                )
            # Queued with the reminder's row: one email per round, person and kind.
            queue_email(
                to=recipient.email,
                subject=subject,
                body=body,
                template="reflections/email/reminder.txt",
                key=f"checkin.reminder:{round_.public_id}:{recipient.pk}:{kind}",
            )
    except IntegrityError:  # already sent, by this process or another
        return False
    return True


def reminders_send(relationship: CoachingRelationship, site_url: str) -> int:
    sent = 0
    now = timezone.now()
    for round_ in CheckInRound.objects.filter(relationship=relationship).open_at(now):
        answered = set(round_.responses.values_list("respondent_id", flat=True))
        for person in (relationship.coach, relationship.coachee):
            if person.pk in answered or not person.is_active:
                continue
            sent += _remind(round_, person, CheckInReminder.Kind.OPENED, site_url)
            # The day before the last day (by the stored instant): "closes tomorrow".
            if timedelta(days=1) < round_.closes_at - now <= timedelta(days=2):
                sent += _remind(round_, person, CheckInReminder.Kind.CLOSING, site_url)
    return sent


@dataclass
class RunReport:
    opened: int = 0
    closed: int = 0
    reminders: int = 0
    purged: int = 0


def run_checkins(*, site_url: str | None = None) -> RunReport:
    """Open due rounds, close expired ones and send reminders, one relationship at a
    time, each in its own transaction."""
    site_url = site_url or settings.RAPPORT_SITE_URL
    report = RunReport()
    report.purged = reflections_purge_expired()
    for organisation in Organisation.objects.all():
        activity_publish_closed_month(organisation, timezone.localdate())
    # Active relationships (which may open rounds), and any other with a round to close.
    relationships = CoachingRelationship.objects.filter(
        Q(status=CoachingRelationship.Status.ACTIVE) | Q(checkin_rounds__closed_at__isnull=True)
    )
    for relationship in relationships.distinct().select_related("coach", "coachee"):
        today = today_for(relationship)
        with transaction.atomic(), rls.for_purpose(rls.checkins(relationship.pk)):
            report.closed += rounds_close_expired(relationship)
            report.opened += bool(rounds_open_due(relationship, today))
            if relationship.status == CoachingRelationship.Status.ACTIVE:
                report.reminders += reminders_send(relationship, site_url)
    return report


# --- The private journal and integrity self-checks ------------------------------------


def _own_relationship(user: User, relationship: CoachingRelationship | None):
    if relationship is not None and relationship.role_of(user) is None:
        raise ValidationError({"relationship": "Choose one of your own relationships."})


@transaction.atomic
def reflection_create(
    *,
    author: User,
    body: str,
    prompt: str = "",
    relationship: CoachingRelationship | None = None,
    client_token=None,
) -> Reflection:
    _own_relationship(author, relationship)
    if prompt and prompt not in ALL_PROMPTS:
        raise ValidationError({"prompt": "Choose one of the prompts, or none."})
    same_form = Reflection.objects.filter(author=author, client_token=client_token)
    if client_token is not None and (existing := same_form.first()) is not None:
        return existing  # the same form, sent twice
    reflection = Reflection(
        author=author, relationship=relationship, prompt=prompt, client_token=client_token
    )
    reflection.body = body.strip()
    reflection.full_clean()
    reflection = save_once(reflection, same_form)
    return reflection


@transaction.atomic
def reflection_update(
    *,
    reflection: Reflection,
    author: User,
    body: str,
    expected_version: int,
    relationship: CoachingRelationship | None = None,
) -> Reflection:
    if reflection.author_id != author.pk:
        raise PermissionError("Only the author edits a reflection.")
    _own_relationship(author, relationship)
    reflection.body = body.strip()
    reflection.relationship = relationship
    reflection.full_clean()
    updated = Reflection.objects.filter(pk=reflection.pk, version=expected_version).update(
        body_ciphertext=reflection.body_ciphertext,
        relationship=relationship,
        version=models.F("version") + 1,
        updated_at=timezone.now(),
    )
    if not updated:
        raise ConflictError()
    reflection.refresh_from_db()
    return reflection


@transaction.atomic
def reflection_delete(*, reflection: Reflection, author: User) -> None:
    if reflection.author_id != author.pk:
        raise PermissionError("Only the author deletes a reflection.")
    reflection.delete()


@transaction.atomic
def journal_retention_set(*, author: User, retention_days: int | None) -> JournalSettings:
    if retention_days is not None and retention_days not in JournalSettings.Retention.values:
        raise ValidationError("Choose 30, 90 or 365 days, or keep entries.")
    journal, _ = JournalSettings.objects.get_or_create(author=author)
    journal.retention_days = retention_days
    journal.save(update_fields=["retention_days"])
    return journal


def reflections_purge_expired() -> int:
    """Delete journal entries older than their author's retention period."""
    deleted = 0
    for journal in JournalSettings.objects.filter(retention_days__isnull=False):
        cutoff = timezone.now() - timedelta(days=journal.retention_days)
        with rls.acting(journal.author_id):  # each author's own entries, as them
            count, _ = Reflection.objects.filter(
                author_id=journal.author_id, created_at__lt=cutoff
            ).delete()
        deleted += count
    return deleted


def prompt_dismiss(
    *, user: User, relationship: CoachingRelationship, kind: str, round_: CheckInRound | None = None
) -> None:
    if relationship.role_of(user) is None:
        raise PermissionError("Not a party to this relationship.")
    if kind not in PromptDismissal.Kind.values:
        raise ValidationError("Unknown prompt.")
    try:
        with transaction.atomic():
            PromptDismissal.objects.create(
                user=user,
                relationship=relationship,
                kind=kind,
                round=round_ if kind == PromptDismissal.Kind.BIAS else None,
            )
    except IntegrityError:  # dismissed already
        pass


@transaction.atomic
def integrity_check_create(
    *, author: User, ratings: dict[str, int], taken_on: date | None = None, client_token=None
):
    keys = {key for key, _ in INTEGRITY_BEHAVIOURS}
    if set(ratings) != keys or any(not 1 <= int(v) <= 5 for v in ratings.values()):
        raise ValidationError("Rate each of the six behaviours from 1 to 5.")
    same_form = IntegrityCheck.objects.filter(author=author, client_token=client_token)
    if client_token is not None and (existing := same_form.first()) is not None:
        return existing  # the same form, sent twice
    check = IntegrityCheck(
        author=author, taken_on=taken_on or timezone.localdate(), client_token=client_token
    )
    check.ratings = {key: int(value) for key, value in ratings.items()}
    check = save_once(check, same_form)
    return check


@transaction.atomic
def integrity_check_delete(*, check: IntegrityCheck, author: User) -> None:
    if check.author_id != author.pk:
        raise PermissionError("Only the author deletes a self-check.")
    check.delete()
