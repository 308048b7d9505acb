"""Reciprocal trust check-ins: rounds, responses and the reminders sent about them.

A response's numbers are plain so they can be aggregated anonymously; its comment is
private text, encrypted at rest. Who may see what is decided here, on the querysets:
the two people in the relationship reach a round; the other party reaches a response
only once the round is revealed and only if the respondent chose to share it.
"""

import json
import uuid
import zoneinfo
from datetime import UTC, date, datetime, time, timedelta

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from privacy.encryption import EncryptedText, person_key
from relationships.models import CoachingRelationship, CoachingSession, party_to_started

ANSWER = [MinValueValidator(1), MaxValueValidator(5)]


def zone_of(user) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(user.time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def end_of_day(day: date, zone: zoneinfo.ZoneInfo) -> datetime:
    """The instant `day` ends in `zone` (the midnight after it), in UTC."""
    return datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone).astimezone(UTC)


class CheckInRoundQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Rounds of relationships the person is a party to (and that started): as a
        join, not an IN (subquery) (see relationships.models.party_to_started)."""
        return self.filter(party_to_started(user)) if user.is_authenticated else self.none()

    def open_at(self, now):
        return self.filter(closed_at__isnull=True, closes_at__gt=now)


class CheckInRound(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    relationship = models.ForeignKey(
        CoachingRelationship, on_delete=models.CASCADE, related_name="checkin_rounds"
    )
    # Set for rounds opened by the "after each session" cadence.
    session = models.OneToOneField(
        CoachingSession,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="checkin_round",
    )
    # Days in the coach's time zone when the round opened: for schedules and months.
    opens_on = models.DateField()
    closes_on = models.DateField()
    # The instant the round closes, fixed when it opens: whether it is still open, may
    # be answered or is revealed follows this alone, so nobody's profile time zone can
    # move it (the end of closes_on in the coach's time zone at the time).
    closes_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    # Marked when the round closes without an answer from that side.
    coach_missed = models.BooleanField(default=False)
    coachee_missed = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = CheckInRoundQuerySet.as_manager()

    class Meta:
        ordering = ["-opens_on"]
        constraints = [
            # run_checkins may run twice at once: the database refuses the second round.
            models.UniqueConstraint(
                fields=["relationship", "opens_on"], name="one_round_per_relationship_and_day"
            ),
            models.UniqueConstraint(
                fields=["relationship"],
                condition=Q(closed_at__isnull=True),
                name="one_open_round_per_relationship",
            ),
            models.CheckConstraint(
                condition=Q(closes_on__gte=models.F("opens_on")), name="round_closes_after_opening"
            ),
        ]

    def __str__(self):
        return f"Check-in round {self.public_id}"

    def save(self, *args, **kwargs):
        # round_open fixes the instant; rounds made elsewhere (demo data, fixtures) get
        # the same recipe once, when first saved.
        if self.closes_at is None:
            self.closes_at = end_of_day(self.closes_on, zone_of(self.relationship.coach))
        super().save(*args, **kwargs)

    @property
    def is_closed(self) -> bool:
        return self.closed_at is not None

    def is_open_at(self, now) -> bool:
        return self.closed_at is None and now < self.closes_at

    @property
    def open_until(self) -> datetime:
        """The round's last moment: templates show it in the reader's own time zone."""
        return self.closes_at - timedelta(microseconds=1)


class CheckInResponseQuerySet(models.QuerySet):
    def own(self, user):
        return self.filter(respondent=user)


class CheckInResponse(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    round = models.ForeignKey(CheckInRound, on_delete=models.CASCADE, related_name="responses")
    respondent = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="checkin_responses"
    )
    reliability = models.PositiveSmallIntegerField(validators=ANSWER)
    competence = models.PositiveSmallIntegerField(validators=ANSWER)
    honesty = models.PositiveSmallIntegerField(validators=ANSWER)
    integrity = models.PositiveSmallIntegerField(validators=ANSWER)
    positive_intentions = models.PositiveSmallIntegerField(validators=ANSWER)
    freedom_to_be_real = models.PositiveSmallIntegerField(validators=ANSWER)
    comment_ciphertext = models.TextField(blank=True, editable=False)
    # Bound to who answered, which round and whether it is shared, and sealed even when
    # empty: a database edit flipping `shared` (or moving the row) breaks the seal, and
    # the other party is then shown nothing of the response (see comment_or_none).
    comment = EncryptedText(
        "comment_ciphertext",
        bind=("respondent_id", "round_id", "shared"),
        seal_empty=True,
        owner=person_key("respondent_id"),
    )
    shared = models.BooleanField(
        default=True, help_text="Whether the other person may see these answers."
    )
    submitted_at = models.DateTimeField(auto_now_add=True)

    objects = CheckInResponseQuerySet.as_manager()

    class Meta:
        ordering = ["submitted_at"]
        constraints = [
            # Final once submitted: a resent form cannot store a second answer.
            models.UniqueConstraint(fields=["round", "respondent"], name="one_answer_per_round"),
            *[
                models.CheckConstraint(
                    condition=Q(**{f"{key}__gte": 1, f"{key}__lte": 5}),
                    name=f"checkin_{key}_1_to_5",
                )
                for key in [
                    "reliability",
                    "competence",
                    "honesty",
                    "integrity",
                    "positive_intentions",
                    "freedom_to_be_real",
                ]
            ],
        ]

    def __str__(self):
        return f"Check-in response {self.public_id}"

    def save(self, *args, **kwargs):
        if not self.comment_ciphertext:
            self.comment = ""  # every response carries its seal
        super().save(*args, **kwargs)

    def comment_or_none(self) -> str | None:
        """The comment, or None when the seal does not match the row as it is now:
        `shared`, the round or the respondent changed behind the application's back."""
        return type(self).comment.read_or_none(self)


