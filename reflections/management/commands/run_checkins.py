from django.conf import settings
from django.core.management.base import BaseCommand

from outbox.services import prune
from reflections.services import run_checkins
from relationships.services import scheduled_sessions_roll


class Command(BaseCommand):
    help = (
        "Open due check-in rounds, close expired ones (marking missed answers), queue "
        "reminders, delete journal entries past their author's retention period, count "
        "scheduled sessions whose time is over as held (a series then gets its next one), and "
        "delete sent email records and finished tasks older than RAPPORT_EMAIL_KEEP_DAYS. "
        "Safe to run every few minutes, and in two processes at once."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--site-url", help="Base URL for links in reminders (default: RAPPORT_SITE_URL)."
        )

    def handle(self, *args, site_url=None, **options):
        report = run_checkins(site_url=site_url)
        self.stdout.write(
            f"Opened {report.opened} round(s), closed {report.closed}, "
            f"queued {report.reminders} reminder(s) for the email workers; "
            f"deleted {report.purged} expired journal "
            f"{'entry' if report.purged == 1 else 'entries'}."
        )
        held = scheduled_sessions_roll()
        if held:
            self.stdout.write(f"Counted {held} scheduled session(s) whose time is over as held.")
        emails, tasks = prune(days=settings.RAPPORT_EMAIL_KEEP_DAYS)
        if emails or tasks:
            self.stdout.write(f"Deleted {emails} old email record(s) and {tasks} finished task(s).")
