from django.conf import settings
from django.core.management.base import BaseCommand

from accounts.unverified import unverified_signups_remove
from notifications.services import digests_send, notifications_prune
from outbox.services import prune
from privacy import keys, rls
from reflections.services import run_checkins
from relationships.services import (
    action_items_due_notify,
    scheduled_sessions_roll,
    session_reminders_send,
)


class Command(BaseCommand):
    help = (
        "Open due check-in rounds, close expired ones (marking missed answers), queue "
        "reminders, delete journal entries past their author's retention period, count "
        "scheduled sessions over for 12 hours as held (a series then gets its next one), "
        "queue the day-before session reminders and the daily digests, tell owners of "
        "action items due tomorrow, delete notifications read three months ago (or older than a "
        "year), "
        "delete sent email records and finished tasks older than RAPPORT_EMAIL_KEEP_DAYS, and "
        "destroy the data keys of deleted accounts that account deletion could not reach, "
        "and remove sign-ups whose address was not verified within a day. "
        "Safe to run every few minutes, and in two processes at once."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--site-url", help="Base URL for links in reminders (default: RAPPORT_SITE_URL)."
        )

    def handle(self, *args, **kwargs):
        # As the app role, asking for nobody: each task below says which rows it needs.
        with rls.acting():
            self._run(**kwargs)

    def _run(self, site_url=None, **options):
        report = run_checkins(site_url=site_url)
        self.stdout.write(
            f"Opened {report.opened} round(s), closed {report.closed}, "
            f"queued {report.reminders} reminder(s) for the email workers; "
            f"deleted {report.purged} expired journal "
            f"{'entry' if report.purged == 1 else 'entries'}."
        )
        held = scheduled_sessions_roll()
        if held:
            self.stdout.write(f"Counted {held} scheduled session(s) over for 12 hours as held.")
        reminders = session_reminders_send(site_url=site_url)
        due = action_items_due_notify()
        digests = digests_send(site_url=site_url)
        if reminders or due or digests:
            self.stdout.write(
                f"Queued {reminders} session reminder(s) and {digests} daily digest(s); "
                f"told {due} owner(s) of action items due tomorrow."
            )
        pruned = notifications_prune()
        if pruned:
            self.stdout.write(f"Deleted {pruned} old notification(s).")
        emails, tasks = prune(days=settings.RAPPORT_EMAIL_KEEP_DAYS)
        if emails or tasks:
            self.stdout.write(f"Deleted {emails} old email record(s) and {tasks} finished task(s).")
        unverified = unverified_signups_remove()
        if unverified:
            self.stdout.write(f"Removed {unverified} sign-up(s) never verified.")
        shredded = keys.destroy_orphaned_keys()
        if shredded:
            self.stdout.write(f"Destroyed {shredded} data key(s) of deleted accounts.")
