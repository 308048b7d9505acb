"""Authenticated encryption for private text at rest.

AES-256-GCM. Two formats, each naming its key so older keys keep decrypting:

- `v2:<data key id>:…` is sealed with a data key (privacy.keys): the author's own for
  private text, the relationship's for text its two people share. Destroying the key
  shreds the text (issue 18).
- `v1:<fingerprint>:…` is sealed directly with a master key from RAPPORT_ENCRYPTION_KEYS
  (comma-separated, base64, newest first): the data keys themselves, the few fields that
  belong to no one person (a relationship's purpose, the outbox), and rows written before
  data keys, until `rotate_encryption_keys` converts them.

Either way a ciphertext is bound to the row and field it belongs to by associated data:
copied to another row or field, it fails to decrypt.
"""

import base64
import binascii
import hashlib
import os
from functools import cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from privacy import keys as data_keys

FORMAT = "v1"
DATA_KEY_FORMAT = "v2"
NONCE_BYTES = 12


class DecryptionError(Exception):
    """The text cannot be decrypted: unknown key, tampered, or moved from another row."""


def _fingerprint(key: bytes) -> str:
    return hashlib.sha256(key).hexdigest()[:8]


@cache
def parse_encryption_keys(raw: str) -> tuple[tuple[str, AESGCM], ...]:
    keys = []
    for item in raw.split(","):
        item = item.strip()
        if not item:
            continue
        try:
            padded = item + "=" * (-len(item) % 4)
            key = base64.b64decode(padded, altchars=b"-_", validate=True)
        except (binascii.Error, ValueError):
            raise ImproperlyConfigured(
                "RAPPORT_ENCRYPTION_KEYS must hold base64-encoded 32-byte keys."
            ) from None
        if len(key) != 32:
            raise ImproperlyConfigured(
                "Each key in RAPPORT_ENCRYPTION_KEYS must be 32 bytes (base64 of 32 bytes); "
                "make one with: python -c 'import base64, os; "
                "print(base64.urlsafe_b64encode(os.urandom(32)).decode())'"
            )
        keys.append((_fingerprint(key), AESGCM(key)))
    if not keys:
        raise ImproperlyConfigured("RAPPORT_ENCRYPTION_KEYS is empty.")
    return tuple(keys)


def keys() -> tuple[tuple[str, AESGCM], ...]:
    return parse_encryption_keys(settings.RAPPORT_ENCRYPTION_KEYS)


@cache
def _keys_by_id(raw: str) -> dict[str, AESGCM]:
    return dict(parse_encryption_keys(raw))


def newest_key_id() -> str:
    return keys()[0][0]


def key_id_of(ciphertext: str) -> str | None:
    """The id of the key that sealed it: a master key's fingerprint (v1) or a data key's
    id (v2)."""
    parts = ciphertext.split(":", 2)
    return parts[1] if len(parts) == 3 and parts[0] in (FORMAT, DATA_KEY_FORMAT) else None


def encrypt(plaintext: str, *, associated_data: bytes, owner: tuple[str, int] | None = None) -> str:
    """Sealed with the owner's data key (`(privacy.keys.PERSON, user_id)` or
    `(privacy.keys.RELATIONSHIP, relationship_id)`), or with no owner the newest master key."""
    if owner is None:
        version, (key_id, aead) = FORMAT, keys()[0]
    else:
        version, (key_id, aead) = DATA_KEY_FORMAT, data_keys.key_for(*owner)
    nonce = os.urandom(NONCE_BYTES)
    sealed = aead.encrypt(nonce, plaintext.encode("utf-8"), associated_data)
    return f"{version}:{key_id}:{base64.b64encode(nonce + sealed).decode('ascii')}"


def decrypt(ciphertext: str, *, associated_data: bytes) -> str:
    return _decrypt(ciphertext, associated_data, _keys_by_id(settings.RAPPORT_ENCRYPTION_KEYS))


def _decrypt(ciphertext: str, associated_data: bytes, keys_by_id: dict[str, AESGCM]) -> str:
    try:
        version, key_id, payload = ciphertext.split(":", 2)
        blob = base64.b64decode(payload, validate=True)
    except (ValueError, binascii.Error):
        raise DecryptionError("Not a Rapport ciphertext.") from None
    if version == DATA_KEY_FORMAT:
        try:
            aead = data_keys.key_by_id(key_id)
        except data_keys.KeyMissing:
            raise DecryptionError(f"Data key {key_id} was destroyed.") from None
    elif version == FORMAT:
        aead = keys_by_id.get(key_id)
        if aead is None:
            raise DecryptionError(f"No key {key_id} in RAPPORT_ENCRYPTION_KEYS.")
    else:
        raise DecryptionError(f"Unknown ciphertext format {version!r}.")
    if len(blob) < NONCE_BYTES + 16:  # a nonce and a tag at the least
        raise DecryptionError("The ciphertext is truncated.")
    try:
        plaintext = aead.decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], associated_data)
    except InvalidTag:
        raise DecryptionError("The ciphertext does not belong here or was altered.") from None
    return plaintext.decode("utf-8")


