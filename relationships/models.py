"""Coaching relationships, their sessions, notes, drafts and action items.

Every model here has a `visible_to(user)` (or `for_member(user)`) queryset, and every
view reaches objects only through it: what you may not see does not exist for you.
Private text lives in `EncryptedText` attributes, encrypted at rest.
"""

import uuid
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from accounts.models import Invitation, Organisation
from privacy.encryption import (
    EncryptedText,
    person_key,
    private_or_shared_key,
    relationship_key,
)


class RelationshipQuerySet(models.QuerySet):
    def for_member(self, user):
        """Relationships the person is a party to: as coach, or as the invited or
        accepted coachee."""
        if not user.is_authenticated:
            return self.none()
        return self.filter(Q(coach=user) | Q(coachee=user))

    def started_for(self, user):
        """The person's relationships that were accepted (and may since have ended):
        the only ones whose sessions, notes, items and check-ins they can reach."""
        return self.for_member(user).exclude(status__in=CoachingRelationship.NOT_STARTED_STATUSES)

    def open(self):
        return self.filter(status__in=CoachingRelationship.OPEN_STATUSES)

    def stale_invitations(self):
        """Invitations nobody answered in time: they lapse rather than wait forever."""
        cutoff = timezone.now() - timedelta(days=settings.RAPPORT_INVITATION_DAYS)
        return self.filter(status=CoachingRelationship.Status.INVITED, created_at__lt=cutoff)

    def with_people(self):
        return self.select_related("coach", "coachee", "organisation")


class CoachingRelationship(models.Model):
    class Status(models.TextChoices):
        INVITED = "invited", "Invited"
        ACTIVE = "active", "Active"
        PAUSED = "paused", "Paused"
        ENDED = "ended", "Ended"
        DECLINED = "declined", "Declined"
        EXPIRED = "expired", "Expired"
        WITHDRAWN = "withdrawn", "Withdrawn"

    class Cadence(models.TextChoices):
        WEEKLY = "weekly", "Every week"
        FORTNIGHTLY = "fortnightly", "Every two weeks"
        MONTHLY = "monthly", "Every month"
        AFTER_SESSION = "after_session", "After each session we log"

    OPEN_STATUSES = [Status.INVITED, Status.ACTIVE, Status.PAUSED]
    # Sessions, notes and action items may be added only while the pair works together.
    WRITABLE_STATUSES = [Status.ACTIVE, Status.PAUSED]
    # Never accepted: nothing but the invitation exists.
    NOT_STARTED_STATUSES = [Status.INVITED, Status.DECLINED, Status.EXPIRED, Status.WITHDRAWN]

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="relationships"
    )
    coach = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="coaching"
    )
    # Empty while the invited person has not yet joined the organisation.
    coachee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="coached_by",
    )
    invitation = models.ForeignKey(
        Invitation, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    invited_email = models.EmailField(blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.INVITED)
    checkin_cadence = models.CharField(
        "check-in cadence", max_length=16, choices=Cadence.choices, default=Cadence.FORTNIGHTLY
    )
    # Sessions are scheduled by the coach, and by the coachee too if the coach allows it.
    coachee_schedules = models.BooleanField("the coachee may schedule sessions", default=False)
    purpose_ciphertext = models.TextField(blank=True, editable=False)
    # Bound to the coach and organisation. Not to the coachee: an invitation by email
    # gains its coachee when they join, by a bulk update that does not re-encrypt.
    purpose = EncryptedText("purpose_ciphertext", bind=("coach_id", "organisation_id"))
    created_at = models.DateTimeField(auto_now_add=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    objects = RelationshipQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["coach", "coachee"],
                condition=Q(status__in=["invited", "active", "paused"]),
                name="one_open_relationship_per_pair",
            ),
            models.CheckConstraint(
                condition=~Q(coach=models.F("coachee")), name="coach_is_not_own_coachee"
            ),
        ]

    def __str__(self):
        return f"Coaching relationship {self.public_id}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    @property
    def is_writable(self) -> bool:
        return self.status in self.WRITABLE_STATUSES

    @property
    def invitation_expires_at(self):
        return self.created_at + timedelta(days=settings.RAPPORT_INVITATION_DAYS)

    @property
    def invitation_has_lapsed(self) -> bool:
        return self.status == self.Status.EXPIRED or (
            self.status == self.Status.INVITED and self.invitation_expires_at <= timezone.now()
        )

    @property
    def coachee_label(self) -> str:
        return self.coachee.name if self.coachee_id else self.invited_email

    def role_of(self, user) -> str | None:
        if user.pk == self.coach_id:
            return "coach"
        if user.pk == self.coachee_id:
            return "coachee"
        return None

    def other_party(self, user):
        return self.coachee if user.pk == self.coach_id else self.coach

    def other_party_name(self, user) -> str:
        if user.pk == self.coach_id:
            return self.coachee_label
        return self.coach.name


