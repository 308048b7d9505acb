"""What the page frame (templates/base.html) needs about the signed-in person: their
membership (with its organisation and team) and how many check-ins they have yet to
answer (the navigation's badge).

Every signed-in page shows both, so they come from one query, run at most once per
request: the first to ask (the home view, or the frame as the page renders) keeps the
answer on the request.

The query is compiled once per process (config.prepared), not once per request:
building it with the ORM cost about 2.8 ms of CPU, twice the whole frame's budget
(issue 15). The badge counts reflections.selectors.due_rounds (the rounds the home page
lists), so the badge and the list cannot drift apart."""

from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings
from django.core.signals import setting_changed
from django.db.models import F, Func, IntegerField, Subquery
from django.dispatch import receiver
from django.templatetags.static import static
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import timezone
from django_htmx.jinja import htmx_script

from accounts.models import Membership, User
from config.prepared import Moment, PreparedRead, Row
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
        membership, counted = _frame_query(user, with_count=checkins_due is None)
        if checkins_due is None:
            checkins_due = counted
    frame = PageFrame(
        membership=membership, checkins_due=checkins_due if membership is not None else None
    )
    setattr(request, _ATTRIBUTE, frame)
    return frame


def _membership(person):
    return Membership.objects.select_related("organisation", "team").filter(user=person)


def _membership_with_count(person, moment):
    count = (
        due_rounds(person, moment)
        .order_by()
        .annotate(n=Func(F("pk"), function="COUNT", output_field=IntegerField()))
        .values("n")
    )
    return _membership(person).annotate(checkins_due=Subquery(count, output_field=IntegerField()))


# Compiled once per process (config.prepared): building the count with the ORM cost
# about 2.8 ms of CPU a request, twice the whole frame's budget.
_MEMBERSHIP = PreparedRead(_membership, person=Row(User))
_MEMBERSHIP_WITH_COUNT = PreparedRead(_membership_with_count, person=Row(User), moment=Moment())


def _frame_query(user, *, with_count: bool) -> tuple[Membership | None, int | None]:
    if with_count:
        rows = _MEMBERSHIP_WITH_COUNT(person=user, moment=timezone.now())
    else:
        rows = _MEMBERSHIP(person=user)
    if not rows:
        return None, None
    membership = rows[0]
    return membership, (membership.checkins_due if with_count else None)
