"""Queue an email with the change that causes it; deliver it once, later, from a worker.

`queue_email` writes the outbox row and enqueues its task in the caller's transaction
(a transactional outbox): a rolled-back change sends nothing, a committed one is
delivered even if the mail server is down right now. `deliver` runs in a worker
(`manage.py db_worker`): it claims the row, sends it over SMTP, and records the outcome;
temporary failures are retried with backoff, the last failure is kept for an operator
(`manage.py email_outbox`). A worker that dies mid-send leaves its claim to expire, and
`requeue_stalled` (run by every worker) queues the email again.
"""

import logging
import random
import smtplib
import time
import uuid
from datetime import timedelta
from email.utils import parseaddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import IntegrityError, InterfaceError, OperationalError, connection, transaction
from django.utils import timezone
from django_tasks_db.backend import DatabaseBackend

from outbox.models import OutgoingEmail
from outbox.tasks import deliver_email
from privacy.encryption import DecryptionError

logger = logging.getLogger(__name__)
Status = OutgoingEmail.Status


def _seconds(name: str) -> float:
    return float(getattr(settings, name))


def _enqueue(email: OutgoingEmail, run_after=None) -> None:
    """Enqueue the email's task in the current transaction when the backend stores tasks
    in this database (committed together, or not at all); with any other backend (RQ,
    say) once the transaction has committed, so a worker never looks for a row it
    cannot see yet. Either way the outbox row itself is committed with the change."""
    task = deliver_email.using(run_after=run_after) if run_after else deliver_email
    backend = task.get_backend()
    if isinstance(backend, DatabaseBackend) or getattr(backend, "runs_after_commit", False):
        task.enqueue(str(email.public_id))
    else:
        # Robust: a broker down after the commit must not turn the saved action into an
        # error; the sweep queues the email again (its row is committed).
        transaction.on_commit(lambda: task.enqueue(str(email.public_id)), robust=True)


def queue_email(
    *,
    to: list[str] | tuple[str, ...] | str,
    subject: str,
    body: str,
    template: str,
    key: str | None = None,
    html: str | None = None,
    from_email: str | None = None,
) -> OutgoingEmail | None:
    """Queue one email to `to`, in the current transaction. `key` names the intent:
    queueing the same key again returns the email already queued and sends nothing
    more. Without a key, every call is an intent of its own."""
    addresses = [to] if isinstance(to, str) else list(to)
    recipients = sorted({address.strip() for address in addresses if address.strip()})
    if not recipients:
        return None
    now = timezone.now()
    email = OutgoingEmail(
        idempotency_key=key or f"once:{uuid.uuid4()}",
        template=template,
        recipients=recipients,
        next_attempt_at=now,
        lease_until=now + timedelta(seconds=_seconds("RAPPORT_EMAIL_QUEUED_GRACE_SECONDS")),
    )
    email.message = {
        # A header is one line: a name typed with a line break must not break the email.
        "subject": " ".join(subject.split()),
        "body": body,
        "html": html,
        "from": from_email,
    }
    try:
        with transaction.atomic():
            email.save()
            _enqueue(email)
    except IntegrityError:
        existing = OutgoingEmail.objects.filter(idempotency_key=email.idempotency_key).first()
        if existing is None:
            raise
        return existing
    return email


def queue_message(message, *, template: str, key: str | None = None) -> OutgoingEmail | None:
    """Queue a rendered Django EmailMessage (allauth renders its own)."""
    html = next(
        (
            content
            for content, mimetype in getattr(message, "alternatives", [])
            if mimetype == "text/html"
        ),
        None,
    )
    return queue_email(
        to=message.to,
        subject=message.subject,
        body=message.body,
        html=html,
        from_email=message.from_email,
        template=template,
        key=key,
    )


def update_queued(email: OutgoingEmail, *, to: list[str], subject: str, body: str) -> None:
    """Change an email queued earlier in this same transaction (a second report of the
    same change, say): still one email, now with the latest words."""
    message = email.message  # read under the old recipients, which it is bound to
    email.recipients = sorted(set(to))
    email.message = {**message, "subject": " ".join(subject.split()), "body": body}
    email.save(update_fields=["recipients", "message_ciphertext"])


# Not sent, and not being sent: an email a worker is sending right now goes out anyway.
CANCELLABLE = [Status.QUEUED, Status.FAILED]


def cancel_unsent(email: OutgoingEmail | None = None, *, key_prefix: str | None = None) -> int:
    """Drop an email not sent yet, or every one whose key starts with `key_prefix` (the
    earlier emails of an invitation renewed or revoked): its message is erased and
    nothing goes out."""
    rows = OutgoingEmail.objects.filter(status__in=CANCELLABLE)
    if email is not None:
        rows = rows.filter(pk=email.pk)
    if key_prefix is not None:
        rows = rows.filter(idempotency_key__startswith=key_prefix)
    return rows.update(status=Status.CANCELLED, message_ciphertext="", lease_until=None)