class CheckInReminder(models.Model):
    """One row per email sent: the unique constraint is what stops a second process
    (or a second run) from sending it again."""

    class Kind(models.TextChoices):
        OPENED = "opened", "Round opened"
        CLOSING = "closing", "Round closes tomorrow"

    round = models.ForeignKey(CheckInRound, on_delete=models.CASCADE, related_name="reminders")
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    kind = models.CharField(max_length=8, choices=Kind.choices)
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["round", "recipient", "kind"], name="one_reminder_of_a_kind"
            )
        ]

    def __str__(self):
        return f"{self.kind} reminder"


# --- The private journal --------------------------------------------------------------


class AuthorOnlyQuerySet(models.QuerySet):
    def visible_to(self, user):
        """The author's, and nobody else's: not the other party, not HR, not a superuser."""
        if not user.is_authenticated:
            return self.none()
        return self.filter(author=user)


class Reflection(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reflections"
    )
    relationship = models.ForeignKey(
        CoachingRelationship,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    prompt = models.CharField(max_length=40, blank=True)
    body_ciphertext = models.TextField(editable=False)
    body = EncryptedText("body_ciphertext", bind=("author_id",), owner=person_key("author_id"))
    version = models.PositiveIntegerField(default=1)
    client_token = models.UUIDField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = AuthorOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["author", "client_token"], name="reflection_submitted_once"
            )
        ]

    def __str__(self):
        return f"Reflection {self.public_id}"


class JournalSettings(models.Model):
    """How long the author keeps their journal entries."""

    class Retention(models.IntegerChoices):
        DAYS_30 = 30, "Delete entries after 30 days"
        DAYS_90 = 90, "Delete entries after 90 days"
        DAYS_365 = 365, "Delete entries after a year"

    author = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="journal_settings"
    )
    retention_days = models.PositiveSmallIntegerField(
        choices=Retention.choices, null=True, blank=True
    )

    def __str__(self):
        return f"Journal settings of {self.author_id}"

    def expires_at(self, created_at):
        if self.retention_days is None:
            return None
        return created_at + timedelta(days=self.retention_days)


class PromptDismissal(models.Model):
    """A prompt someone waved away: it does not come back for that relationship (or,
    for the bias questions, for that check-in round)."""

    class Kind(models.TextChoices):
        SHOES = "shoes", "Step into their shoes"
        BIAS = "bias", "Bias questions after a gap"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    relationship = models.ForeignKey(CoachingRelationship, on_delete=models.CASCADE)
    kind = models.CharField(max_length=8, choices=Kind.choices)
    round = models.ForeignKey(CheckInRound, on_delete=models.CASCADE, null=True, blank=True)
    dismissed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "relationship", "kind"],
                condition=Q(round__isnull=True),
                name="one_dismissal_per_prompt",
            ),
            models.UniqueConstraint(
                fields=["user", "relationship", "kind", "round"],
                condition=Q(round__isnull=False),
                name="one_dismissal_per_prompt_and_round",
            ),
        ]

    def __str__(self):
        return f"{self.kind} prompt dismissed"


class IntegrityCheck(models.Model):
    """The coach's own rating of the six integrity behaviours. Even the numbers are
    private, so they are encrypted too (as one JSON text)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="integrity_checks"
    )
    taken_on = models.DateField(default=timezone.localdate)
    client_token = models.UUIDField(null=True, blank=True, editable=False)
    ratings_ciphertext = models.TextField(editable=False)
    ratings_json = EncryptedText(
        "ratings_ciphertext", bind=("author_id",), owner=person_key("author_id")
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = AuthorOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["-taken_on", "-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["author", "client_token"], name="self_check_submitted_once"
            )
        ]

    def __str__(self):
        return f"Integrity self-check {self.public_id}"

    @property
    def ratings(self) -> dict[str, int]:
        return json.loads(self.ratings_json or "{}")

    @ratings.setter
    def ratings(self, value: dict[str, int]) -> None:
        self.ratings_json = json.dumps(value, sort_keys=True)

    @property
    def average(self) -> float | None:
        values = list(self.ratings.values())
        return round(sum(values) / len(values), 2) if values else None