def party_to_started(user) -> Q:
    """Rows of a relationship the person is a party to and that was accepted (and may
    since have ended): RelationshipQuerySet.started_for as a join on the row's own
    relationship rather than an IN (subquery), which cost Django 0.5-0.9 ms of CPU to
    build on every query of every page (issue 15). The same rule; tests/test_url_matrix.py
    and the visibility tests hold it to that."""
    return (Q(relationship__coach=user) | Q(relationship__coachee=user)) & ~Q(
        relationship__status__in=CoachingRelationship.NOT_STARTED_STATUSES
    )


class CoachingSessionQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Sessions of relationships the person is a party to, once accepted."""
        return self.filter(party_to_started(user)) if user.is_authenticated else self.none()


class CoachingSession(models.Model):
    class Focus(models.TextChoices):
        RECAST_THE_PAST = "recast_the_past", "Recast the past"
        MASTER_THE_MOMENT = "master_the_moment", "Master the moment"
        CO_CREATE_THE_FUTURE = "co_create_the_future", "Co-create the future"
        OTHER = "other", "Other"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    relationship = models.ForeignKey(
        CoachingRelationship, on_delete=models.CASCADE, related_name="sessions"
    )
    held_on = models.DateField()
    duration_minutes = models.PositiveSmallIntegerField()
    focus = models.CharField(max_length=32, choices=Focus.choices)
    agenda_ciphertext = models.TextField(blank=True, editable=False)
    # Bound to the relationship, whose two parties are the readers.
    agenda = EncryptedText("agenda_ciphertext", bind=("relationship_id",), owner=relationship_key())
    summary_ciphertext = models.TextField(blank=True, editable=False)
    summary = EncryptedText(
        "summary_ciphertext", bind=("relationship_id",), owner=relationship_key()
    )
    # Bumped on each edit of the shared text, so two tabs cannot overwrite each other.
    version = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    # The form's one-time token: submitting the same form twice logs one session.
    client_token = models.UUIDField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CoachingSessionQuerySet.as_manager()

    class Meta:
        ordering = ["-held_on", "-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["relationship", "created_by", "client_token"],
                name="session_submitted_once",
            )
        ]
        indexes = [models.Index(fields=["relationship", "-held_on"])]

    def __str__(self):
        return f"Session {self.public_id}"


class ScheduledSessionQuerySet(models.QuerySet):
    def visible_to(self, user):
        """The scheduled sessions of relationships the person is a party to, once
        accepted: the same people as the sessions themselves."""
        return self.filter(party_to_started(user)) if user.is_authenticated else self.none()

    def upcoming(self, now):
        """Still to come, or under way: scheduled, and not yet over at `now`."""
        return self.filter(status=ScheduledSession.Status.SCHEDULED, ends_at__gt=now)


class ScheduledSession(models.Model):
    """A session in the calendar, before it is held: when, for how long, and whether it
    repeats. Holding it logs a CoachingSession (`session`); a series then schedules its
    next one at the same time of day, in the zone it was scheduled in."""

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        HELD = "held", "Held"
        CANCELLED = "cancelled", "Cancelled"

    class Cadence(models.TextChoices):
        ONCE = "once", "Just this once"
        WEEKLY = "weekly", "Every week"
        FORTNIGHTLY = "fortnightly", "Every two weeks"
        MONTHLY = "monthly", "Every month"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    relationship = models.ForeignKey(
        CoachingRelationship, on_delete=models.CASCADE, related_name="scheduled_sessions"
    )
    starts_at = models.DateTimeField()
    # The slot of its series this session fills (its first starts_at): moving one session
    # leaves the series' rhythm where it was.
    slot_starts_at = models.DateTimeField()
    # starts_at + duration: what "upcoming" and "over" are judged by, in SQL.
    ends_at = models.DateTimeField()
    duration_minutes = models.PositiveSmallIntegerField()
    # The zone the time was chosen in: a series keeps its time of day there (10:00 in
    # London stays 10:00 across the clock change), and calendars get its TZID.
    time_zone = models.CharField(max_length=64)
    cadence = models.CharField(max_length=16, choices=Cadence.choices, default=Cadence.ONCE)
    # The sessions of one series share it.
    series = models.UUIDField(null=True, blank=True)
    # A monthly series' day of the month, as first scheduled: the 29th to 31st fall on a
    # shorter month's last day, and come back after it.
    day_of_month = models.PositiveSmallIntegerField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.SCHEDULED)
    session = models.OneToOneField(
        CoachingSession,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="scheduled",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    # Bumped when it is moved or cancelled: two tabs cannot overwrite each other, and a
    # calendar reads it as the event's SEQUENCE.
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScheduledSessionQuerySet.as_manager()

    class Meta:
        ordering = ["starts_at"]
        constraints = [
            # A series has one session at a time: two runs making "the next one" at
            # once make one.
            models.UniqueConstraint(
                fields=["series", "slot_starts_at"], name="one_session_per_series_slot"
            ),
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="scheduled_ends_after_start"
            ),
        ]
        indexes = [models.Index(fields=["relationship", "status", "starts_at"])]

    def __str__(self):
        return f"Scheduled session {self.public_id}"


class AuthorOrSharedQuerySet(models.QuerySet):
    """Rows an author keeps private or shares (notes, talking points)."""

    def visible_to(self, user):
        """A private row is its author's alone; a shared one is also readable by the
        other party of the relationship."""
        if not user.is_authenticated:
            return self.none()
        return self.filter(party_to_started(user), Q(author=user) | Q(visibility="shared"))


class NoteQuerySet(AuthorOrSharedQuerySet):
    def editable_by(self, user):
        return self.visible_to(user).filter(author=user)


class Note(models.Model):
    class Visibility(models.TextChoices):
        PRIVATE = "private", "Private"
        SHARED = "shared", "Shared"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    relationship = models.ForeignKey(
        CoachingRelationship, on_delete=models.CASCADE, related_name="notes"
    )
    session = models.ForeignKey(
        CoachingSession, on_delete=models.CASCADE, null=True, blank=True, related_name="notes"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notes"
    )
    visibility = models.CharField(
        max_length=8, choices=Visibility.choices, default=Visibility.PRIVATE
    )
    body_ciphertext = models.TextField(editable=False)
    # Bound to its author, relationship and visibility too: a database edit that moves
    # a note or makes it shared leaves it undecryptable rather than disclosed.
    body = EncryptedText(
        "body_ciphertext",
        bind=("author_id", "relationship_id", "visibility"),
        owner=private_or_shared_key,
    )
    version = models.PositiveIntegerField(default=1)
    client_token = models.UUIDField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = NoteQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["author", "client_token"], name="note_submitted_once")
        ]
        indexes = [models.Index(fields=["relationship", "session", "-created_at"])]

    def __str__(self):
        return f"Note {self.public_id}"

    @property
    def is_private(self) -> bool:
        return self.visibility == self.Visibility.PRIVATE


class NoteDraftQuerySet(models.QuerySet):
    def visible_to(self, user):
        if not user.is_authenticated:
            return self.none()
        return self.filter(author=user)


class NoteDraft(models.Model):
    """What someone was typing, saved as they type: private to them, whatever the
    note will become. Keyed by the form's one-time token."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="note_drafts"
    )
    relationship = models.ForeignKey(
        CoachingRelationship, on_delete=models.CASCADE, related_name="drafts"
    )
    session = models.ForeignKey(
        CoachingSession, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    note = models.ForeignKey(
        Note, on_delete=models.CASCADE, null=True, blank=True, related_name="drafts"
    )
    key = models.UUIDField()
    body_ciphertext = models.TextField(editable=False)
    body = EncryptedText("body_ciphertext", bind=("author_id",), owner=person_key("author_id"))
    updated_at = models.DateTimeField(auto_now=True)

    objects = NoteDraftQuerySet.as_manager()

    class Meta:
        ordering = ["-updated_at"]
        constraints = [models.UniqueConstraint(fields=["author", "key"], name="one_draft_per_form")]

    def __str__(self):
        return f"Draft {self.public_id}"


class ActionItemQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self.filter(party_to_started(user)) if user.is_authenticated else self.none()


class ActionItem(models.Model):
    class Owner(models.TextChoices):
        COACH = "coach", "Coach"
        COACHEE = "coachee", "Coachee"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    relationship = models.ForeignKey(
        CoachingRelationship, on_delete=models.CASCADE, related_name="action_items"
    )
    session = models.ForeignKey(
        CoachingSession,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="action_items",
    )
    owner = models.CharField(max_length=8, choices=Owner.choices)
    text_ciphertext = models.TextField(editable=False)
    # Bound to the relationship, which decides who reads it (`owner` only decides who
    # ticks it off).
    text = EncryptedText("text_ciphertext", bind=("relationship_id",), owner=relationship_key())
    due_on = models.DateField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    client_token = models.UUIDField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    # Bumped on each edit, so two tabs (or the two people) cannot overwrite each other.
    version = models.PositiveIntegerField(default=1)
    # The latest edit, shown to both people with the item ("Alex moved the due date to
    # 12 Dec"): who, when, and which of text, owner and due date it changed. The new
    # values are the item's own; the old text is kept nowhere.
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    changed_at = models.DateTimeField(null=True, blank=True)
    changed_fields = models.CharField(max_length=32, blank=True)

    objects = ActionItemQuerySet.as_manager()

    class Meta:
        ordering = ["done_at", "due_on", "created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["relationship", "created_by", "client_token"],
                name="action_item_submitted_once",
            )
        ]

    def __str__(self):
        return f"Action item {self.public_id}"

    @property
    def is_done(self) -> bool:
        return self.done_at is not None

    @property
    def is_overdue(self) -> bool:
        return not self.is_done and self.due_on is not None and self.due_on < timezone.localdate()

    # What an edit may change (ActionItem.changed_fields lists them, in this order).
    EDITABLE = ("text", "owner", "due_on")


