"""Test-only routes (tests/test_frame.py, tests/test_transactions.py): the real URLs,
plus a page that is nothing but the frame and views that write, then fail."""

from django.db import connection, transaction
from django.http import HttpResponse
from django.template import engines
from django.urls import path

from accounts.services import audit_record
from config.urls import urlpatterns as real_urlpatterns

# What each test view saw: whether it ran inside a transaction.
SEEN: list[bool] = []

_FRAME_ONLY = engines["django"].from_string('{% extends "base.html" %}')


def frame_only(request):
    return HttpResponse(_FRAME_ONLY.render({}, request=request))


def _write(request):
    SEEN.append(connection.in_atomic_block)
    audit_record(actor=request.user, action="data.exported", subject=request.user)


def writes(request):
    """Writes an audit row, on any method, and answers 200."""
    _write(request)
    return HttpResponse("written")


def writes_then_fails(request):
    _write(request)
    raise RuntimeError("after writing")


@transaction.non_atomic_requests
def non_atomic_writes(request):
    _write(request)
    return HttpResponse("written")


urlpatterns = [
    path("test/frame-only/", frame_only),
    path("test/writes/", writes),
    path("test/writes-then-fails/", writes_then_fails),
    path("test/non-atomic-writes/", non_atomic_writes),
    *real_urlpatterns,
]
