"""What the page frame (templates/base.html) needs about the signed-in person: their
membership (with its organisation and team) and how many check-ins they have yet to
answer (the navigation's badge).

Every signed-in page shows both, so they come from one query, run at most once per
request: the first to ask (the home view, or the frame as the page renders) keeps the
answer on the request.

The query's SQL is written once per process (for the default database), not once per
request: building and compiling it with the ORM cost about 2.8 ms of CPU, twice the
whole frame's budget (issue 15). The badge's part is still the ORM's own compilation of
reflections.selectors.due_rounds (the rounds the home page lists), so the badge and the
list cannot drift apart; only the person and the moment change between requests."""

from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache

from django.conf import settings
from django.core.signals import setting_changed
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import F, Func, IntegerField
from django.dispatch import receiver
from django.templatetags.static import static
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import timezone
from django_htmx.jinja import htmx_script

from accounts.models import Membership, Organisation, Team
from reflections.selectors import due_rounds

_ATTRIBUTE = "_rapport_page_frame"

# The navigation's links and the section each page belongs to (aria-current="page"),
# decided once here rather than by a dozen comparisons in the template.
_SECTION_OF = {
    "home": "home",
    "journal": "journal",
    "integrity": "journal",
    "insights_dashboard": "insights",
    "organisation": "organisation",
    "profile": "profile",
}


# The frame's links and files: the same on every page, so found once per process (a
# {% url %} or {% static %} tag costs 20-25 microseconds at each use, a dozen a page).
_URL_NAMES = (
    "home",
    "relationship_list",
    "journal",
    "insights_dashboard",
    "organisation",
    "profile",
    "account_logout",
    "account_login",
    "account_signup",
)
_STATIC_FILES = {
    "stylesheet": "css/rapport.css",
    "favicon": "img/favicon.svg",
    "script": "js/rapport.js",
}


def frame_links() -> dict[str, str]:
    """The frame's URLs by URL name, and its static files' URLs."""
    return _links(get_script_prefix(), get_urlconf() or settings.ROOT_URLCONF, settings.STATIC_URL)


@lru_cache(maxsize=16)
def _links(script_prefix: str, urlconf: str, static_url: str) -> dict[str, str]:
    links = {name: reverse(name, urlconf=urlconf) for name in _URL_NAMES}
    links.update({key: static(path) for key, path in _STATIC_FILES.items()})
    # What {% htmx_script %} writes. Its CSP nonce is left out: the policy allows
    # scripts from 'self' and gives no page a nonce.
    links["htmx_script"] = htmx_script()
    return links


@receiver(setting_changed)
def _forget_links(**kwargs):
    # Tests that change the static files' storage (or DEBUG) see its URLs.
    _links.cache_clear()


@dataclass(frozen=True)
class PageFrame:
    membership: Membership | None
    # Counted only for members: the navigation shows the badge to them alone.
    checkins_due: int | None


def nav_section(request) -> str:
    """The navigation section the page belongs to ("" for none): no query."""
    match = getattr(request, "resolver_match", None)
    name = (match.url_name if match else None) or ""
    if name in _SECTION_OF:
        return _SECTION_OF[name]
    # As the navigation always had it: anything about relationships, sessions or notes.
    if "relationship" in name or "session" in name or "note" in name:
        return "relationships"
    return ""


def page_frame(request, *, checkins_due: int | None = None) -> PageFrame:
    """The frame of this request's page, queried once. A view that has the due
    check-ins in hand already (the home page lists them) passes their number, and the
    query leaves the count out."""
    frame = getattr(request, _ATTRIBUTE, None)
    if frame is not None:
        return frame
    user = request.user
    membership = None
    if user.is_authenticated:
        membership, counted = _frame_query(with_count=checkins_due is None).run(user.pk)
        if checkins_due is None:
            checkins_due = counted
    frame = PageFrame(
        membership=membership, checkins_due=checkins_due if membership is not None else None
    )
    setattr(request, _ATTRIBUTE, frame)
    return frame


# Stand-ins for the person and the moment while the ORM compiles the badge's count:
# no real person has a negative id, and no round closes in 2001.
_PERSON = -7_340_117
_MOMENT = datetime(2001, 2, 3, 4, 5, 6, 789012, tzinfo=UTC)
_FRAME_QUERIES: dict[tuple[str, bool], "_FrameQuery"] = {}


