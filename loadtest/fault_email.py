"""Fault test for email: restart PostgreSQL while two email workers run and people keep
writing notes and sending invitations, then check that every invitation that got a
success is delivered to a real SMTP server exactly once.

Run it as described in loadtest/README.md (a server from loadtest/serve.sh on
127.0.0.1:8010, against the database in DATABASE_URL). It starts an SMTP sink (aiosmtpd,
tests/outbox/smtp_sink.py) on a free loopback port and two `manage.py db_worker`
processes with production settings pointed at it; a worker that exits is started again
after a second, as the `restart: unless-stopped` of docker-compose.yml would. Loopback
only, bounded in time. Exits non-zero on any lost or doubled email or lost note.
`--no-restart` runs the same scenario without restarting PostgreSQL (a baseline).
"""

import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fault_test import (  # noqa: E402
    CSRF,
    WRITERS,
    Writer,
    _opener,
    _request,
    sign_in,
)

from tests.outbox.smtp_sink import SmtpSink  # noqa: E402

INVITERS = ["alex.coach@example.com", "priya.coach@example.com"]
INVITE_DOMAIN = "example.com"  # the demo organisation's domain: no HR approval needed
RUN_SECONDS, RESTART_AFTER = 30, 8
# The workers' timers, shortened so that the test ends in minutes: a claim runs out after
# LEASE seconds, a queued email whose task was lost is swept after GRACE seconds. The
# server queues with its own RAPPORT_EMAIL_QUEUED_GRACE_SECONDS: start serve.sh with the
# same value (see the README), or a lost task waits for the default two minutes.
LEASE = int(os.environ.get("RAPPORT_EMAIL_SEND_LEASE_SECONDS", "20"))
GRACE = int(os.environ.get("RAPPORT_EMAIL_QUEUED_GRACE_SECONDS", "30"))
DRAIN_TIMEOUT = GRACE + LEASE + 90
# The sink takes this long to accept each message, as a real mail server does, so that a
# send is likely in flight when the database goes away.
SMTP_DELAY = 0.3
UNSENT = ("queued", "sending")


class TimedSink(SmtpSink):
    """The test's sink, also noting when each message arrived."""

    async def handle_DATA(self, server, session, envelope):
        answer = await super().handle_DATA(server, session, envelope)
        self.received[-1]["at"] = time.monotonic()
        return answer


class Inviter(threading.Thread):
    """A coach inviting new people by email address, one after another."""

    def __init__(self, email, stop):
        super().__init__(daemon=True)
        self.email, self.stop = email, stop
        self.acknowledged, self.attempted, self.failures = [], [], 0
        self.unexpected: list[str] = []

    def run(self):
        opener, jar = sign_in(self.email)
        poster, _ = _opener(follow=False, jar=jar)  # the same signed-in session
        while not self.stop.is_set():
            status, page = _request(opener, "/relationships/new/")
            match = CSRF.search(page) if status == 200 else None
            if not match:
                self.failures += 1
                time.sleep(0.2)
                continue
            address = f"fault-{uuid.uuid4().hex[:16]}@{INVITE_DOMAIN}"
            self.attempted.append(address)
            status, page = _request(
                poster,
                "/relationships/new/",
                {
                    "coachee": "",
                    "email": address,
                    "purpose": "Fault test invitation",
                    "csrfmiddlewaretoken": match.group(1),
                },
            )
            if status == 302:
                self.acknowledged.append(address)
            else:
                self.failures += 1
                if status not in (0, 503):  # refused for another reason: worth a look
                    self.unexpected.append(f"{status} {page[:200]!r}")
                time.sleep(0.2)


