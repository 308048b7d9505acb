"""Factories for every model. Related objects derive from each other: a membership's
team belongs to the membership's organisation."""

import uuid
import zoneinfo
from datetime import timedelta

import factory
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.utils import timezone
from factory.django import DjangoModelFactory

from accounts.models import Invitation, Membership, Organisation, Team, User, hash_invitation_token
from reflections.models import CheckInResponse, CheckInRound, IntegrityCheck, Reflection
from reflections.prompts import INTEGRITY_BEHAVIOURS
from relationships.models import (
    ActionItem,
    CoachingRelationship,
    CoachingSession,
    Note,
    NoteDraft,
    ScheduledSession,
    TalkingPoint,
)
from sso.models import SingleSignOn
from sso.saml import pem_body, self_signed_certificate

TEST_PASSWORD = "a-long-test-password-42"


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.com")
    display_name = factory.Faker("name")
    password = factory.PostGenerationMethodCall("set_password", TEST_PASSWORD)

    @factory.post_generation
    def verified(self, create, extracted, **kwargs):
        """A verified primary address, as allauth expects of anyone who signs in."""
        if create and extracted is not False:
            self.save()
            EmailAddress.objects.create(user=self, email=self.email, verified=True, primary=True)


class OrganisationFactory(DjangoModelFactory):
    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"Organisation {n}")
    slug = factory.Sequence(lambda n: f"organisation-{n}")
    # The factories' people have addresses here: members invite them without approval.
    email_domains = "example.com"


class TeamFactory(DjangoModelFactory):
    class Meta:
        model = Team

    organisation = factory.SubFactory(OrganisationFactory)
    name = factory.Sequence(lambda n: f"Team {n}")


class MembershipFactory(DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    organisation = factory.LazyAttribute(
        lambda m: m.team.organisation if m.team else OrganisationFactory()
    )
    team = None
    role = Membership.Role.MEMBER


class HRAdminMembershipFactory(MembershipFactory):
    """HR admins have two-factor authentication set up, as the app requires of them."""

    class Meta:
        skip_postgeneration_save = True

    role = Membership.Role.HR_ADMIN

    @factory.post_generation
    def mfa(self, create, extracted, **kwargs):
        if create and extracted is not False:
            Authenticator.objects.create(
                user=self.user, type=Authenticator.Type.TOTP, data={"secret": "test"}
            )


class InvitationFactory(DjangoModelFactory):
    """Pass token="..." to know the secret in the link."""

    class Meta:
        model = Invitation

    class Params:
        token = factory.Sequence(lambda n: f"test-invitation-token-{n}")

    organisation = factory.LazyAttribute(
        lambda i: i.team.organisation if i.team else OrganisationFactory()
    )
    team = None
    email = factory.Sequence(lambda n: f"invitee{n}@example.com")
    role = Membership.Role.MEMBER
    token_hash = factory.LazyAttribute(lambda i: hash_invitation_token(i.token))
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=14))


def _member_of(organisation, name):
    return MembershipFactory(organisation=organisation, user__display_name=name).user


class RelationshipFactory(DjangoModelFactory):
    """An active relationship; coach and coachee are members of its organisation."""

    class Meta:
        model = CoachingRelationship

    organisation = factory.SubFactory(OrganisationFactory)
    coach = factory.LazyAttribute(
        lambda r: (
            MembershipFactory(organisation=r.organisation, user__display_name="Casey Coach").user
        )
    )
    coachee = factory.LazyAttribute(
        lambda r: (
            MembershipFactory(organisation=r.organisation, user__display_name="Sam Coachee").user
        )
    )
    status = CoachingRelationship.Status.ACTIVE
    purpose = "Grow into leading the platform team."
    accepted_at = factory.LazyAttribute(
        lambda r: None if r.status in CoachingRelationship.NOT_STARTED_STATUSES else timezone.now()
    )


class SessionFactory(DjangoModelFactory):
    class Meta:
        model = CoachingSession

    relationship = factory.SubFactory(RelationshipFactory)
    held_on = factory.LazyFunction(timezone.localdate)
    duration_minutes = 45
    focus = CoachingSession.Focus.MASTER_THE_MOMENT
    agenda = "- What is happening for each of us right now?"
    summary = "We agreed on next steps."
    created_by = factory.SelfAttribute("relationship.coach")


