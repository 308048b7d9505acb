"""What every worker runs beside its tasks: the sweep that queues again the emails whose
task was lost or whose worker died mid-send."""

import logging
import threading
import time

from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, connection, connections

from outbox.services import requeue_stalled

logger = logging.getLogger(__name__)


def sweep_forever(stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            requeued = requeue_stalled()
            if requeued:
                logger.warning("Queued %d stalled email(s) again.", requeued)
        except DatabaseError:
            logger.warning("The database is unavailable; sweeping again shortly.")
        except Exception:  # a bug must not end the sweep for the worker's lifetime
            logger.exception("The outbox sweep failed; trying again shortly.")
        finally:
            connection.close()  # this thread's own connection; a fresh one each time
        stop.wait(float(settings.RAPPORT_EMAIL_SWEEP_SECONDS))


def through_database_outages(run) -> None:
    """Run a worker loop, and run it again when the database goes away (django-tasks-db's
    loop stops at the first connection error), waiting a little longer each time."""
    pause = 0.5
    while True:
        try:
            run()
            return
        except (OperationalError, InterfaceError) as error:
            logger.warning("The database is unavailable (%s); the worker resumes shortly.", error)
            connections.close_all()
            time.sleep(pause)
            pause = min(pause * 2, 15)


def start_sweeper() -> threading.Event:
    """Sweep in a daemon thread until the returned event is set (or the process ends)."""
    stop = threading.Event()
    threading.Thread(target=sweep_forever, args=(stop,), name="outbox-sweeper", daemon=True).start()
    return stop


def start_worker_thread() -> None:
    """A database worker and its sweep in daemon threads of this process: the demo's
    one command, which serves the site, also delivers its email."""
    from django.utils.crypto import get_random_string
    from django_tasks_db.compat import DEFAULT_TASK_BACKEND_ALIAS
    from django_tasks_db.management.commands.db_worker import Worker

    worker = Worker(
        queue_names=["default"],
        interval=1,
        batch=False,
        backend_name=DEFAULT_TASK_BACKEND_ALIAS,
        startup_delay=False,
        max_tasks=None,
        worker_id=f"demo-{get_random_string(12)}",
        excluded_queue_names=[],
    )
    threading.Thread(
        target=through_database_outages, args=(worker.run,), name="outbox-worker", daemon=True
    ).start()
    start_sweeper()
