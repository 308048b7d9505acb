from django.core.management.base import BaseCommand

from privacy.encryption import newest_key_id
from privacy.rotation import rotate_all


class Command(BaseCommand):
    help = (
        "Re-encrypt every private text under the newest key in RAPPORT_ENCRYPTION_KEYS. "
        "Put the new key first, run this, then remove the old key."
    )

    def handle(self, *args, **options):
        counts = rotate_all()
        for label, count in counts.items():
            self.stdout.write(f"{label}: {count} re-encrypted")
        self.stdout.write(self.style.SUCCESS(f"Everything is now under key {newest_key_id()}."))
