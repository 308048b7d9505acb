from django.core.management.base import BaseCommand, CommandError

from accounts.models import Organisation
from privacy import rls
from reflections.rollups import rebuild


class Command(BaseCommand):
    help = (
        "Publish HR's missing closed months from check-ins and activity (after an upgrade), "
        "and check the published ones against a recomputation. A published month is never "
        "rewritten: a difference is reported, and the command exits with an error."
    )

    def handle(self, *args, **kwargs):
        # As the app role, asking for nobody: each task below says which rows it needs.
        with rls.acting():
            self._run(**kwargs)

    def _run(self, **options):
        differences = 0
        for organisation in Organisation.objects.order_by("pk"):
            report = rebuild(organisation)
            self.stdout.write(
                f"{organisation.name}: published {len(report.published)} missing "
                f"month{'s' if len(report.published) != 1 else ''}."
            )
            for difference in report.differences:
                self.stderr.write(
                    f"Warning: {organisation.name}, {difference}: differs from a "
                    "recomputation; the published month was kept."
                )
            differences += len(report.differences)
        if differences:
            raise CommandError(
                f"{differences} published figure{'s' if differences != 1 else ''} differ from "
                "the source as it is now (people moved, left or were deleted, answers were "
                "removed, or the data was tampered with). Published months were not changed."
            )
