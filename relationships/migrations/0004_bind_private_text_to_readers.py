"""Session agendas and summaries and action-item text are bound to their relationship;
a relationship's purpose to its coach and organisation. Existing ciphertexts are
decrypted with the associated data they were written with and encrypted again.

The recipes are written out here, not taken from the models: they must stay what
they were when this migration was written. A ciphertext that decrypts with neither
recipe (its key is gone, or it was altered) is left as it is and counted.
"""

from django.db import migrations

from privacy.encryption import DecryptionError, decrypt, encrypt

# (model, attribute, column, the bound attributes added now)
FIELDS = [
    ("CoachingSession", "agenda", "agenda_ciphertext", ("relationship_id",)),
    ("CoachingSession", "summary", "summary_ciphertext", ("relationship_id",)),
    ("ActionItem", "text", "text_ciphertext", ("relationship_id",)),
    ("CoachingRelationship", "purpose", "purpose_ciphertext", ("coach_id", "organisation_id")),
]


def _aad(model_name, attribute, row, bound) -> bytes:
    extra = "".join(f":{name}={getattr(row, name)}" for name in bound)
    return f"relationships.{model_name.lower()}.{attribute}:{row.public_id}{extra}".encode()


def _rebind(apps, *, forwards):
    for model_name, attribute, column, bound in FIELDS:
        model = apps.get_model("relationships", model_name)
        old, new = ((), bound) if forwards else (bound, ())
        batch, unreadable = [], 0
        rows = model.objects.exclude(**{column: ""}).order_by("pk")
        for row in rows.iterator(chunk_size=500):
            ciphertext = getattr(row, column)
            try:
                decrypt(ciphertext, associated_data=_aad(model_name, attribute, row, new))
                continue  # already in the new form
            except DecryptionError:
                pass
            try:
                plaintext = decrypt(
                    ciphertext, associated_data=_aad(model_name, attribute, row, old)
                )
            except DecryptionError:
                unreadable += 1
                continue
            setattr(
                row,
                column,
                encrypt(plaintext, associated_data=_aad(model_name, attribute, row, new)),
            )
            batch.append(row)
            if len(batch) >= 500:
                model.objects.bulk_update(batch, [column])
                batch = []
        model.objects.bulk_update(batch, [column])
        if unreadable:
            print(
                f"\n  {unreadable} {model_name}.{attribute} text(s) could not be decrypted "
                "and were left as they were."
            )


def bind(apps, schema_editor):
    _rebind(apps, forwards=True)


def unbind(apps, schema_editor):
    _rebind(apps, forwards=False)


class Migration(migrations.Migration):
    dependencies = [
        ("relationships", "0003_checkins_and_idempotency_per_author"),
    ]

    operations = [migrations.RunPython(bind, unbind)]
