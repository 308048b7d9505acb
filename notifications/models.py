"""What a person is told in Rapport itself: someone shared something with them, gave or
changed an action item, scheduled, moved or cancelled a session; a check-in or an action
item is due; they were invited.

A notification says who did what and links to it. It never holds what anyone typed
(a note, a talking point, an item's text): only names, dates and a link, so it needs no
encryption, and the list shows nothing the linked page would not."""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone


class NotificationQuerySet(models.QuerySet):
    def visible_to(self, user):
        """A person's own notifications; nobody else's, whoever asks."""
        return self.filter(recipient=user) if user.is_authenticated else self.none()

    def unread(self):
        return self.filter(read_at__isnull=True)


class Notification(models.Model):
    class Kind(models.TextChoices):
        SHARED_NOTE = "shared_note", "Shared note"
        TALKING_POINT = "talking_point", "Talking point"
        ITEM_GIVEN = "item_given", "Action item given to you"
        ITEM_CHANGED = "item_changed", "Action item changed"
        ITEM_DUE = "item_due", "Action item due tomorrow"
        SESSION_SCHEDULED = "session_scheduled", "Session scheduled"
        SESSION_MOVED = "session_moved", "Session moved"
        SESSION_CANCELLED = "session_cancelled", "Session cancelled"
        CHECKIN_DUE = "checkin_due", "Check-in due"
        INVITATION = "invitation", "Invitation"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    # Who did it (shown by their name as it is now); none for what Rapport itself says.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(max_length=24, choices=Kind.choices)
    # What happened, after the actor's name ("added a talking point for Thursday 3
    # December"), or the whole sentence without an actor: names and dates only.
    verb = models.CharField(max_length=200)
    # A path in Rapport; opening the notification marks it read and goes there.
    link = models.CharField(max_length=300)
    # The intent ("talking_point:<id>"): told once, however often it is asked for.
    key = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["recipient", "key"], name="one_notification_per_intent")
        ]
        indexes = [models.Index(fields=["recipient", "read_at", "-created_at"])]

    def __str__(self):
        return f"Notification {self.public_id}"

    # What Rapport itself says (no one did it): the verb is the whole sentence.
    UNSIGNED = {Kind.ITEM_DUE, Kind.CHECKIN_DUE}

    @property
    def message(self) -> str:
        if self.kind in self.UNSIGNED:
            return self.verb[:1].upper() + self.verb[1:]
        # Names are read as they are now: a person who left reads as "Former member".
        return f"{self.actor.name if self.actor_id else 'Someone'} {self.verb}"
