import hashlib
import json
import uuid
import zoneinfo

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

# The smallest group HR may ever see figures for: an organisation can raise it, not
# lower it (DESIGN.md, privacy model).
MIN_ANONYMITY_THRESHOLD = 3
DEFAULT_ANONYMITY_THRESHOLD = 5

TIME_ZONE_CHOICES = [
    (name, name.replace("_", " ")) for name in sorted(zoneinfo.available_timezones())
]


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"“{value}” is not a time zone we know.")


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields["is_staff"] = True
        extra_fields["is_superuser"] = True
        return self._create_user(email, password, **extra_fields)


class User(AbstractBaseUser, PermissionsMixin):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    email = models.EmailField("email address", unique=True)
    display_name = models.CharField(
        max_length=80, blank=True, help_text="How your name appears to the people you work with."
    )
    # No choices= here: the list comes from the machine's time zone database, and a
    # migration must not change when that does.
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])
    # The private calendar feed's key (empty: no feed). Its address is an HMAC of it
    # (relationships.calendar.feed_token): a new key makes the old address a 404.
    calendar_feed_key = models.CharField(max_length=64, blank=True, editable=False)
    # One email a morning with what they were told the day before (off unless asked for).
    daily_digest = models.BooleanField(default=False)
    is_staff = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("email"), name="user_email_unique_case_insensitive")
        ]

    def __str__(self):
        return self.name

    @property
    def name(self) -> str:
        """The name people see: the display name, or the part of the email before the @."""
        # Whitespace folded: a name stored with a line break must not break an email's
        # subject line (or a page's layout).
        return " ".join(self.display_name.split()) or self.email.split("@", 1)[0]

    def get_full_name(self):
        return self.name

    def get_short_name(self):
        return self.name


class Organisation(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=140, unique=True)
    anonymity_threshold = models.PositiveSmallIntegerField(
        "minimum group size",
        default=DEFAULT_ANONYMITY_THRESHOLD,
        validators=[MinValueValidator(MIN_ANONYMITY_THRESHOLD), MaxValueValidator(50)],
        help_text=(
            "HR sees trends only for groups with at least this many people answering "
            f"(never fewer than {MIN_ANONYMITY_THRESHOLD})."
        ),
    )
    # One domain a line. A member may invite addresses here straight away; an invitation
    # by a member to any other address waits for an HR admin's approval.
    email_domains = models.TextField(
        "email domains",
        blank=True,
        help_text=(
            "One a line, like example.com. Members can invite people with these addresses "
            "straight away; HR approves their invitations to any other address first."
        ),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(anonymity_threshold__gte=MIN_ANONYMITY_THRESHOLD),
                name="organisation_threshold_at_least_minimum",
            )
        ]

    def __str__(self):
        return self.name

    @property
    def domains(self) -> list[str]:
        return [line.strip().lower() for line in self.email_domains.splitlines() if line.strip()]

    def has_domain_of(self, email: str) -> bool:
        return email.rsplit("@", 1)[-1].strip().lower() in self.domains


class TeamQuerySet(models.QuerySet):
    def in_organisation_of(self, user):
        return self.filter(organisation__memberships__user=user)


class Team(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="teams")
    name = models.CharField(max_length=80)

    objects = TeamQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                "organisation", Lower("name"), name="team_name_unique_in_organisation"
            )
        ]

    def __str__(self):
        return self.name

    def clean(self):
        # HR's trends label their rows with these: a team of the same name would collide.
        from insights.services import OTHER_TEAMS, WHOLE_ORGANISATION

        if " ".join(self.name.split()).lower() in {WHOLE_ORGANISATION.lower(), OTHER_TEAMS.lower()}:
            raise ValidationError(
                {"name": f"“{self.name}” is a name HR's trends use: choose another."}
            )


class MembershipQuerySet(models.QuerySet):
    def managed_by(self, user):
        """Memberships an HR admin may manage: those of their own organisation."""
        return self.filter(
            organisation__memberships__user=user,
            organisation__memberships__role=Membership.Role.HR_ADMIN,
        )


class Membership(models.Model):
    class Role(models.TextChoices):
        MEMBER = "member", "Member"
        HR_ADMIN = "hr_admin", "HR admin"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # A person belongs to one organisation.
    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="membership")
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="memberships"
    )
    team = models.ForeignKey(
        Team, on_delete=models.SET_NULL, null=True, blank=True, related_name="memberships"
    )
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)
    joined_at = models.DateTimeField(auto_now_add=True)

    objects = MembershipQuerySet.as_manager()

    def __str__(self):
        return f"{self.user} in {self.organisation}"

    @property
    def is_hr_admin(self) -> bool:
        return self.role == self.Role.HR_ADMIN


