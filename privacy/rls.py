"""Row-level security: on PostgreSQL the database itself answers only with the rows the
person asking may read (issue 18).

The web app connects as `rapport_app`, a role that owns no table and cannot bypass
row-level security; migrations run as the tables' owner. The policies (in
privacy/migrations/0001_row_level_security.py and 0002) read who is asking from two
settings of the database session:

- `app.user_id`: the signed-in person, set for the length of each request by
  `RowSecurityMiddleware`, and empty outside any request;
- `app.purpose`: a narrow task that must reach rows no one person may read, named with
  the one relationship or organisation it concerns (`agenda:<relationship id>`,
  `rollups:<organisation id>`, …), set only around that task's code (`for_purpose`).

With both empty a query of a private table returns no rows, so code that forgets to say
who is asking fails closed. HR's code reads through `rapport_hr`, a role that may SELECT
the published rollup tables and nothing else (`hr_reads`).

SQLite (the demo) has no row-level security: there the application's querysets are the
only guard, and every function here does nothing."""

from contextlib import contextmanager

from django.db import DEFAULT_DB_ALIAS, DatabaseError, OperationalError, connections
from django.db.backends.signals import connection_created
from django.dispatch import receiver

APP_ROLE = "rapport_app"
HR_ROLE = "rapport_hr"
# SET ROLE, who is asking and the task, in one round trip. Setting the role is a no-op
# where the app logs in as rapport_app (production); where it logs in as the owner
# (the tests, the benchmark harness) it makes each request run as rapport_app.
_SET = (
    "SELECT set_config('role', %s, false), set_config('app.user_id', %s, false),"
    " set_config('app.purpose', %s, false)"
)
_NOBODY = ("none", "", "")
_STATE = "_rapport_row_security"


def agenda(relationship_id: int) -> str:
    """Arranging a relationship's agendas: numbering its talking points and moving them
    from one session to the next, private ones included. Only their positions and
    sessions are read and written; no text is."""
    return f"agenda:{relationship_id}"


def checkins(relationship_id: int) -> str:
    """Opening and closing a relationship's check-in rounds: its sessions (a round opens
    after one) and who has answered (to close a round, or to remind the other): who,
    never what."""
    return f"checkins:{relationship_id}"


DUE_ITEMS = "due-items"
"""Finding open action items due tomorrow, to tell their owners: the policy shows this
task open items with a due date, no other."""


def rollups(organisation_id: int) -> str:
    """Counting one organisation's check-in answers into its anonymised months."""
    return f"rollups:{organisation_id}"


def enforced(using: str = DEFAULT_DB_ALIAS) -> bool:
    return connections[using].vendor == "postgresql"


def _apply(connection, state: tuple[str, str, str]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(_SET, state)
    setattr(connection, _STATE, state)


@contextmanager
def _asking(state: tuple[str, str, str], using: str):
    connection = connections[using]
    if connection.vendor != "postgresql":
        yield
        return
    previous = getattr(connection, _STATE, _NOBODY)
    if state == previous:  # already so (a visitor's request, say): no round trip
        yield
        return
    _apply(connection, state)
    try:
        yield
    finally:
        try:
            _apply(connection, previous)
        except DatabaseError:
            # The transaction is aborted: its rollback undoes the settings made in it,
            # which brings back `previous`. Anything else (a lost connection): close it,
            # so the next use starts from a fresh session that is nobody.
            setattr(connection, _STATE, previous)
            if not connection.in_atomic_block:
                connection.close()


def acting(user_id: int | None = None, purpose: str = "", *, using: str = DEFAULT_DB_ALIAS):
    """Run the block as the app role, for `user_id` (None: nobody) and `purpose`; the
    previous context comes back afterwards, so contexts nest."""
    return _asking((APP_ROLE, "" if user_id is None else str(user_id), purpose), using)


def for_purpose(purpose: str, *, using: str = DEFAULT_DB_ALIAS):
    """Run the block for one narrow task, still as whoever is asking (or nobody)."""
    connection = connections[using]
    asking = getattr(connection, _STATE, _NOBODY)[1]
    return _asking((APP_ROLE, asking, purpose), using)


def hr_reads(*, using: str = DEFAULT_DB_ALIAS):
    """HR's pages read the published rollups as `rapport_hr`, which may SELECT those
    tables and nothing else: no code path in `insights`, however written, reaches a
    note or an answer."""
    return _asking((HR_ROLE, "", ""), using)


def sees_every_row(using: str = DEFAULT_DB_ALIAS) -> bool:
    """Whether the database answers this connection regardless of the policies: as the
    tables' owner (or a superuser), as migrations run. Re-encrypting every private text
    needs that; as rapport_app it would see, and re-encrypt, only some."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return True
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT r.rolsuper OR r.rolbypassrls OR pg_has_role(current_user, c.relowner, 'USAGE')"
            " FROM pg_roles r, pg_class c"
            " WHERE r.rolname = current_user AND c.oid = 'relationships_note'::regclass"
        )
        return cursor.fetchone()[0]


@receiver(connection_created)
def _fresh_session_is_nobody(sender, connection, **kwargs):
    """A new database session starts as its login role, asking for nobody."""
    setattr(connection, _STATE, _NOBODY)


class RowSecurityMiddleware:
    """Each request asks the database as the person signed in (or nobody), and the
    connection, kept open for the next request, is nobody again afterwards."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not enforced():
            return self.get_response(request)
        user = request.user
        asking = acting(user.pk if user.is_authenticated else None)
        try:
            asking.__enter__()
        except OperationalError:
            # The database cannot be reached: the view's own queries fail too, and a
            # session that does reach it later is nobody as its login role (in
            # production rapport_app). /readyz answers 503 rather than this a 500.
            return self.get_response(request)
        try:
            response = self.get_response(request)
        except BaseException as error:
            asking.__exit__(type(error), error, error.__traceback__)
            raise
        asking.__exit__(None, None, None)
        return response
