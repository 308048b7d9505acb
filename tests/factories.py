"""Factories for every model. Related objects derive from each other: a membership's
team belongs to the membership's organisation."""

from datetime import timedelta

import factory
from allauth.account.models import EmailAddress
from django.utils import timezone
from factory.django import DjangoModelFactory

from accounts.models import Invitation, Membership, Organisation, Team, User, hash_invitation_token

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
    role = Membership.Role.HR_ADMIN


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