def hash_invitation_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class InvitationQuerySet(models.QuerySet):
    def managed_by(self, user):
        return self.filter(
            organisation__memberships__user=user,
            organisation__memberships__role=Membership.Role.HR_ADMIN,
        )

    def outstanding(self):
        """Neither used, withdrawn nor lapsed: sent, or still waiting for HR's approval."""
        return self.filter(
            accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now()
        )

    def pending(self):
        """Sent and usable: its link works."""
        return self.outstanding().filter(awaiting_approval=False)

    def awaiting_approval(self):
        return self.outstanding().filter(awaiting_approval=True)

    def with_token(self, token: str):
        return self.filter(token_hash=hash_invitation_token(token))


class Invitation(models.Model):
    """An invitation to join an organisation. Only a hash of the token is stored: the
    link in the email is the only copy of the secret."""

    class Status(models.TextChoices):
        AWAITING_APPROVAL = "awaiting_approval", "Waiting for approval"
        PENDING = "pending", "Pending"
        ACCEPTED = "accepted", "Accepted"
        EXPIRED = "expired", "Expired"
        REVOKED = "revoked", "Revoked"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="invitations"
    )
    email = models.EmailField()
    team = models.ForeignKey(Team, on_delete=models.SET_NULL, null=True, blank=True)
    role = models.CharField(
        max_length=16, choices=Membership.Role.choices, default=Membership.Role.MEMBER
    )
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, related_name="invitations_sent"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    # A member's invitation to an address outside the organisation's domains: no email
    # goes out, and its link does not exist, until an HR admin approves it.
    awaiting_approval = models.BooleanField(default=False)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"Invitation for {self.email} to {self.organisation}"

    @property
    def status(self) -> "Invitation.Status":
        if self.accepted_at:
            return self.Status.ACCEPTED
        if self.revoked_at:
            return self.Status.REVOKED
        if self.expires_at <= timezone.now():
            return self.Status.EXPIRED
        if self.awaiting_approval:
            return self.Status.AWAITING_APPROVAL
        return self.Status.PENDING

    @property
    def is_pending(self) -> bool:
        return self.status == self.Status.PENDING

    @property
    def is_awaiting_approval(self) -> bool:
        return self.status == self.Status.AWAITING_APPROVAL

    @property
    def status_label(self) -> str:
        return self.Status(self.status).label


# What HR's audit log may hold: events about the organisation itself. Anything else
# (a relationship starting or ending, someone downloading their own data, a password
# change) is the business of the people it concerns, and never reaches HR.
ORGANISATIONAL_ACTION_PREFIXES = (
    "organisation.",
    "team.",
    "membership.",
    "invitation.",
    "insights.",
    "admin.",
    "account.deleted",
    # Company sign-in's settings, who joined through it, and break-glass sign-ins. (A
    # member's own sign-ins through it are theirs: account.company_signed_in.)
    "sso.",
)


def is_organisational(action: str) -> bool:
    return action.startswith(ORGANISATIONAL_ACTION_PREFIXES)


class AuditEventQuerySet(models.QuerySet):
    def about(self, user):
        """The events a person may read about themselves: what they did, and what was
        done to them (their account, their invitation, their relationships)."""
        return self.filter(models.Q(actor=user) | models.Q(subject=user))

    def organisational(self):
        query = models.Q()
        for prefix in ORGANISATIONAL_ACTION_PREFIXES:
            query |= models.Q(action__startswith=prefix)
        return self.filter(query)

    def for_hr(self, user):
        """HR's audit log: their own organisation's organisational events only. Older
        relationship events still carry an organisation (rewriting them would break
        the hash chain), so the allow-list of actions is what keeps them out."""
        return self.filter(
            organisation__memberships__user=user,
            organisation__memberships__role=Membership.Role.HR_ADMIN,
        ).organisational()


class AuditEvent(models.Model):
    """Who did what to which relationship, invitation or account: never any private
    text, only identifiers and the name of the action. Append-only: each row carries
    the hash of the one before it, so `verify_audit_log` detects an edit or a gap."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.SET_NULL, null=True, related_name="audit_events"
    )
    actor = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    # The person the event is about, when there is one (so they can see it).
    subject = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    action = models.CharField(max_length=64)
    target_type = models.CharField(max_length=64, blank=True)
    target_id = models.UUIDField(null=True, blank=True)
    # Facts the action needs that may change later (a team's name when someone was
    # moved out of it). Never private text.
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    previous_hash = models.CharField(max_length=64, blank=True)
    hash = models.CharField(max_length=64, blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]

    def __str__(self):
        return f"{self.action} at {self.created_at:%Y-%m-%d %H:%M}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("Audit events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("Audit events are append-only.")

    def compute_hash(self) -> str:
        # Identifiers that never change (public ids of people, not their names).
        values = [
            self.previous_hash,
            self.organisation_id or "",
            self.actor_id or "",
            self.subject_id or "",
            self.action,
            self.target_type,
            self.target_id or "",
            self.created_at.isoformat(),
        ]
        if self.details:
            # Only rows with details hash them, so rows written before the field
            # existed keep the hash they were chained with.
            values.append(json.dumps(self.details, sort_keys=True, separators=(",", ":")))
        material = "|".join(str(value) for value in values)
        return hashlib.sha256(material.encode()).hexdigest()
