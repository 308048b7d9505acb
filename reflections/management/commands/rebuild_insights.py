from django.core.management.base import BaseCommand

from accounts.models import Organisation
from reflections.rollups import rebuild


class Command(BaseCommand):
    help = (
        "Recompute HR's anonymised rollups from check-ins and activity, organisation by "
        "organisation. Idempotent: the same data gives the same tables."
    )

    def handle(self, *args, **options):
        for organisation in Organisation.objects.order_by("pk"):
            rebuild(organisation)
            self.stdout.write(f"Rebuilt insights for {organisation.name}.")
