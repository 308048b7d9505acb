"""Every email Rapport sends, queued in the database with the change that caused it.

A row is one intent ("invite this person to this organisation", "remind this person
of this check-in"), named by its idempotency key, so asking twice queues one email.
The message (subject and body) is encrypted at rest, because it can carry a sign-in
link or an invitation token, and erased once sent. An operator sees the recipients,
the template, the status and the last error, never the message.
"""

import json
import uuid

from django.db import models
from django.utils import timezone

from privacy.encryption import EncryptedText


class OutgoingEmailQuerySet(models.QuerySet):
    def unsent(self):
        return self.filter(status__in=[OutgoingEmail.Status.QUEUED, OutgoingEmail.Status.SENDING])

    def stalled(self, now):
        """Queued or sending, and past the time by which a worker should have finished
        with it: its task was lost, or its worker died mid-send."""
        return self.unsent().filter(lease_until__lt=now)


class OutgoingEmail(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    idempotency_key = models.CharField(max_length=200, unique=True)
    template = models.CharField(max_length=200)
    recipients = models.JSONField(default=list)
    message_ciphertext = models.TextField(blank=True, editable=False)
    # Bound to the key and the recipients: a database edit that redirects the email
    # leaves it unreadable rather than delivered elsewhere.
    message_json = EncryptedText("message_ciphertext", bind=("idempotency_key", "recipients"))
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    lease_until = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    sent_at = models.DateTimeField(null=True, blank=True)

    objects = OutgoingEmailQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "lease_until"], name="outbox_status_lease")]

    def __str__(self):
        return f"{self.template} to {', '.join(self.recipients)} ({self.status})"

    @property
    def message(self) -> dict:
        return json.loads(self.message_json) if self.message_ciphertext else {}

    @message.setter
    def message(self, value: dict) -> None:
        self.message_json = json.dumps(value)