class TalkingPoint(models.Model):
    """A point for the agenda of a scheduled session, added by either person during the
    week. Not discussed when the session is held (or cancelled), it moves to the next
    one; with no next one yet it waits (`scheduled` empty) for the next to be scheduled."""

    Visibility = Note.Visibility

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    relationship = models.ForeignKey(
        CoachingRelationship, on_delete=models.CASCADE, related_name="talking_points"
    )
    scheduled = models.ForeignKey(
        ScheduledSession,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="talking_points",
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="talking_points"
    )
    visibility = models.CharField(
        max_length=8, choices=Visibility.choices, default=Visibility.SHARED
    )
    text_ciphertext = models.TextField(editable=False)
    # Bound like a note's body: moved to another author, relationship or visibility by a
    # database edit, it is undecryptable rather than disclosed.
    text = EncryptedText(
        "text_ciphertext",
        bind=("author_id", "relationship_id", "visibility"),
        owner=private_or_shared_key,
    )
    # The agenda's order, which both people set; new points go last.
    position = models.IntegerField(default=0)
    discussed_at = models.DateTimeField(null=True, blank=True)
    # The day of the session it was carried from ("carried from 3 Dec"), if it was.
    carried_from = models.DateField(null=True, blank=True)
    client_token = models.UUIDField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    # As for notes: a private point is its author's alone, a shared one on both agendas.
    objects = AuthorOrSharedQuerySet.as_manager()

    class Meta:
        ordering = ["position", "created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["author", "client_token"], name="talking_point_submitted_once"
            )
        ]
        indexes = [models.Index(fields=["scheduled", "position"])]

    def __str__(self):
        return f"Talking point {self.public_id}"

    @property
    def is_private(self) -> bool:
        return self.visibility == self.Visibility.PRIVATE