class ScheduledSessionFactory(DjangoModelFactory):
    """A one-off session scheduled by the coach, two days from now, at 10:00 UTC."""

    class Meta:
        model = ScheduledSession

    relationship = factory.SubFactory(RelationshipFactory)
    starts_at = factory.LazyFunction(
        lambda: (timezone.now() + timedelta(days=2)).replace(
            hour=10, minute=0, second=0, microsecond=0
        )
    )
    slot_starts_at = factory.SelfAttribute("starts_at")
    duration_minutes = 45
    ends_at = factory.LazyAttribute(lambda o: o.starts_at + timedelta(minutes=o.duration_minutes))
    time_zone = "UTC"
    cadence = ScheduledSession.Cadence.ONCE
    # As session_schedule sets it: a monthly series' day, in its zone.
    day_of_month = factory.LazyAttribute(
        lambda o: (
            o.starts_at.astimezone(zoneinfo.ZoneInfo(o.time_zone)).day
            if o.cadence == ScheduledSession.Cadence.MONTHLY
            else None
        )
    )
    created_by = factory.SelfAttribute("relationship.coach")


class NoteFactory(DjangoModelFactory):
    """A private note by the coach unless told otherwise."""

    class Meta:
        model = Note

    relationship = factory.SubFactory(RelationshipFactory)
    session = None
    author = factory.SelfAttribute("relationship.coach")
    visibility = Note.Visibility.PRIVATE
    body = factory.Sequence(lambda n: f"Note text {n}")


class TalkingPointFactory(DjangoModelFactory):
    """A shared point on a scheduled session's agenda, added by the coach unless told
    otherwise."""

    class Meta:
        model = TalkingPoint

    scheduled = factory.SubFactory(ScheduledSessionFactory)
    relationship = factory.SelfAttribute("scheduled.relationship")
    author = factory.SelfAttribute("relationship.coach")
    visibility = TalkingPoint.Visibility.SHARED
    text = factory.Sequence(lambda n: f"Talking point {n}")
    position = factory.Sequence(lambda n: n)


class ActionItemFactory(DjangoModelFactory):
    class Meta:
        model = ActionItem

    relationship = factory.SubFactory(RelationshipFactory)
    owner = ActionItem.Owner.COACHEE
    text = factory.Sequence(lambda n: f"Action {n}")
    created_by = factory.SelfAttribute("relationship.coach")


class NoteDraftFactory(DjangoModelFactory):
    class Meta:
        model = NoteDraft

    relationship = factory.SubFactory(RelationshipFactory)
    author = factory.SelfAttribute("relationship.coach")
    key = factory.LazyFunction(uuid.uuid4)
    body = "Half a thought"


class CheckInRoundFactory(DjangoModelFactory):
    """A round open today (in UTC, the factories' coaches' time zone)."""

    class Meta:
        model = CheckInRound

    relationship = factory.SubFactory(RelationshipFactory)
    opens_on = factory.LazyFunction(timezone.localdate)
    closes_on = factory.LazyAttribute(lambda r: r.opens_on + timedelta(days=6))


class CheckInResponseFactory(DjangoModelFactory):
    class Meta:
        model = CheckInResponse

    round = factory.SubFactory(CheckInRoundFactory)
    respondent = factory.SelfAttribute("round.relationship.coach")
    reliability = 4
    competence = 4
    honesty = 4
    integrity = 4
    positive_intentions = 4
    freedom_to_be_real = 4
    shared = True
    comment = ""


class ReflectionFactory(DjangoModelFactory):
    class Meta:
        model = Reflection

    author = factory.SubFactory(UserFactory)
    body = factory.Sequence(lambda n: f"Reflection {n}")


class IntegrityCheckFactory(DjangoModelFactory):
    class Meta:
        model = IntegrityCheck

    author = factory.SubFactory(UserFactory)
    ratings = factory.LazyFunction(lambda: {key: 4 for key, _ in INTEGRITY_BEHAVIOURS})


class SingleSignOnFactory(DjangoModelFactory):
    """An organisation's company sign-in over OpenID Connect, at a provider nobody runs
    (nothing listens on port 9: the tests with a real one connect it through HR's page).
    `saml=True`: over SAML 2.0 instead, with Rapport's key pair for it."""

    class Meta:
        model = SingleSignOn

    class Params:
        key_pair = factory.LazyFunction(lambda: self_signed_certificate("Test"))
        saml = factory.Trait(
            protocol=SingleSignOn.Protocol.SAML,
            issuer="",
            client_id="",
            client_secret="",
            idp_entity_id="https://idp.example/metadata",
            idp_sso_url="https://idp.example/sso",
            idp_certificate=factory.LazyAttribute(lambda o: pem_body(o.key_pair[1])),
            sp_certificate=factory.LazyAttribute(lambda o: o.key_pair[1]),
            sp_private_key=factory.LazyAttribute(lambda o: o.key_pair[0]),
        )

    organisation = factory.SubFactory(OrganisationFactory)
    provider_id = factory.LazyAttribute(lambda o: SingleSignOn.provider_id_for(o.organisation))
    protocol = SingleSignOn.Protocol.OIDC
    issuer = "http://127.0.0.1:9/o"
    client_id = "rapport"
    client_secret = "s3cret"