class Workers:
    """Two `manage.py db_worker` processes, each started again a second after it exits."""

    def __init__(self, sink_port: int, logs: Path):
        self.logs = logs
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.production",
            "SECRET_KEY": os.environ.get("SECRET_KEY", "loadtest-only-" + "x" * 40),
            # serve.sh's default: the workers decrypt what the server encrypted.
            "RAPPORT_ENCRYPTION_KEYS": os.environ.get(
                "RAPPORT_ENCRYPTION_KEYS", "ZGV2ZWxvcG1lbnQtb25seS1ub3Qtc2VjcmV0LWtleSE="
            ),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(sink_port),
            "EMAIL_USE_TLS": "false",
            "RAPPORT_EMAIL_RETRY_SECONDS": "1",
            "RAPPORT_EMAIL_RETRY_MAX_SECONDS": "5",
            "RAPPORT_EMAIL_SEND_LEASE_SECONDS": str(LEASE),
            "RAPPORT_EMAIL_QUEUED_GRACE_SECONDS": str(GRACE),
            "RAPPORT_EMAIL_SWEEP_SECONDS": "2",
        }
        self.processes: dict[str, subprocess.Popen] = {}
        self.exits: list[tuple[str, int, float]] = []
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._supervise, daemon=True)

    def _start(self, name: str) -> None:
        log = (self.logs / f"{name}.log").open("a")
        self.processes[name] = subprocess.Popen(  # noqa: S603
            [sys.executable, "manage.py", "db_worker", "--no-reload", "--worker-id", name],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def start(self) -> None:
        for name in ("worker-1", "worker-2"):
            self._start(name)
        self.thread.start()

    def wait_until_running(self, timeout: float = 90) -> None:
        """Until every worker has logged its start (Django takes a while to boot)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            logs = [(self.logs / f"{name}.log").read_text() for name in self.processes]
            if all("Starting worker" in log for log in logs):
                return
            time.sleep(0.2)
        raise SystemExit(f"The workers did not start within {timeout} s; see {self.logs}")

    def _supervise(self) -> None:
        while not self.stopping.wait(0.5):
            for name, process in list(self.processes.items()):
                if process.poll() is not None and not self.stopping.is_set():
                    self.exits.append((name, process.returncode, time.monotonic()))
                    time.sleep(1)
                    self._start(name)

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(timeout=5)
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
        for process in self.processes.values():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _query(sql: str, params=()):
    with psycopg.connect(os.environ["DATABASE_URL"], connect_timeout=5) as db:
        return db.execute(sql, params).fetchall()


def _outbox_since(started) -> dict:
    rows = _query(
        "SELECT status, count(*), max(attempts) FROM outbox_outgoingemail "
        "WHERE created_at >= %s OR status IN ('queued', 'sending', 'failed') GROUP BY status",
        (started,),
    )
    return {status: (count, attempts) for status, count, attempts in rows}


def _wait_for_drain(started, sink) -> float | None:
    """Until no email is queued or sending and the sink has everything sent; returns
    the moment that happened, or None on timeout."""
    deadline = time.monotonic() + DRAIN_TIMEOUT
    while time.monotonic() < deadline:
        try:
            outbox = _outbox_since(started)
        except psycopg.OperationalError:
            outbox = {"queued": (1, 0)}
        sent = outbox.get("sent", (0, 0))[0]
        if not any(status in outbox for status in UNSENT) and len(sink.received) >= sent:
            return time.monotonic()
        time.sleep(0.5)
    return None


def _restart_postgresql() -> tuple[float, float]:
    cluster = sorted(Path("/etc/postgresql").iterdir())[0].name
    restarted_at = time.monotonic()
    subprocess.run(  # noqa: S603
        ["pg_ctlcluster", "--skip-systemctl-redirect", cluster, "main", "restart"],  # noqa: S607
        check=True,
    )
    return restarted_at, time.monotonic()


def _no_restart() -> tuple[float, float]:
    now = time.monotonic()
    return now, now


def main(restart: bool = True) -> int:  # noqa: PLR0915 (one scenario, told in order)
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        raise SystemExit("Set DATABASE_URL to the load test's PostgreSQL database.")
    (started,) = _query("SELECT now()")[0]
    sink = TimedSink()
    sink.delay = SMTP_DELAY
    sink.start()
    logs = Path(tempfile.mkdtemp(prefix="rapport-fault-email-"))
    workers = Workers(sink.port, logs)
    workers.start()
    workers.wait_until_running()

    stop = threading.Event()
    writers = [Writer(email, stop) for email in WRITERS]
    inviters = [Inviter(email, stop) for email in INVITERS]
    for thread in writers + inviters:
        thread.start()
    time.sleep(RESTART_AFTER)
    restarted_at, back_at = _restart_postgresql() if restart else _no_restart()
    time.sleep(max(0, RUN_SECONDS - RESTART_AFTER))
    stop.set()
    for thread in writers + inviters:
        thread.join(timeout=15)
    stopped_at = time.monotonic()

    drained_at = _wait_for_drain(started, sink)
    time.sleep(3)  # a second delivery of anything would show up here
    workers.stop()
    sink.stop()

    # What the people were told, and what the mail server got.
    acknowledged = [a for inviter in inviters for a in inviter.acknowledged]
    attempted = {a for inviter in inviters for a in inviter.attempted}
    notes = [token for writer in writers for token in writer.acknowledged]
    received = list(sink.received)
    by_recipient = Counter(address for message in received for address in message["to"])
    by_message_id = Counter(message["message_id"] for message in received)
    lost = [a for a in acknowledged if by_recipient[a] == 0]
    doubled_recipients = [a for a in acknowledged if by_recipient[a] > 1]
    doubled_ids = [mid for mid, count in by_message_id.items() if count > 1]
    unacknowledged = [a for a in attempted - set(acknowledged) if by_recipient[a]]

    outbox = _outbox_since(started)
    sent_ids = {
        str(public_id)
        for (public_id,) in _query(
            "SELECT public_id FROM outbox_outgoingemail WHERE status = 'sent' AND sent_at >= %s",
            (started,),
        )
    }
    # A Message-ID is <public id of the outbox row@the sender's domain>.
    not_at_sink = sent_ids - {mid.strip("<>").partition("@")[0] for mid in by_message_id}
    stored_notes = {
        str(token)
        for (token,) in _query(
            "SELECT client_token FROM relationships_note WHERE client_token = ANY(%s)",
            ([uuid.UUID(token) for token in notes],),
        )
    }
    lost_notes = set(notes) - stored_notes
    ((longest_wait,),) = _query(
        "SELECT coalesce(max(extract(epoch FROM sent_at - created_at)), 0) "
        "FROM outbox_outgoingemail WHERE created_at >= %s AND status = 'sent'",
        (started,),
    )
    tasks = dict(
        _query(
            "SELECT status, count(*) FROM django_tasks_database_dbtaskresult "
            "WHERE enqueued_at >= %s GROUP BY status",
            (started,),
        )
    )
    sent_twice = _query(
        "SELECT args_kwargs, count(*) FROM django_tasks_database_dbtaskresult "
        "WHERE enqueued_at >= %s AND return_value = '\"sent\"'::jsonb "
        "GROUP BY args_kwargs HAVING count(*) > 1",
        (started,),
    )
    arrivals = [m["at"] for m in received if m.get("at")]
    after_restart = [t for t in arrivals if t > back_at]
    left = {
        status: outbox[status] for status in ("queued", "sending", "failed") if status in outbox
    }
    max_attempts = max((attempts for _, attempts in outbox.values()), default=0)

    print(
        f"PostgreSQL restart took {back_at - restarted_at:.1f} s; invitations acknowledged: "
        f"{len(acknowledged)} (refused or failed during the outage: "
        f"{sum(i.failures for i in inviters)}); notes acknowledged: {len(notes)}, lost: "
        f"{len(lost_notes)}"
    )
    print(
        f"Emails delivered: {len(received)} ({len(by_message_id)} Message-IDs); acknowledged "
        f"invitations lost: {len(lost)}, delivered twice: {len(doubled_recipients)}; "
        f"Message-IDs twice: {len(doubled_ids)}; sent in the outbox but not at the server: "
        f"{len(not_at_sink)}; delivered for a request that got no success: {len(unacknowledged)}"
    )
    print(
        f"Outbox left queued/sending/failed: {left or 'none'}; max attempts: {max_attempts}; "
        f"tasks by status: {tasks}; emails whose task ran to 'sent' twice: {len(sent_twice)}"
    )
    print(
        f"Worker exits (each started again after 1 s): {len(workers.exits)}"
        + "".join(
            f"; {name} exit {code} at +{at - restarted_at:.1f} s"
            for name, code, at in workers.exits
        )
    )
    if drained_at is None:
        print(f"The outbox did not drain within {DRAIN_TIMEOUT} s of the writers stopping.")
    else:
        first = f"{min(after_restart) - back_at:.1f} s" if after_restart else "none"
        print(
            f"First email after the database was back: {first}; outbox drained "
            f"{drained_at - back_at:.1f} s after the database was back "
            f"({drained_at - stopped_at:.1f} s after the writers stopped); longest wait "
            f"from queued to sent: {longest_wait:.1f} s"
        )
    for inviter in inviters:
        for answer in inviter.unexpected[:3]:
            print(f"Unexpected answer to {inviter.email}: {answer}")
    print(f"Worker logs: {logs}")
    out = Path(__file__).with_name("acknowledged-invitations-fault.txt")
    out.write_text("\n".join(acknowledged) + "\n")
    failed = (
        drained_at is None
        or not acknowledged
        or lost
        or doubled_recipients
        or doubled_ids
        or not_at_sink
        or left
        or lost_notes
        or sent_twice
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(restart="--no-restart" not in sys.argv[1:]))
