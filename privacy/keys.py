"""Data keys (envelope encryption) and crypto-shredding (issue 18).

Each person's private text is sealed with their own data key, and the text a
relationship's two people share with the relationship's key. A data key is stored
wrapped (encrypted) by the newest master key in RAPPORT_ENCRYPTION_KEYS, in the key
store: a database of its own (config.routers), outside the main database's backups.
Destroying a person's key therefore makes their private text unreadable everywhere it
was copied, old backups of the main database included.

Unwrapped keys are kept in this process for a few minutes, so a page that reads fifty
notes unwraps their key once."""

import base64
import logging
import secrets
import threading
import time

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.db import IntegrityError, router, transaction

logger = logging.getLogger(__name__)

PERSON = "person"
RELATIONSHIP = "relationship"
# How long a running process keeps a key it unwrapped: a destroyed key lingers in a
# worker's memory at most this long.
CACHE_SECONDS = 300
CACHE_LIMIT = 10_000

_lock = threading.Lock()
_by_id: dict[str, tuple[float, AESGCM]] = {}
_by_owner: dict[tuple[str, int], tuple[float, str, AESGCM]] = {}


class KeyMissing(Exception):
    """No data key by that id: destroyed with its owner (or never made)."""


def _model():
    from privacy.models import DataKey

    return DataKey


def wrapping_data(key_id: str, owner_kind: str, owner_id: int) -> bytes:
    return f"privacy.datakey:{key_id}:{owner_kind}={owner_id}".encode()


def wrap(key: bytes, key_id: str, owner_kind: str, owner_id: int) -> str:
    from privacy.encryption import encrypt

    return encrypt(
        base64.b64encode(key).decode("ascii"),
        associated_data=wrapping_data(key_id, owner_kind, owner_id),
    )


def unwrap(row) -> AESGCM:
    from privacy.encryption import decrypt

    plain = decrypt(
        row.wrapped, associated_data=wrapping_data(row.id, row.owner_kind, row.owner_id)
    )
    return AESGCM(base64.b64decode(plain))


def _remember(row, aead: AESGCM) -> None:
    expires = time.monotonic() + CACHE_SECONDS
    with _lock:
        if len(_by_id) >= CACHE_LIMIT:
            _by_id.clear()
            _by_owner.clear()
        _by_id[row.id] = (expires, aead)
        _by_owner[(row.owner_kind, row.owner_id)] = (expires, row.id, aead)


def forget_all() -> None:
    """Drop every unwrapped key this process holds (tests; after destroying keys)."""
    with _lock:
        _by_id.clear()
        _by_owner.clear()


def key_for(owner_kind: str, owner_id: int) -> tuple[str, AESGCM]:
    """The owner's data key, made (and stored, committed at once) the first time."""
    cached = _by_owner.get((owner_kind, owner_id))
    if cached and cached[0] > time.monotonic():
        return cached[1], cached[2]
    DataKey = _model()
    row = DataKey.objects.filter(owner_kind=owner_kind, owner_id=owner_id).first()
    if row is None:
        row = _create(owner_kind, owner_id)
    aead = unwrap(row)
    _remember(row, aead)
    return row.id, aead


def _create(owner_kind: str, owner_id: int):
    DataKey = _model()
    key_id = secrets.token_hex(8)
    row = DataKey(
        id=key_id,
        owner_kind=owner_kind,
        owner_id=owner_id,
        wrapped=wrap(AESGCM.generate_key(bit_length=256), key_id, owner_kind, owner_id),
    )
    # The key store commits on its own, before any text sealed with the key can: a text
    # never outlives the key that opens it, whatever becomes of the main transaction.
    try:
        with transaction.atomic(using=router.db_for_write(DataKey)):
            row.save(force_insert=True)
    except IntegrityError:  # another request made it first
        row = DataKey.objects.get(owner_kind=owner_kind, owner_id=owner_id)
    return row


def key_by_id(key_id: str) -> AESGCM:
    cached = _by_id.get(key_id)
    if cached and cached[0] > time.monotonic():
        return cached[1]
    row = _model().objects.filter(pk=key_id).first()
    if row is None:
        raise KeyMissing(key_id)
    aead = unwrap(row)
    _remember(row, aead)
    return aead


def destroy(owner_kind: str, owner_ids) -> int:
    """Destroy the owners' data keys: what they sealed can no longer be read, here or in
    any backup of the main database. Returns how many keys were destroyed."""
    owner_ids = list(owner_ids)
    if not owner_ids:
        return 0
    destroyed, _ = _model().objects.filter(owner_kind=owner_kind, owner_id__in=owner_ids).delete()
    forget_all()
    return destroyed


def destroy_after_commit(owner_kind: str, owner_id: int) -> None:
    """Once the main transaction commits (never before: a rollback would leave the text
    in place and unreadable). If the key store cannot be reached then, the deletion
    still stands and `destroy_orphaned_keys` destroys the key on its next run."""

    def run():
        try:
            destroy(owner_kind, [owner_id])
        except Exception:
            logger.exception("Could not destroy the %s key of %s yet", owner_kind, owner_id)

    transaction.on_commit(run)


def destroy_orphaned_keys() -> int:
    """Destroy the keys of people deleted (or gone) and relationships gone: the sweep
    behind `destroy_after_commit`, for a key store that was down at the time."""
    from accounts.models import User
    from relationships.models import CoachingRelationship

    DataKey = _model()
    destroyed = 0
    for owner_kind, live in (
        (PERSON, User.objects.exclude(email__endswith=DELETED_EMAIL_DOMAIN)),
        (RELATIONSHIP, CoachingRelationship.objects.all()),
    ):
        owners = set(
            DataKey.objects.filter(owner_kind=owner_kind).values_list("owner_id", flat=True)
        )
        if not owners:
            continue
        alive = set(live.filter(pk__in=owners).values_list("pk", flat=True))
        destroyed += destroy(owner_kind, owners - alive)
    return destroyed


# Set by account deletion (privacy.services.account_delete) on the anonymised account.
DELETED_EMAIL_DOMAIN = "@deleted.invalid"


def rewrapped(row) -> str:
    """The row's key wrapped again, by the newest master key: master-key rotation
    re-wraps each data key and leaves the texts they seal as they are."""
    from privacy.encryption import decrypt, encrypt

    data = wrapping_data(row.id, row.owner_kind, row.owner_id)
    return encrypt(decrypt(row.wrapped, associated_data=data), associated_data=data)