def _frame_query(*, with_count: bool) -> "_FrameQuery":
    key = (DEFAULT_DB_ALIAS, with_count)
    query = _FRAME_QUERIES.get(key)
    if query is None:
        query = _FRAME_QUERIES[key] = _FrameQuery(connections[DEFAULT_DB_ALIAS], with_count)
    return query


class _FrameQuery:
    """Membership.objects.select_related("organisation", "team").filter(user=...)
    with the count of due_rounds(user, now) as one more column, as plain SQL."""

    def __init__(self, connection, with_count: bool):
        # Connections are per thread: the SQL and the converters are kept, never the
        # connection they were written for.
        qn = connection.ops.quote_name
        self.tables = []
        columns = []
        for model, alias in ((Membership, "m"), (Organisation, "o"), (Team, "t")):
            fields = model._meta.concrete_fields
            converters = []
            for index, field in enumerate(fields, start=len(columns)):
                col = field.get_col(alias)
                found = connection.ops.get_db_converters(col) + col.get_db_converters(connection)
                if found:
                    converters.append((index, col, found))
            self.tables.append((model, len(columns), [f.attname for f in fields], converters))
            columns += [f"{alias}.{qn(f.column)}" for f in fields]
        self.slots = []
        if with_count:
            count_sql, self.slots = _count_sql(connection)
            columns.append(f"({count_sql})")
        self.with_count = with_count
        membership, organisation, team = Membership._meta, Organisation._meta, Team._meta
        on_organisation = (
            f"m.{qn(membership.get_field('organisation').column)} = o.{qn(organisation.pk.column)}"
        )
        on_team = f"m.{qn(membership.get_field('team').column)} = t.{qn(team.pk.column)}"
        # Only quoted table and column names go into the text; values are parameters.
        self.sql = (
            f"SELECT {', '.join(columns)}"  # noqa: S608
            f" FROM {qn(membership.db_table)} m"
            f" INNER JOIN {qn(organisation.db_table)} o ON ({on_organisation})"
            f" LEFT OUTER JOIN {qn(team.db_table)} t ON ({on_team})"
            f" WHERE m.{qn(membership.get_field('user').column)} = %s"
        )
        self.organisation_field = membership.get_field("organisation")
        self.team_field = membership.get_field("team")

    def run(self, user_id: int) -> tuple[Membership | None, int | None]:
        connection = connections[DEFAULT_DB_ALIAS]
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        params = [
            user_id if slot is _PERSON else now if slot is _MOMENT else slot for slot in self.slots
        ]
        params.append(user_id)
        with connection.cursor() as cursor:
            cursor.execute(self.sql, params)
            row = cursor.fetchone()
        if row is None:
            return None, None
        row = list(row)
        objects = []
        for model, start, attnames, converters in self.tables:
            for index, col, found in converters:
                value = row[index]
                for converter in found:
                    value = converter(value, col, connection)
                row[index] = value
            values = row[start : start + len(attnames)]
            # The team is a LEFT JOIN: no team, no row (its primary key is NULL).
            objects.append(
                None if values[0] is None else model.from_db(connection.alias, attnames, values)
            )
        membership, organisation, team = objects
        # As select_related leaves them: reading membership.organisation or .team
        # runs no query.
        self.organisation_field.set_cached_value(membership, organisation)
        self.team_field.set_cached_value(membership, team)
        return membership, (row[-1] if self.with_count else None)


def _count_sql(connection) -> tuple[str, list]:
    """The ORM's SQL for the number of due_rounds, and its parameters with the
    person and the moment left as slots (_PERSON, _MOMENT) to fill in per request."""
    count = (
        due_rounds(_PERSON, _MOMENT)
        .order_by()
        .annotate(n=Func(F("pk"), function="COUNT", output_field=IntegerField()))
        .values("n")
    )
    sql, params = count.query.get_compiler(connection=connection).as_sql()
    moment = connection.ops.adapt_datetimefield_value(_MOMENT)
    slots = [
        _PERSON if param == _PERSON else _MOMENT if param == moment else param for param in params
    ]
    if _MOMENT not in slots or _PERSON not in slots:
        # The count would no longer be the person's, now: refuse to guess.
        raise RuntimeError(f"Cannot find the person and the moment in {sql!r} {params!r}.")
    return sql, slots
