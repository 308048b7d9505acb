"""The operator's view of outgoing email: `list` what failed (or is waiting), `retry`
failed sends, `sweep` stalled ones. Recipients, template and error only: never a
message."""

import uuid

from django.core.management.base import BaseCommand, CommandError

from outbox.models import OutgoingEmail
from outbox.services import requeue_stalled, retry_failed


class Command(BaseCommand):
    help = "List failed or waiting emails, retry failed ones, or queue stalled ones again."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        listing = sub.add_parser("list", help="emails that failed (or, with --status, others)")
        listing.add_argument(
            "--status",
            choices=[s.value for s in OutgoingEmail.Status],
            default=OutgoingEmail.Status.FAILED,
        )
        retry = sub.add_parser("retry", help="queue failed emails again (all, or those named)")
        retry.add_argument("ids", nargs="*", help="public ids from `list`")
        sub.add_parser("sweep", help="queue again emails whose task was lost or worker died")

    def handle(self, *args, action, **options):
        if action == "list":
            emails = OutgoingEmail.objects.filter(status=options["status"])
            for email in emails:
                self.stdout.write(
                    f"{email.public_id}  {email.created_at:%Y-%m-%d %H:%M}  {email.template}  "
                    f"to {', '.join(email.recipients)}  attempts {email.attempts}  "
                    f"{email.last_error or '-'}"
                )
            self.stdout.write(f"{emails.count()} {options['status']}.")
        elif action == "retry":
            try:
                ids = [uuid.UUID(value) for value in options["ids"]]
            except ValueError:
                raise CommandError("Give the ids as `list` prints them.") from None
            count = retry_failed(ids or None)
            self.stdout.write(f"Queued {count} failed email(s) again.")
        else:
            self.stdout.write(f"Queued {requeue_stalled()} stalled email(s) again.")
