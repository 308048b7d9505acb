"""A transaction around each view that may change something, and none around the rest.

Django's ATOMIC_REQUESTS wraps every view in a transaction, reads included: a BEGIN and
a COMMIT on every page (and on SQLite an IMMEDIATE transaction takes the write lock for
a plain read). Here only the unsafe methods (POST, PUT, PATCH, DELETE) run their view in
`transaction.atomic()` on the default database, as ATOMIC_REQUESTS did: an exception
from the view rolls back everything it wrote, audit rows included. GET and HEAD pages
run in autocommit; a GET that writes more than one row does so inside an atomic block
in its service (see the tests in tests/test_transactions.py for which ones).

Views marked with @transaction.non_atomic_requests stay outside, as with
ATOMIC_REQUESTS."""

from django.db import DEFAULT_DB_ALIAS, transaction

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_ATOMIC = "_rapport_atomic"


class AtomicUnsafeRequestsMiddleware:
    """Last in MIDDLEWARE, so the transaction begins right before the view (after
    every other middleware's process_view) and ends after its response is rendered."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            response = self.get_response(request)
        except BaseException as error:
            self._end(request, error)
            raise
        self._end(request, None)
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.method not in UNSAFE_METHODS:
            return None
        if DEFAULT_DB_ALIAS in getattr(view_func, "_non_atomic_requests", set()):
            return None
        atomic = transaction.atomic(using=DEFAULT_DB_ALIAS)
        atomic.__enter__()
        setattr(request, _ATOMIC, atomic)
        return None

    def process_exception(self, request, exception):
        # The view raised: what it wrote is undone now, before any other middleware's
        # process_exception answers (allauth's reauthentication redirect reads the
        # database), as when the exception left ATOMIC_REQUESTS' atomic block.
        self._end(request, exception)
        return None

    @staticmethod
    def _end(request, error):
        atomic = getattr(request, _ATOMIC, None)
        if atomic is None:
            return
        delattr(request, _ATOMIC)
        if error is None:
            atomic.__exit__(None, None, None)
        else:
            atomic.__exit__(type(error), error, error.__traceback__)
