"""Authenticated encryption for private text at rest.

AES-256-GCM with keys from RAPPORT_ENCRYPTION_KEYS (comma-separated, base64, newest
first). Each ciphertext names its key by a short fingerprint, so older keys keep
decrypting after rotation, and is bound to the row and field it belongs to by
associated data: copied to another row or field, it fails to decrypt.
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

FORMAT = "v1"
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
    parts = ciphertext.split(":", 2)
    return parts[1] if len(parts) == 3 and parts[0] == FORMAT else None


def encrypt(plaintext: str, *, associated_data: bytes) -> str:
    key_id, aead = keys()[0]
    nonce = os.urandom(NONCE_BYTES)
    sealed = aead.encrypt(nonce, plaintext.encode("utf-8"), associated_data)
    return f"{FORMAT}:{key_id}:{base64.b64encode(nonce + sealed).decode('ascii')}"


def decrypt(ciphertext: str, *, associated_data: bytes) -> str:
    return _decrypt(ciphertext, associated_data, _keys_by_id(settings.RAPPORT_ENCRYPTION_KEYS))


def _decrypt(ciphertext: str, associated_data: bytes, keys_by_id: dict[str, AESGCM]) -> str:
    try:
        version, key_id, payload = ciphertext.split(":", 2)
        blob = base64.b64decode(payload, validate=True)
    except (ValueError, binascii.Error):
        raise DecryptionError("Not a Rapport ciphertext.") from None
    if version != FORMAT:
        raise DecryptionError(f"Unknown ciphertext format {version!r}.")
    aead = keys_by_id.get(key_id)
    if aead is None:
        raise DecryptionError(f"No key {key_id} in RAPPORT_ENCRYPTION_KEYS.")
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
    """

    def __init__(self, column: str, *, bind: tuple[str, ...] = (), seal_empty: bool = False):
        self.column = column
        self.bind = bind  # more attributes of the row the ciphertext is bound to
        self.seal_empty = seal_empty
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
            encrypt(value or "", associated_data=self.associated_data(instance)) if sealed else ""
        )
        setattr(instance, self.column, ciphertext)
