"""Several people at once, each request writing an audit event inside its transaction:
on SQLite (the demo, local work, CI's second run) as on PostgreSQL, none of them may
answer 500 "database is locked", and the audit log's chain stays whole."""

import threading

import pytest
from django.db import connections
from django.test import Client
from django.urls import reverse

from accounts.models import AuditEvent
from accounts.services import audit_log_verify
from tests.factories import MembershipFactory


@pytest.mark.django_db(transaction=True)
def test_attack_concurrent_exports_never_answer_database_is_locked(organisation):
    """A transactional test: each thread has its own database connection, as each
    request of a threaded server does (a file-backed test database on SQLite)."""
    people = [MembershipFactory(organisation=organisation).user for _ in range(4)]
    barrier = threading.Barrier(8)
    statuses, errors = [], []

    def export(person):
        browser = Client()
        browser.force_login(person)
        try:
            barrier.wait()
            for _ in range(5):
                statuses.append(browser.get(reverse("export_json")).status_code)
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=export, args=(people[i % 4],)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sorted(statuses) == [200] * 40
    assert AuditEvent.objects.filter(action="data.exported").count() == 40
    assert audit_log_verify() == []