# Every encrypted attribute of every model, for key rotation.
REGISTRY: list[tuple[type, "EncryptedText"]] = []


class EncryptedText(property):
    """A model attribute holding private text, stored encrypted in `column`.

    Reading it decrypts; assigning encrypts. The associated data binds the
    ciphertext to this model, this attribute and this row's public_id, and to the
    attributes named in `bind`: the owner and every column that decides who may read
    it, so a database edit of one of them leaves the text undecryptable rather than
    disclosed. Bound attributes must be set before the text is assigned (Django's
    model constructor sets properties after fields, so keyword arguments are fine),
    and a legitimate change of one must re-encrypt the text.

    With `seal_empty`, empty text is encrypted too, so every row carries a seal that
    vouches for its bound columns (see `read_or_none`). It is a `property` so
    Django's model constructor accepts it as a keyword argument.

    `owner` says whose data key seals the text: a function of the row giving
    `(privacy.keys.PERSON, user_id)` or `(privacy.keys.RELATIONSHIP, relationship_id)`,
    from bound attributes only (`person_key`, `relationship_key`, `private_or_shared_key`).
    Without one the text is sealed with the master key.
    """

    def __init__(
        self,
        column: str,
        *,
        bind: tuple[str, ...] = (),
        seal_empty: bool = False,
        owner=None,
    ):
        self.column = column
        self.bind = bind  # more attributes of the row the ciphertext is bound to
        self.seal_empty = seal_empty
        self.owner = owner
        super().__init__(self._get, self._set)

    def contribute_to_class(self, cls, name):
        # Django calls this once the model's _meta exists (unlike __set_name__).
        self.name = name
        setattr(cls, name, self)
        if not cls._meta.abstract:
            REGISTRY.append((cls, self))

    def associated_data(self, instance) -> bytes:
        return (
            self._format(instance._meta.label_lower)
            .format(instance.public_id, *(getattr(instance, name) for name in self.bind))
            .encode()
        )

    @cache  # noqa: B019 - one per attribute and model label, for the life of the process
    def _format(self, label: str) -> str:
        """The associated data as a format string: the model and attribute, then the
        row's public id and each bound attribute's value, as `str` writes them."""
        bound = "".join(f":{name}={{}}" for name in self.bind)
        return f"{label}.{self.name}:{{}}{bound}"

    def reader(self, model):
        """For reading many rows as plain values rather than model instances (search): a
        function of a row's ciphertext, public id and the values of `bind`, in order,
        giving its text, or None when it cannot be decrypted here (as read_or_none).
        The keys are looked up once, for all the rows."""
        template = self._format(model._meta.label_lower)
        keys_by_id = _keys_by_id(settings.RAPPORT_ENCRYPTION_KEYS)

        def read(ciphertext: str, public_id, *bound) -> str | None:
            if not ciphertext:
                return None if self.seal_empty else ""
            try:
                return _decrypt(ciphertext, template.format(public_id, *bound).encode(), keys_by_id)
            except DecryptionError:
                return None

        return read

    def _get(self, instance) -> str:
        ciphertext = getattr(instance, self.column)
        if not ciphertext:
            return ""
        return decrypt(ciphertext, associated_data=self.associated_data(instance))

    def read_or_none(self, instance) -> str | None:
        """The text, or None when it cannot be read here: undecryptable, or (when
        sealed) missing. For pages, which must show nothing rather than fail."""
        ciphertext = getattr(instance, self.column)
        if not ciphertext:
            return None if self.seal_empty else ""
        try:
            return decrypt(ciphertext, associated_data=self.associated_data(instance))
        except DecryptionError:
            return None

    def _set(self, instance, value: str) -> None:
        sealed = value or self.seal_empty
        ciphertext = (
            encrypt(
                value or "",
                associated_data=self.associated_data(instance),
                owner=self.owner_of(instance),
            )
            if sealed
            else ""
        )
        setattr(instance, self.column, ciphertext)

    def owner_of(self, instance) -> tuple[str, int] | None:
        if self.owner is None:
            return None
        owner = self.owner(instance)
        if owner[1] is None:
            # Like a bound attribute, the owner must be known before the text is set.
            raise ValueError(f"{self.name}: set its owner before its text.")
        return owner


def person_key(attribute: str):
    """Sealed with the data key of the person in `attribute` (a user id)."""
    return lambda row: (data_keys.PERSON, getattr(row, attribute))


def relationship_key(attribute: str = "relationship_id"):
    """Sealed with the data key of the relationship in `attribute`."""
    return lambda row: (data_keys.RELATIONSHIP, getattr(row, attribute))


def private_or_shared_key(row):
    """A note or talking point: private ones with the author's key, shared ones with the
    relationship's, which both its people read."""
    if row.visibility == "private":
        return (data_keys.PERSON, row.author_id)
    return (data_keys.RELATIONSHIP, row.relationship_id)
