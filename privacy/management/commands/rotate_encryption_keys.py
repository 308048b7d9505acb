from django.core.management.base import BaseCommand, CommandError

from privacy import rls
from privacy.encryption import newest_key_id
from privacy.rotation import rotate_all


class Command(BaseCommand):
    help = (
        "Put every private text under the newest key in RAPPORT_ENCRYPTION_KEYS: re-wrap "
        "each data key with it, and re-encrypt what is still sealed with a master key "
        "directly. Put the new key first, run this, then remove the old key. Rows that cannot be "
        "decrypted are skipped and listed (never their text); the command then exits non-zero."
    )

    def handle(self, *args, **options):
        if not rls.sees_every_row():
            raise CommandError(
                "Run this as the tables' owner, as migrations run (DATABASE_URL set to the "
                "owner's URL): as the app role the database shows it only some private "
                "texts, and the rest would stay under the old key. Nothing was changed."
            )
        report = rotate_all()
        for label, count in report.counts.items():
            if label == "privacy.DataKey.wrapped":
                self.stdout.write(f"Data keys: {count} re-wrapped in {report.rewrap_seconds:.2f} s")
            else:
                self.stdout.write(f"{label}: {count} re-encrypted")
        if report.skipped:
            for row in report.skipped:
                self.stderr.write(
                    self.style.WARNING(
                        f"Skipped {row.model} {row.public_id} {row.field}: it cannot be "
                        "decrypted with any key listed (key removed, or the row was altered)."
                    )
                )
            # Finished the rest, but the old key must not be removed yet.
            raise CommandError(
                f"{len(report.skipped)} private text(s) could not be decrypted and are still "
                "under an older key or unreadable; keep the old keys until they are dealt with."
            )
        self.stdout.write(self.style.SUCCESS(f"Everything is now under key {newest_key_id()}."))