def forget_addresses(addresses, *, spare=lambda email: False) -> int:
    """The person deleted their account: every email to them loses their address (each
    row gets a fresh .invalid one) and the server's answer (which may quote it); those
    not sent are cancelled and erased. `spare` keeps an unsent email as it is (another
    organisation's invitation, which is that organisation's business)."""
    wanted = {address.lower() for address in addresses if address}
    forgotten = 0
    rows = OutgoingEmail.objects.only("pk", "recipients", "status", "idempotency_key")
    for email in rows.iterator():
        if not wanted & {address.lower() for address in email.recipients}:
            continue
        unsent = email.status in CANCELLABLE
        if unsent and spare(email):
            continue
        changes = {
            "recipients": [
                f"deleted-{uuid.uuid4().hex}@deleted.invalid" if a.lower() in wanted else a
                for a in email.recipients
            ],
            "last_error": "",
        }
        if unsent:
            changes.update(status=Status.CANCELLED, message_ciphertext="", lease_until=None)
        OutgoingEmail.objects.filter(pk=email.pk).update(**changes)
        forgotten += 1
    return forgotten


def prune(*, days: int) -> tuple[int, int]:
    """Delete what is done with, older than `days`: sent, cancelled and failed emails
    (recipients and template only; their messages went when they did), and finished
    task rows. Returns both counts."""
    cutoff = timezone.now() - timedelta(days=days)
    emails, _ = OutgoingEmail.objects.filter(
        status__in=[Status.SENT, Status.CANCELLED, Status.FAILED], created_at__lt=cutoff
    ).delete()
    tasks = 0
    if isinstance(deliver_email.get_backend(), DatabaseBackend):
        from django_tasks_db.models import DBTaskResult

        tasks, _ = DBTaskResult.objects.finished().filter(finished_at__lt=cutoff).delete()
    return emails, tasks


# --- The worker's side ------------------------------------------------------------------


def _message_id_domain() -> str:
    domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2]
    return domain or "rapport.invalid"


def _build(email: OutgoingEmail) -> EmailMultiAlternatives:
    content = email.message
    message = EmailMultiAlternatives(
        subject=content["subject"],
        body=content["body"],
        from_email=content.get("from") or None,
        to=email.recipients,
        # One Message-ID per intent, the same on every attempt: a receiving system
        # that keeps it (most do) files a resend after a lost acknowledgement as
        # the same message.
        headers={"Message-ID": f"<{email.public_id}@{_message_id_domain()}>"},
    )
    if content.get("html"):
        message.attach_alternative(content["html"], "text/html")
    return message


def _temporary(error: BaseException) -> bool:
    """Worth trying again later: the server is unreachable or answered 4xx."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(400 <= code < 500 for code, _ in error.recipients.values())
    if isinstance(error, smtplib.SMTPResponseException):
        return 400 <= error.smtp_code < 500
    if isinstance(error, smtplib.SMTPServerDisconnected):
        return True
    if isinstance(error, smtplib.SMTPException):
        return False  # e.g. STARTTLS refused: a configuration an operator must fix
    return isinstance(error, OSError)  # refused, reset, timed out, no route


def _describe(error: BaseException) -> str:
    """For the operator: the error's kind and the server's answer, never the message."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        detail = "; ".join(
            f"{address}: {code} {answer.decode(errors='replace')}"
            for address, (code, answer) in error.recipients.items()
        )
    elif isinstance(error, smtplib.SMTPResponseException):
        answer = error.smtp_error
        answer = answer.decode(errors="replace") if isinstance(answer, bytes) else str(answer)
        detail = f"{error.smtp_code} {answer}"
    else:
        detail = str(error)
    return f"{type(error).__name__}: {' '.join(detail.split())}"[:300]


def retry_delay(attempt: int) -> float:
    """Exponential backoff from the first retry, capped, with jitter so that many
    emails failed together do not all come back in the same second."""
    base = _seconds("RAPPORT_EMAIL_RETRY_SECONDS")
    delay = min(base * 2 ** (attempt - 1), _seconds("RAPPORT_EMAIL_RETRY_MAX_SECONDS"))
    return delay * random.uniform(0.8, 1.2)  # noqa: S311 (jitter, not security)


def _until_recorded(write, deadline: float) -> None:
    """Record what happened to an email even if the database is restarting: the email
    is out (or not), and only this process knows. Tries until shortly before the claim
    runs out (`deadline`, on the monotonic clock), so no other worker can take the
    email up again meanwhile."""
    pause = 0.2
    while True:
        try:
            write()
            return
        except (OperationalError, InterfaceError):
            if time.monotonic() + pause > deadline:
                raise
            logger.warning("The database is unavailable; recording the email again shortly.")
            connection.close()
            time.sleep(pause)
            pause = min(pause * 2, 5)


