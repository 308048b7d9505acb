"""Second-factor secrets sealed at rest, bound to their owner (docs/threat-model.md, "A
copy of the database").

allauth keeps an authenticator app's TOTP secret and the seed of the recovery codes in
the authenticator's `data`; in clear, a copy of the database would pass anyone's second
factor. Here they are sealed with the owner's data key (privacy.keys), with associated
data naming the owner and the kind of secret: moved to another person's row, a sealed
secret does not open, and deleting the account shreds it with the rest of their data.

The database holds the sealed form; a loaded authenticator holds the secret in memory,
as allauth expects (its own `encrypt`/`decrypt` hooks know nothing of the owner).
"""

import base64
import os

from allauth.mfa.models import Authenticator
from django.db.models.signals import post_init, post_save, pre_save

from privacy import encryption, keys

# Which entries of `data` are secrets, by type. A recovery-code set migrated from an
# older library keeps its codes as a list ("migrated_codes").
SECRETS = {
    Authenticator.Type.TOTP: ("secret",),
    Authenticator.Type.RECOVERY_CODES: ("seed", "migrated_codes"),
}


def _associated_data(authenticator, entry: str) -> bytes:
    return f"mfa.authenticator:{authenticator.user_id}:{authenticator.type}:{entry}".encode()


def _is_sealed(value) -> bool:
    return isinstance(value, str) and encryption.key_id_of(value) is not None


def _seal(authenticator, entry: str, value):
    if value is None or _is_sealed(value):
        return value
    owner = (keys.PERSON, authenticator.user_id)
    text = value if isinstance(value, str) else "\n".join(value)
    sealed = encryption.encrypt(
        text, associated_data=_associated_data(authenticator, entry), owner=owner
    )
    return sealed if isinstance(value, str) else [sealed]


def _open(authenticator, entry: str, value):
    if isinstance(value, list) and len(value) == 1 and _is_sealed(value[0]):
        text = encryption.decrypt(value[0], associated_data=_associated_data(authenticator, entry))
        return text.split("\n") if text else []
    if not _is_sealed(value):
        return value
    return encryption.decrypt(value, associated_data=_associated_data(authenticator, entry))


def _entries(authenticator):
    if "data" not in authenticator.__dict__ or not isinstance(authenticator.data, dict):
        return ()
    return [e for e in SECRETS.get(authenticator.type, ()) if e in authenticator.data]


def _sealing(sender, instance, **kwargs):
    entries = _entries(instance)
    if not entries:
        return
    instance._secrets_in_clear = instance.data
    instance.data = {
        **instance.data,
        **{e: _seal(instance, e, instance.data[e]) for e in entries},
    }


def _sealed(sender, instance, **kwargs):
    clear = instance.__dict__.pop("_secrets_in_clear", None)
    if clear is not None:
        instance.data = clear


def _opening(sender, instance, **kwargs):
    entries = _entries(instance)
    if not entries or instance.user_id is None:
        return
    try:
        instance.data = {
            **instance.data,
            **{e: _open(instance, e, instance.data[e]) for e in entries},
        }
    except encryption.DecryptionError:
        # Shredded with its owner's key, or moved from another person's row: in its place
        # a secret nobody knows, so it passes nothing (and allauth has a value to use).
        instance.data = {**instance.data, **{e: _unknowable(e) for e in entries}}


def _unknowable(entry: str):
    if entry == "migrated_codes":
        return []
    if entry == "secret":
        return base64.b32encode(os.urandom(20)).decode()
    return os.urandom(20).hex()


def connect() -> None:
    pre_save.connect(_sealing, sender=Authenticator, dispatch_uid="mfa-seal")
    post_save.connect(_sealed, sender=Authenticator, dispatch_uid="mfa-sealed")
    post_init.connect(_opening, sender=Authenticator, dispatch_uid="mfa-open")
