"""Telling people what needs them: in Rapport (a notification, written in the same
transaction as the change that causes it, once per intent) and by email (queued through
the outbox with the change, delivered by a worker).

Why in-app notifications are not tasks: a notification is a row in the same database
as the change, written in the change's transaction. It is committed with the change or
not at all, has no outside server to wait for or retry, and its unique key makes it once
per intent. A task would only add a second, later write of the same row."""

from datetime import datetime, time, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone

from accounts.models import User
from notifications.models import Notification
from outbox.models import OutgoingEmail
from outbox.services import queue_email
from reflections.models import zone_of

Kind = Notification.Kind

# A daily digest goes out from this hour of the person's own morning.
DIGEST_HOUR = 7


def notify(
    *, recipient: User | None, kind: str, verb: str, link: str, key: str, actor: User | None = None
) -> None:
    """Tell `recipient`, in the current transaction, that `actor` did `verb` (names and
    dates only: never a note, a talking point or an item's text). The same `key` for the
    same person tells them once. Nobody is told of their own doing."""
    if recipient is None or not recipient.is_active:
        return
    if actor is not None and actor.pk == recipient.pk:
        return
    Notification.objects.bulk_create(
        [Notification(recipient=recipient, actor=actor, kind=kind, verb=verb, link=link, key=key)],
        ignore_conflicts=True,
    )


def notification_open(*, notification: Notification) -> str:
    """Mark it read; where to go next."""
    if notification.read_at is None:
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(
            read_at=timezone.now()
        )
    return notification.link


def notifications_mark_read(*, user: User) -> int:
    return Notification.objects.visible_to(user).unread().update(read_at=timezone.now())


# How long notifications are kept: read ones for three months, any for a year. They say
# only who did what, but a list of everything is more than anyone needs kept.
KEEP_READ = timedelta(days=90)
KEEP_ANY = timedelta(days=365)


def notifications_prune(*, now: datetime | None = None) -> int:
    now = now or timezone.now()
    deleted, _ = Notification.objects.filter(
        Q(read_at__lt=now - KEEP_READ) | Q(created_at__lt=now - KEEP_ANY)
    ).delete()
    return deleted


# --- The daily digest (off unless the person turns it on) -------------------------------


def digest_set(*, user: User, on: bool) -> User:
    user.daily_digest = on
    user.save(update_fields=["daily_digest"])
    return user


def digests_send(*, now: datetime | None = None, site_url: str | None = None) -> int:
    """Each person who asked for it gets, once a day from DIGEST_HOUR on their own clock,
    one email listing what they were told the day before and have not read: who did
    what, and a link to their notifications. Safe to run often and in two processes at
    once: the email's key is the person and the day."""
    now = now or timezone.now()
    site_url = (site_url or settings.RAPPORT_SITE_URL).rstrip("/")
    sent = 0
    for person in User.objects.filter(daily_digest=True, is_active=True).exclude(email=""):
        zone = zone_of(person)
        local = now.astimezone(zone)
        if local.hour < DIGEST_HOUR:
            continue
        day = local.date()
        key = f"digest:{person.public_id}:{day.isoformat()}"
        if OutgoingEmail.objects.filter(idempotency_key=key).exists():
            continue  # queued already today
        start = datetime.combine(day - timedelta(days=1), time.min, zone)
        end = datetime.combine(day, time.min, zone)
        told = list(
            Notification.objects.visible_to(person)
            .unread()
            .filter(created_at__gte=start, created_at__lt=end)
            .select_related("actor")
            .order_by("created_at")
        )
        if not told:
            continue
        with transaction.atomic():
            queue_email(
                to=person.email,
                subject=f"Rapport: {len(told)} thing{'s' if len(told) != 1 else ''} from yesterday",
                body=render_to_string(
                    "notifications/email/digest.txt",
                    {
                        "person": person,
                        "messages": [n.message for n in told],
                        "url": f"{site_url}/notifications/",
                    },
                ),
                template="notifications/email/digest.txt",
                key=key,
            )
        sent += 1
    return sent
