"""Workers are real processes (`manage.py db_worker`): killed with SIGKILL mid-batch,
restarted, or running two at once, every queued email is delivered exactly once."""

import random
import time
from collections import Counter

import pytest

from outbox.models import OutgoingEmail
from outbox.services import queue_email
from tests.outbox.conftest import LEASE_SECONDS, SETTLE_SECONDS

pytestmark = pytest.mark.django_db(transaction=True)


def _queue(count: int) -> list[OutgoingEmail]:
    return [
        queue_email(
            to=f"person{n}@example.com", subject=f"Email {n}", body="Hello", template="test"
        )
        for n in range(count)
    ]


def _expected_ids(emails) -> set[str]:
    return {f"<{email.public_id}@localhost>" for email in emails}


def test_a_worker_killed_mid_send_leaves_nothing_lost_or_doubled(workers, smtp):
    emails = _queue(20)
    smtp.delay = 0.02
    smtp.hold_at = 8  # the eighth email waits at RCPT: the worker is mid-send
    first = workers("first")
    assert smtp.held.wait(30), "the worker reached the eighth email"
    first.kill()  # SIGKILL: no chance to clean up
    smtp.release.set()
    assert len(smtp.received) == 7

    stalled = OutgoingEmail.objects.get(status="sending")
    assert stalled.attempts == 1
    workers("second")  # sweeps the dead worker's claim once its lease runs out
    received = smtp.wait_for(20, timeout=30 + LEASE_SECONDS)
    time.sleep(SETTLE_SECONDS)  # a second delivery would show up here
    assert Counter(m["message_id"] for m in smtp.received) == Counter(_expected_ids(emails))
    assert len(received) == 20
    stalled.refresh_from_db()
    assert (stalled.status, stalled.attempts) == ("sent", 2)


def test_two_workers_at_once_deliver_each_email_once(workers, smtp):
    emails = _queue(40)
    smtp.delay = 0.01
    workers("one")
    workers("two")
    smtp.wait_for(40, timeout=60)
    time.sleep(SETTLE_SECONDS)
    assert Counter(m["message_id"] for m in smtp.received) == Counter(_expected_ids(emails))
    assert set(OutgoingEmail.objects.values_list("status", flat=True)) == {"sent"}


def test_workers_killed_at_random_moments_lose_nothing(workers, smtp):
    """Killed anywhere, including between the server's acceptance and the worker's record
    of it: every email arrives. SMTP has no two-phase commit, so a kill in that window
    (under a millisecond) can send the in-flight email again, with the same Message-ID
    (receivers that keep Message-IDs file it once); at most one per kill."""
    emails = _queue(40)
    smtp.delay = 0.03
    kills = 0
    rng = random.Random(16)  # noqa: S311
    for name in ("a", "b", "c"):
        worker = workers(name)
        # Once it is sending (one more email arrived), at a random moment of a send.
        arrived = len(smtp.received)
        deadline = time.monotonic() + 30
        while len(smtp.received) == arrived and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(rng.uniform(0, 0.05))
        worker.kill()
        kills += 1
    workers("last")
    deadline = time.monotonic() + 60
    while len(set(smtp.message_ids())) < 40 and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(SETTLE_SECONDS)
    counts = Counter(smtp.message_ids())
    assert set(counts) == _expected_ids(emails), "every email arrived"
    duplicates = sum(counts.values()) - len(counts)
    interrupted = OutgoingEmail.objects.filter(attempts__gt=1).count()
    print(
        f"{kills} kills, {interrupted} send(s) interrupted and resent, "
        f"{sum(counts.values())} deliveries, {duplicates} duplicate(s)"
    )
    assert duplicates <= kills
    assert set(OutgoingEmail.objects.values_list("status", flat=True)) == {"sent"}


def test_a_worker_loop_stopped_by_a_database_outage_runs_again(monkeypatch):
    """django-tasks-db's loop stops at the first connection error; the worker waits and
    runs it again, rather than exit (the load test's PostgreSQL restart found this)."""
    from django.db import OperationalError

    from outbox import worker

    monkeypatch.setattr(worker.time, "sleep", lambda seconds: None)
    runs = []

    def loop():
        runs.append(1)
        if len(runs) < 3:
            raise OperationalError("server closed the connection unexpectedly")

    worker.through_database_outages(loop)
    assert len(runs) == 3