def deliver(public_id: str) -> str:
    """Send one queued email (the task). Returns what happened, for the task's result."""
    now, started = timezone.now(), time.monotonic()
    with transaction.atomic():
        email = (
            OutgoingEmail.objects.select_for_update(skip_locked=True)
            .filter(public_id=public_id)
            .first()
        )
        if email is None:
            return "busy or gone"  # another worker holds the row, or it was cancelled
        if email.status not in (Status.QUEUED, Status.SENDING):
            return email.status  # sent already: a repeated task sends nothing
        if email.status == Status.SENDING and email.lease_until and email.lease_until > now:
            return "being sent by another worker"
        if email.status == Status.QUEUED and email.next_attempt_at > now:
            return "not due yet"  # an earlier copy of a rescheduled task
        try:
            message = _build(email)
        except DecryptionError:
            # Edited in the database (sent elsewhere, say): never deliver what cannot
            # be vouched for. Retrying cannot help.
            email.status, email.lease_until = Status.FAILED, None
            email.last_error = "The message cannot be decrypted: changed in the database?"
            email.save(update_fields=["status", "lease_until", "last_error"])
            return "failed"
        # The claim is committed before the send: another worker sees it and waits.
        email.status = Status.SENDING
        email.attempts += 1
        email.lease_until = now + timedelta(seconds=_seconds("RAPPORT_EMAIL_SEND_LEASE_SECONDS"))
        email.save(update_fields=["status", "attempts", "lease_until"])
    # Recording the outcome must end well before the claim runs out.
    record_by = started + max(1.0, _seconds("RAPPORT_EMAIL_SEND_LEASE_SECONDS") - 5)
    attempt = email.attempts
    claimed = OutgoingEmail.objects.filter(pk=email.pk, status=Status.SENDING, attempts=attempt)
    try:
        with get_connection(fail_silently=False) as mail_connection:
            mail_connection.send_messages([message])
    except Exception as error:
        temporary = _temporary(error)
        described = _describe(error)
        if temporary and attempt < settings.RAPPORT_EMAIL_MAX_ATTEMPTS:
            next_at = timezone.now() + timedelta(seconds=retry_delay(attempt))
            grace = timedelta(seconds=_seconds("RAPPORT_EMAIL_QUEUED_GRACE_SECONDS"))

            def reschedule():
                with transaction.atomic():
                    if claimed.update(
                        status=Status.QUEUED,
                        next_attempt_at=next_at,
                        lease_until=next_at + grace,
                        last_error=described,
                    ):
                        _enqueue(email, run_after=next_at)

            _until_recorded(reschedule, record_by)
            logger.warning("Email %s not sent, will retry: %s", email.public_id, described)
            return "retrying"
        _until_recorded(
            lambda: claimed.update(status=Status.FAILED, lease_until=None, last_error=described),
            record_by,
        )
        logger.error("Email %s failed for good: %s", email.public_id, described)
        return "failed"
    _until_recorded(
        lambda: claimed.update(
            status=Status.SENT, sent_at=timezone.now(), lease_until=None, message_ciphertext=""
        ),
        record_by,
    )
    return "sent"


def requeue_stalled(now=None) -> int:
    """Queue again every email whose task was lost or whose worker died mid-send
    (its claim ran out). Every worker runs this now and then; two at once skip each
    other's rows."""
    now = now or timezone.now()
    grace = timedelta(seconds=_seconds("RAPPORT_EMAIL_QUEUED_GRACE_SECONDS"))
    requeued = 0
    with transaction.atomic():
        stalled = list(
            OutgoingEmail.objects.stalled(now)
            .select_for_update(skip_locked=True)
            .order_by("lease_until")[:500]
        )
        for email in stalled:
            if (
                email.status == Status.SENDING
                and email.attempts >= settings.RAPPORT_EMAIL_MAX_ATTEMPTS
            ):
                email.status = Status.FAILED
                email.lease_until = None
                email.last_error = "The worker stopped while sending, on the last attempt."
                email.save(update_fields=["status", "lease_until", "last_error"])
                continue
            email.status = Status.QUEUED
            email.next_attempt_at = now
            email.lease_until = now + grace
            email.save(update_fields=["status", "next_attempt_at", "lease_until"])
            _enqueue(email)
            requeued += 1
    return requeued


def retry_failed(public_ids=None) -> int:
    """An operator's retry: failed emails (all, or those named) go back in the queue
    with a fresh count of attempts."""
    rows = OutgoingEmail.objects.filter(status=Status.FAILED)
    if public_ids:
        rows = rows.filter(public_id__in=public_ids)
    now = timezone.now()
    grace = timedelta(seconds=_seconds("RAPPORT_EMAIL_QUEUED_GRACE_SECONDS"))
    retried = 0
    with transaction.atomic():
        for email in rows.select_for_update(skip_locked=True):
            email.status = Status.QUEUED
            email.attempts = 0
            email.next_attempt_at = now
            email.lease_until = now + grace
            email.save(update_fields=["status", "attempts", "next_attempt_at", "lease_until"])
            _enqueue(email)
            retried += 1
    return retried
