import time
from dataclasses import dataclass, field

from django.db import transaction

from privacy import keys
from privacy.encryption import FORMAT, REGISTRY, DecryptionError, newest_key_id
from privacy.models import DataKey


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
    rewrap_seconds: float = 0.0


def rotate_all(batch_size: int = 500) -> RotationReport:
    """Put every private text under the newest master key.

    Data keys are re-wrapped by it, and the texts they seal are left as they are. Texts
    still sealed with a master key directly (`v1`) are re-encrypted: those with an owner
    under the owner's data key, the rest under the newest master key. Rows already done
    are left alone, so the command can be stopped and run again. A row that does not
    decrypt (its key is gone, or it was tampered with) is skipped and reported, and the
    rest still rotate: one bad row must not leave everything under the old key."""
    newest = newest_key_id()
    report = RotationReport()
    started = time.monotonic()
    report.counts["privacy.DataKey.wrapped"] = _rewrap_data_keys(newest, report, batch_size)
    report.rewrap_seconds = time.monotonic() - started
    for model, attribute in REGISTRY:
        label = f"{model._meta.label}.{attribute.name}"
        report.counts[label] = 0
        rows = model._default_manager.exclude(**{attribute.column: ""})
        if attribute.owner is None:
            rows = rows.exclude(**{f"{attribute.column}__startswith": f"{FORMAT}:{newest}:"})
        else:
            rows = rows.filter(**{f"{attribute.column}__startswith": f"{FORMAT}:"})
        for instance in rows.order_by("pk").iterator(chunk_size=batch_size):
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


def _rewrap_data_keys(newest: str, report: RotationReport, batch_size: int) -> int:
    rewrapped = 0
    rows = DataKey.objects.exclude(wrapped__startswith=f"{FORMAT}:{newest}:").order_by("pk")
    for row in rows.iterator(chunk_size=batch_size):
        try:
            wrapped = keys.rewrapped(row)
        except DecryptionError:
            report.skipped.append(Skipped("privacy.DataKey", row.pk, "wrapped"))
            continue
        rewrapped += DataKey.objects.filter(pk=row.pk, wrapped=row.wrapped).update(wrapped=wrapped)
    keys.forget_all()
    return rewrapped
