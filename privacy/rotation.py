from dataclasses import dataclass, field

from django.db import transaction

from privacy.encryption import REGISTRY, DecryptionError, newest_key_id


@dataclass(frozen=True)
class Skipped:
    """A row rotation could not decrypt: named, never quoted."""

    model: str
    public_id: str
    field: str


@dataclass
class RotationReport:
    counts: dict[str, int] = field(default_factory=dict)
    skipped: list[Skipped] = field(default_factory=list)


def rotate_all(batch_size: int = 500) -> RotationReport:
    """Re-encrypt every private text under the newest key. Rows already under it are
    left alone, so the command can be stopped and run again. A row that does not
    decrypt (its key is gone, or it was tampered with) is skipped and reported, and
    the rest still rotate: one bad row must not leave everything under the old key."""
    newest = newest_key_id()
    report = RotationReport()
    for model, attribute in REGISTRY:
        label = f"{model._meta.label}.{attribute.name}"
        report.counts[label] = 0
        rows = (
            model._default_manager.exclude(**{attribute.column: ""})
            .exclude(**{f"{attribute.column}__contains": f":{newest}:"})
            .order_by("pk")
        )
        for instance in rows.iterator(chunk_size=batch_size):
            old_ciphertext = getattr(instance, attribute.column)
            try:
                plaintext = getattr(instance, attribute.name)
            except DecryptionError:
                report.skipped.append(
                    Skipped(model._meta.label, str(instance.public_id), attribute.name)
                )
                continue
            with transaction.atomic():
                setattr(instance, attribute.name, plaintext)
                # Only if nobody edited the row since we read it: never undo an edit.
                report.counts[label] += model._default_manager.filter(
                    pk=instance.pk, **{attribute.column: old_ciphertext}
                ).update(**{attribute.column: getattr(instance, attribute.column)})
    return report
