from django.db import transaction

from privacy.encryption import REGISTRY, newest_key_id


def rotate_all(batch_size: int = 500) -> dict[str, int]:
    """Re-encrypt every private text under the newest key. Rows already under it are
    left alone, so the command can be stopped and run again."""
    newest = newest_key_id()
    counts: dict[str, int] = {}
    for model, attribute in REGISTRY:
        label = f"{model._meta.label}.{attribute.name}"
        counts[label] = 0
        rows = (
            model._default_manager.exclude(**{attribute.column: ""})
            .exclude(**{f"{attribute.column}__contains": f":{newest}:"})
            .order_by("pk")
        )
        for instance in rows.iterator(chunk_size=batch_size):
            old_ciphertext = getattr(instance, attribute.column)
            with transaction.atomic():
                setattr(instance, attribute.name, getattr(instance, attribute.name))
                # Only if nobody edited the row since we read it: never undo an edit.
                counts[label] += model._default_manager.filter(
                    pk=instance.pk, **{attribute.column: old_ciphertext}
                ).update(**{attribute.column: getattr(instance, attribute.column)})
    return counts
