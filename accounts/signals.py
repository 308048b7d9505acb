"""The person is told whenever their password, email addresses or second factor change.

allauth's signals report the changes made through its pages (and say who made them);
the User save handlers are the backstop, so `set_password` or an email change by any
other code path is announced too. One change reported both ways sends one email."""

from allauth.account import signals as account_signals
from allauth.mfa import signals as mfa_signals
from allauth.mfa.models import Authenticator
from django.contrib.auth.hashers import get_hasher, identify_hasher
from django.db.models.signals import post_save, pre_save
from django.dispatch import receiver

from accounts.models import User
from accounts.services import credential_change_notify, credential_notices_cancel

WATCHED = {"password", "email"}


def _anonymised(email: str) -> bool:
    # Account deletion anonymises the row with an address in .invalid (RFC 2606).
    return email.lower().endswith(".invalid")


def _is_hash_upgrade(old_hash: str, user: User) -> bool:
    """Django re-hashes a password on sign-in when the hasher's settings change: the
    same password, so no news. That path saves without `set_password`'s raw value."""
    if getattr(user, "_password", None) is not None:
        return False
    try:
        old_hasher = identify_hasher(old_hash)
    except ValueError:
        return False
    return old_hasher.algorithm != get_hasher().algorithm or old_hasher.must_update(old_hash)


@receiver(pre_save, sender=User, dispatch_uid="accounts.credentials_before")
def remember_credentials(sender, instance, raw=False, update_fields=None, **kwargs):
    instance._credentials_before = None
    if raw or instance.pk is None:
        return
    if update_fields is not None and not WATCHED & set(update_fields):
        return  # a sign-in's last_login, a profile edit: one query saved
    instance._credentials_before = (
        User.objects.filter(pk=instance.pk).values("password", "email").first()
    )


@receiver(post_save, sender=User, dispatch_uid="accounts.credentials_after")
def announce_credential_changes(sender, instance, created=False, raw=False, **kwargs):
    before = getattr(instance, "_credentials_before", None)
    instance._credentials_before = None
    if created or raw or before is None:
        return
    if _anonymised(instance.email) and not _anonymised(before["email"]):
        credential_notices_cancel(user=instance)
        return
    if before["email"].lower() != instance.email.lower():
        credential_change_notify(user=instance, kind="email_changed", also_to=(before["email"],))
    old_hash = before["password"]
    # An empty hash is an account being created in steps (set_password, then save).
    if old_hash and old_hash != instance.password and not _is_hash_upgrade(old_hash, instance):
        kind = "password_changed" if instance.has_usable_password() else "password_removed"
        credential_change_notify(user=instance, kind=kind)


# --- allauth's own flows: these know who made the change ------------------------------


@receiver(account_signals.password_changed, dispatch_uid="accounts.password_changed")
@receiver(account_signals.password_set, dispatch_uid="accounts.password_set")
def on_password_changed(sender, request, user, **kwargs):
    credential_change_notify(user=user, kind="password_changed", how="signed_in")


@receiver(account_signals.password_reset, dispatch_uid="accounts.password_reset")
def on_password_reset(sender, request, user, **kwargs):
    credential_change_notify(user=user, kind="password_changed", how="reset_link")


@receiver(account_signals.email_changed, dispatch_uid="accounts.email_changed")
def on_email_changed(sender, request, user, from_email_address, to_email_address, **kwargs):
    also_to = (from_email_address.email,) if from_email_address else ()
    credential_change_notify(user=user, kind="email_changed", how="signed_in", also_to=also_to)


@receiver(account_signals.email_added, dispatch_uid="accounts.email_added")
def on_email_added(sender, request, user, email_address, **kwargs):
    if email_address.email.lower() != user.email.lower():
        credential_change_notify(user=user, kind="email_added", how="signed_in")


@receiver(account_signals.email_removed, dispatch_uid="accounts.email_removed")
def on_email_removed(sender, request, user, email_address, **kwargs):
    credential_change_notify(user=user, kind="email_removed", how="signed_in")


@receiver(account_signals.email_confirmed, dispatch_uid="accounts.email_confirmed")
def on_email_confirmed(sender, request, email_address, **kwargs):
    user = email_address.user
    # Confirming the address one signed up with is not a change to the account.
    if email_address.email.lower() != user.email.lower():
        credential_change_notify(user=user, kind="email_verified", how="confirmation_link")


@receiver(mfa_signals.authenticator_added, dispatch_uid="accounts.mfa_added")
def on_authenticator_added(sender, request, user, authenticator, **kwargs):
    credential_change_notify(user=user, kind=_kind(authenticator, "added"), how="signed_in")


@receiver(mfa_signals.authenticator_removed, dispatch_uid="accounts.mfa_removed")
def on_authenticator_removed(sender, request, user, authenticator, **kwargs):
    credential_change_notify(user=user, kind=_kind(authenticator, "removed"), how="signed_in")


def _kind(authenticator, change: str) -> str:
    # A passkey is named as one: it signs in, not only confirms a sign-in.
    if authenticator.type == Authenticator.Type.WEBAUTHN:
        return f"passkey_{change}"
    return f"mfa_{change}"


@receiver(mfa_signals.authenticator_reset, dispatch_uid="accounts.mfa_reset")
def on_authenticator_reset(sender, request, user, authenticator, **kwargs):
    if authenticator.type == Authenticator.Type.RECOVERY_CODES:
        credential_change_notify(user=user, kind="mfa_reset", how="signed_in")
