"""Addresses nobody has proven are theirs. Typing an address into a sign-up form or a
profile proves nothing, so an unverified address names no one: it does not match an
account, claim a domain or stand in the way of the address's real owner.

- `unverified_claims_release`: when an identity provider vouches for an address, any
  account that merely typed it loses it (a sign-up never verified goes altogether).
- `unverified_signups_remove`: a sign-up whose address was not verified within a day is
  removed with the organisation it would have founded (run by `run_checkins`).
"""

from datetime import timedelta

from allauth.account.models import EmailAddress
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from accounts.models import Membership, Organisation, User

# Long enough to find the confirmation email after a weekend's evening, short enough
# that a squatted address is not held for long.
UNVERIFIED_SIGNUP_DAYS = 1


def _never_verified():
    """Accounts with no verified address that have never signed in: sign-ups that did
    not finish. An account with no address row at all (made by `createsuperuser` or a
    script) is not one of them."""
    verified = EmailAddress.objects.filter(user=OuterRef("pk"), verified=True)
    unverified = EmailAddress.objects.filter(user=OuterRef("pk"), verified=False)
    return User.objects.filter(Exists(unverified), ~Exists(verified), last_login__isnull=True)


def _remove(users) -> int:
    users = list(users)
    if not users:
        return 0
    founded = Organisation.objects.filter(memberships__user__in=users).exclude(
        Exists(Membership.objects.filter(organisation=OuterRef("pk")).exclude(user__in=users))
    )
    founded.delete()
    User.objects.filter(pk__in=[u.pk for u in users]).delete()
    return len(users)


@transaction.atomic
def unverified_claims_release(*, email: str) -> None:
    """An identity provider has vouched for `email`: no account keeps it unproven."""
    EmailAddress.objects.filter(email__iexact=email, verified=False).exclude(
        user__in=_never_verified()
    ).delete()
    _remove(_never_verified().filter(email__iexact=email))
    # An account whose login is this address but which proved another one: its login
    # becomes the address it proved.
    for user in User.objects.filter(email__iexact=email):
        proven = (
            EmailAddress.objects.filter(user=user, verified=True)
            .exclude(email__iexact=email)
            .order_by("-primary", "pk")
            .first()
        )
        if (
            proven is not None
            and not EmailAddress.objects.filter(
                user=user, email__iexact=email, verified=True
            ).exists()
        ):
            user.email = proven.email
            user.save(update_fields=["email"])
            EmailAddress.objects.filter(pk=proven.pk).update(primary=True)


@transaction.atomic
def unverified_signups_remove(*, now=None) -> int:
    cutoff = (now or timezone.now()) - timedelta(days=UNVERIFIED_SIGNUP_DAYS)
    return _remove(_never_verified().filter(date_joined__lt=cutoff))
