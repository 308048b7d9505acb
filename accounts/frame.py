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

from allauth.mfa.models import Authenticator
from django.conf import settings
from django.core.signals import setting_changed
from django.db.models import Exists, F, Func, IntegerField, OuterRef, Subquery
from django.dispatch import receiver
from django.template.context_processors import csrf
from django.template.loader import get_template
from django.templatetags.static import static
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import timezone
from django.utils.functional import SimpleLazyObject
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django_htmx.jinja import htmx_script

from accounts.models import Membership, User
from config.prepared import Moment, PreparedRead, Row
from notifications.models import Notification
from reflections.selectors import due_rounds

_ATTRIBUTE = "_rapport_page_frame"

# What counts as the second factor HR admins and staff must have: an authenticator
# app or a passkey (recovery codes only back one of these up).
SECOND_FACTORS = (Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN)

# The navigation's links and the section each page belongs to (aria-current="page"),
# decided once here rather than by a dozen comparisons in the template.
_SECTION_OF = {
    "home": "home",
    "my_action_items": "actions",
    "notification_list": "notifications",
    "search": "search",
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
    "my_action_items",
    "notification_list",
    "search",
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
    return _links(*_links_key())


def _links_key() -> tuple[str, str, str]:
    return get_script_prefix(), get_urlconf() or settings.ROOT_URLCONF, settings.STATIC_URL


@lru_cache(maxsize=16)
def _links(script_prefix: str, urlconf: str, static_url: str) -> dict[str, str]:
    links = {name: reverse(name, urlconf=urlconf) for name in _URL_NAMES}
    links.update({key: static(path) for key, path in _STATIC_FILES.items()})
    # What {% htmx_script %} writes. Its CSP nonce is left out: the policy allows
    # scripts from 'self' and gives no page a nonce.
    links["htmx_script"] = htmx_script()
    # The <head>'s links and scripts as base.html shows them, put together once: five
    # variables looked up and escaped on every page cost about 0.15 ms (issue 15).
    links["head"] = format_html(
        '<link rel="stylesheet" href="{}">\n'
        '  <link rel="icon" href="{}" type="image/svg+xml">\n'
        '  <script src="{}"></script>\n'
        "  {}",
        links["stylesheet"],
        links["favicon"],
        links["script"],
        links["htmx_script"],
    )
    return links


@receiver(setting_changed)
def _forget_links(**kwargs):
    # Tests that change the static files' storage (or DEBUG) see its URLs.
    _links.cache_clear()
    _header.cache_clear()


# The page header (templates/includes/frame_header.html: the brand, the navigation and the
# sign-out form) is the same for everyone who sees the same navigation: rendered once per
# process for each kind (signed in or not, the section, member or HR admin, the badge's
# number), it is given each request's CSRF token. Rendering it on every page was about
# half of the frame's template time (issue 15). It shows nothing anyone typed.
_CSRF_STAND_IN = "frameCsrfStandIn0123456789"
_CSRF_FIELD = '<input type="hidden" name="csrfmiddlewaretoken" value="{}">'
_CSRF_STAND_IN_FIELD = _CSRF_FIELD.format(_CSRF_STAND_IN)
_NO_CSRF = "NOTPROVIDED"  # noqa: S105 - Django's csrf context processor's "no token"


def frame_header_context(request) -> dict:
    """A context processor (after accounts.context_processors.frame): `frame_header`,
    the page header's HTML, and the CSRF token both it and the rest of the page show
    (Django's own `csrf` context processor's, so the page has one token as before)."""
    token = csrf(request)["csrf_token"]
    return {
        "csrf_token": token,
        "frame_header": SimpleLazyObject(lambda: frame_header(request, token)),
    }


def frame_header(request, csrf_token) -> SafeString:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        kind = (False, "", False, False, None, None)
    else:
        frame = page_frame(request)
        membership = frame.membership
        kind = (
            True,
            nav_section(request),
            membership is not None,
            membership is not None and membership.is_hr_admin,
            frame.checkins_due,
            frame.unread,
        )
    # Under DEBUG, templates edited while the server runs show at once.
    render = _render_header if settings.DEBUG else _header
    html = render(_links_key(), *kind)
    # As {% csrf_token %} writes it (Django's CsrfTokenNode), with this request's token.
    field = "" if csrf_token == _NO_CSRF else format_html(_CSRF_FIELD, csrf_token)
    # Safe to mark: our own template's HTML, which shows nothing anyone typed, and the
    # token's field as format_html escapes it.
    return mark_safe(html.replace(_CSRF_STAND_IN_FIELD, field))  # noqa: S308


def _render_header(links_key, signed_in, section, member, hr_admin, due, unread) -> str:
    html = get_template("includes/frame_header.html").render(
        {
            "frame_links": _links(*links_key),
            "user": _StandIn(is_authenticated=signed_in),
            "nav_section": section,
            "membership": _StandIn(is_hr_admin=hr_admin) if member else None,
            "frame": PageFrame(membership=None, checkins_due=due, unread=unread),
            "csrf_token": _CSRF_STAND_IN,
        }
    )
    if signed_in and html.count(_CSRF_STAND_IN_FIELD) != 1:
        raise RuntimeError("The page header's sign-out form has no CSRF field.")
    return html


_header = lru_cache(maxsize=512)(_render_header)


class _StandIn:
    def __init__(self, **attributes):
        self.__dict__.update(attributes)


@dataclass(frozen=True)
class PageFrame:
    membership: Membership | None
    # Counted only for members: the navigation shows the badge to them alone.
    checkins_due: int | None
    # Whether the member has a second factor: an authenticator app or a passkey (None:
    # not a member, not asked). The pages only HR admins reach require one
    # (accounts.middleware), and asking here spares those pages a query of their own.
    has_second_factor: bool | None = None
    # Unread notifications, for the navigation's count (members only, like the badge).
    unread: int | None = None


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
        membership=membership,
        checkins_due=checkins_due if membership is not None else None,
        has_second_factor=membership.has_second_factor if membership is not None else None,
        unread=membership.unread_notifications if membership is not None else None,
    )
    setattr(request, _ATTRIBUTE, frame)
    return frame


def _membership(person):
    second_factor = Authenticator.objects.filter(user=OuterRef("user"), type__in=SECOND_FACTORS)
    unread = (
        Notification.objects.filter(recipient=OuterRef("user"), read_at__isnull=True)
        .order_by()
        .annotate(n=Func(F("pk"), function="COUNT", output_field=IntegerField()))
        .values("n")
    )
    return (
        Membership.objects.select_related("organisation", "team")
        .filter(user=person)
        .annotate(
            has_second_factor=Exists(second_factor),
            # The navigation's count of unread notifications, in the same query.
            unread_notifications=Subquery(unread, output_field=IntegerField()),
        )
    )


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
