from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.demo import demo_logins, seed_demo
from outbox.worker import start_worker_thread
from reflections.demo import seed_checkins, seed_journal
from reflections.rollups import rebuild as rebuild_insights
from relationships.demo import seed_relationships


class Command(BaseCommand):
    help = "Migrate, seed a demo organisation if it is missing, print its logins and serve it."

    def add_arguments(self, parser):
        parser.add_argument(
            "addrport", nargs="?", default="127.0.0.1:8000", help="Where to serve the demo."
        )
        parser.add_argument(
            "--no-serve", action="store_true", help="Prepare the demo data and exit."
        )

    def handle(self, *args, addrport, no_serve, **options):
        call_command("migrate", interactive=False, verbosity=0)
        call_command("migrate", database="keys", interactive=False, verbosity=0)
        call_command("createcachetable", verbosity=0)
        with transaction.atomic():  # all of the demo, or none of it
            organisation = seed_demo()
            seeded = organisation is not None
            if seeded:
                seed_relationships(organisation)
                seed_checkins(organisation)
                seed_journal(organisation)
                rebuild_insights(organisation)
        self.stdout.write(
            self.style.SUCCESS("Seeded the demo organisation.")
            if seeded
            else "The demo organisation is already there; keeping its data."
        )
        self.stdout.write("\nDemo logins (password for each: shown beside it):")
        for email, password, what in demo_logins():
            self.stdout.write(f"  {email:<26} {password:<14} {what}")
        self.stdout.write(
            "  …and 20 more colleagues (ada@example.com, ben@example.com, …), same password."
        )
        if no_serve:
            return
        # A new user sees Rapport as it is deployed: its own error pages, never Django's
        # debug page listing every URL pattern. Set before the server builds its handler,
        # so whitenoise (WHITENOISE_USE_FINDERS in the local settings) serves the static
        # files straight from static/ with nothing to collect. Plain `runserver` keeps DEBUG.
        settings.DEBUG = False
        # Email is sent by a worker, as in production: here one runs in this process and
        # prints each email to the console, and stops with the server.
        start_worker_thread()
        self.stdout.write(f"\nRapport is at http://{addrport}/  (Ctrl+C to stop)\n")
        call_command("runserver", addrport, use_reloader=False)
