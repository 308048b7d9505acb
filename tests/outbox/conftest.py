"""The outbox as deployed: the database task backend, SMTP to a real server, workers that
are real processes (or the same worker loop in the test's process), and committed data
(transactional tests), so a worker in another process sees what a request queued."""

import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from django.db import connection
from django_tasks_db.management.commands.db_worker import Worker

from tests.outbox.smtp_sink import SmtpSink

ROOT = Path(__file__).resolve().parents[2]
LEASE_SECONDS = 3
# Long enough for a second copy of an email to arrive: a claim running out, then a sweep.
SETTLE_SECONDS = LEASE_SECONDS + 2


@pytest.fixture
def smtp():
    sink = SmtpSink()
    sink.start()
    yield sink
    sink.release.set()
    sink.stop()


@pytest.fixture
def real_outbox(settings, smtp):
    """Settings as in production, pointed at the test mail server, with short waits."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = smtp.port
    settings.EMAIL_TIMEOUT = 5
    settings.RAPPORT_EMAIL_RETRY_SECONDS = 1
    settings.RAPPORT_EMAIL_SEND_LEASE_SECONDS = LEASE_SECONDS
    settings.RAPPORT_EMAIL_QUEUED_GRACE_SECONDS = 60
    return smtp


def drain() -> None:
    """Run every task that is due, in this process, with the worker's own loop."""
    Worker(
        queue_names=["default"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="test-drain",
        excluded_queue_names=[],
    ).run()


def _database_url() -> str:
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    user, host, port = db["USER"] or "postgres", db["HOST"] or "127.0.0.1", db["PORT"] or 5432
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    return f"postgres://{user}{password}@{host}:{port}/{db['NAME']}"


class WorkerProcess:
    """`manage.py db_worker` in a process of its own, on the test database."""

    def __init__(self, smtp: SmtpSink, name: str):
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "DATABASE_URL": _database_url(),
            "RAPPORT_TEST_TASKS_BACKEND": "django_tasks_db.DatabaseBackend",
            "RAPPORT_TEST_EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(smtp.port),
            "RAPPORT_EMAIL_RETRY_SECONDS": "1",
            "RAPPORT_EMAIL_RETRY_MAX_SECONDS": "2",
            "RAPPORT_EMAIL_SEND_LEASE_SECONDS": str(LEASE_SECONDS),
            "RAPPORT_EMAIL_SWEEP_SECONDS": "1",
            # Retries come every second or two here: enough attempts for a slow run.
            "RAPPORT_EMAIL_MAX_ATTEMPTS": "100",
        }
        self.log = tempfile.NamedTemporaryFile(  # noqa: SIM115 (closed in stop)
            "w+", prefix=f"worker-{name}-", suffix=".log"
        )
        self.process = subprocess.Popen(
            [
                sys.executable,
                "manage.py",
                "db_worker",
                "--interval",
                "0.1",
                "--no-startup-delay",
                "--no-reload",
                "--worker-id",
                name,
            ],
            cwd=ROOT,
            env=env,
            stdout=self.log,  # a file, not a pipe nobody reads until the end
            stderr=subprocess.STDOUT,
        )

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> str:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.log.seek(0)
        output = self.log.read()
        self.log.close()
        return output


@pytest.fixture
def workers(real_outbox):
    started: list[WorkerProcess] = []

    def start(name: str) -> WorkerProcess:
        worker = WorkerProcess(real_outbox, name)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()
