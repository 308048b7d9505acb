"""A transaction around the view for unsafe methods only (config/transactions.py): a
POST that fails undoes everything it wrote, audit rows included; a GET runs in
autocommit, without BEGIN and COMMIT; the GET views that write an audit row do it in
a transaction of their own."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import AuditEvent
from tests import frame_urls

pytestmark = [pytest.mark.urls("tests.frame_urls"), pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _forget_what_views_saw():
    frame_urls.SEEN.clear()


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_an_unsafe_request_that_fails_after_writing_leaves_no_row(member_client, method):
    member_client.raise_request_exception = False

    response = getattr(member_client, method)("/test/writes-then-fails/")

    assert response.status_code == 500
    assert frame_urls.SEEN == [True]
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize("method", ["post", "delete"])
def test_an_unsafe_request_that_succeeds_keeps_what_it_wrote(member_client, member, method):
    response = getattr(member_client, method)("/test/writes/")

    assert response.status_code == 200
    assert frame_urls.SEEN == [True]
    assert AuditEvent.objects.filter(actor=member, action="data.exported").count() == 1


@pytest.mark.parametrize("method", ["get", "head"])
def test_a_safe_request_runs_without_a_transaction(member_client, member, method):
    with CaptureQueriesContext(connection) as captured:
        response = getattr(member_client, method)("/test/writes/")

    assert response.status_code == 200
    assert frame_urls.SEEN == [False]
    # Only the service's own transaction (audit_record's), none around the request.
    assert AuditEvent.objects.filter(actor=member).count() == 1
    statements = [q["sql"].upper() for q in captured.captured_queries]
    assert not any(s.startswith("SAVEPOINT") for s in statements)


def test_a_view_marked_non_atomic_stays_outside(member_client):
    assert member_client.post("/test/non-atomic-writes/").status_code == 200
    assert frame_urls.SEEN == [False]


def test_a_page_that_only_reads_begins_no_transaction(member_client):
    """On PostgreSQL (where Django logs them), no BEGIN/COMMIT around a plain page."""
    with CaptureQueriesContext(connection) as captured:
        assert member_client.get(reverse("journal")).status_code == 200
    statements = [q["sql"].upper() for q in captured.captured_queries]
    assert not any(s in {"BEGIN", "COMMIT"} for s in statements)
    assert not any(s.startswith(("SAVEPOINT", "RELEASE SAVEPOINT")) for s in statements)


def test_a_get_that_exports_writes_its_audit_row_in_a_transaction(member_client, member):
    """The data export's audit row is written with the export, as it always was."""
    response = member_client.get(reverse("export_json"))

    assert response.status_code == 200
    assert AuditEvent.objects.filter(subject=member, action="data.exported").count() == 1
