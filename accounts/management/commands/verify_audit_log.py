from django.core.management.base import BaseCommand, CommandError

from accounts.services import audit_log_verify


class Command(BaseCommand):
    help = "Check the audit log's hash chain: an edited or deleted event is reported."

    def handle(self, *args, **options):
        problems = audit_log_verify()
        if problems:
            for problem in problems:
                self.stderr.write(problem)
            raise CommandError(f"The audit log has {len(problems)} problem(s).")
        self.stdout.write(self.style.SUCCESS("The audit log's chain is intact."))
