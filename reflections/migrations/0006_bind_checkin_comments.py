"""Check-in comments are bound to their respondent, round and `shared` flag, and every
response is sealed (an empty comment is encrypted too). Existing ciphertexts are
decrypted with the associated data they were written with and encrypted again.

The recipes are written out here, not taken from the models: they must stay what
they were when this migration was written. A ciphertext that decrypts with neither
recipe (its key is gone, or it was altered) is left as it is and counted.
"""

from django.db import migrations

from privacy.encryption import DecryptionError, decrypt, encrypt

LABEL = "reflections.checkinresponse.comment"


def _unbound(row) -> bytes:
    return f"{LABEL}:{row.public_id}".encode()


def _bound(row) -> bytes:
    return (
        f"{LABEL}:{row.public_id}:respondent_id={row.respondent_id}"
        f":round_id={row.round_id}:shared={row.shared}"
    ).encode()


def _rebind(apps, old_aad, new_aad, *, seal_empty):
    CheckInResponse = apps.get_model("reflections", "CheckInResponse")
    batch, unreadable = [], 0
    for row in CheckInResponse.objects.order_by("pk").iterator(chunk_size=500):
        ciphertext = row.comment_ciphertext
        if not ciphertext:
            if not seal_empty:
                continue
            plaintext = ""
        else:
            try:
                decrypt(ciphertext, associated_data=new_aad(row))
                continue  # already in the new form
            except DecryptionError:
                pass
            try:
                plaintext = decrypt(ciphertext, associated_data=old_aad(row))
            except DecryptionError:
                unreadable += 1
                continue
        row.comment_ciphertext = (
            encrypt(plaintext, associated_data=new_aad(row)) if plaintext or seal_empty else ""
        )
        batch.append(row)
        if len(batch) >= 500:
            CheckInResponse.objects.bulk_update(batch, ["comment_ciphertext"])
            batch = []
    CheckInResponse.objects.bulk_update(batch, ["comment_ciphertext"])
    if unreadable:
        print(
            f"\n  {unreadable} check-in comment(s) could not be decrypted "
            "and were left as they were."
        )


def bind(apps, schema_editor):
    _rebind(apps, _unbound, _bound, seal_empty=True)


def unbind(apps, schema_editor):
    _rebind(apps, _bound, _unbound, seal_empty=False)


class Migration(migrations.Migration):
    dependencies = [
        ("reflections", "0005_checkinround_closes_at_required"),
    ]

    operations = [migrations.RunPython(bind, unbind)]
