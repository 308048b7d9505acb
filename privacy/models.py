from django.db import models


class DataKey(models.Model):
    """One person's or one relationship's data key, wrapped by a master key.

    Kept in the key store (the `keys` database, config.routers), never in the main
    database: a backup of the main database holds no key, so destroying a row here
    makes its owner's text unreadable in every backup too (privacy.keys)."""

    class Owner(models.TextChoices):
        PERSON = "person"
        RELATIONSHIP = "relationship"

    # Random, and named in each ciphertext it seals (`v2:<id>:…`).
    id = models.CharField(primary_key=True, max_length=32, editable=False)
    owner_kind = models.CharField(max_length=16, choices=Owner.choices)
    owner_id = models.BigIntegerField()
    # The key, encrypted under a master key of RAPPORT_ENCRYPTION_KEYS and bound to this
    # row's id and owner.
    wrapped = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["owner_kind", "owner_id"], name="one_key_per_owner")
        ]

    def __str__(self):
        return f"{self.owner_kind} {self.owner_id}"
