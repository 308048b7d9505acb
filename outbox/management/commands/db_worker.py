"""django-tasks-db's worker (`manage.py db_worker`, the same options), which also sweeps
the outbox for stalled email every RAPPORT_EMAIL_SWEEP_SECONDS and outlives a database
restart. This app comes before django_tasks_db in INSTALLED_APPS, so this command is
the one `db_worker` runs."""

from django_tasks_db.management.commands.db_worker import Command as DatabaseWorkerCommand

from outbox.worker import start_sweeper, through_database_outages


class Command(DatabaseWorkerCommand):
    help = "Run a database background worker, and queue again email whose worker died."

    def handle(self, *args, **options):
        stop = start_sweeper()
        try:
            through_database_outages(lambda: super(Command, self).handle(*args, **options))
        finally:
            stop.set()
