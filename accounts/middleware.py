import zoneinfo

from allauth.mfa.models import Authenticator
from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.functional import SimpleLazyObject

from accounts.frame import SECOND_FACTORS, page_frame
from accounts.models import User
from config.prepared import PreparedRead, Row


class PageFrameMiddleware:
    """request.page_frame: the page frame of accounts.frame (the signed-in person's
    membership and due check-ins), fetched at most once per request, and only if
    something reads it. Through the request, any view (HR insights' included, which
    may not import accounts.frame) shares the frame's one membership query rather than
    running its own."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.page_frame = SimpleLazyObject(lambda: page_frame(request))
        return self.get_response(request)


class UserTimezoneMiddleware:
    """Show dates and times in the signed-in person's own time zone."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            try:
                timezone.activate(zoneinfo.ZoneInfo(user.time_zone))
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                timezone.deactivate()
        else:
            timezone.deactivate()
        try:
            return self.get_response(request)
        finally:
            # Not left behind for whatever this thread runs next (a test, a task).
            timezone.deactivate()


class NoStoreForSignedInMiddleware:
    """Pages for a signed-in person are private: no browser or proxy keeps a copy."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not response.has_header("Cache-Control"):
            response["Cache-Control"] = "no-store, private"
        return response


PRIVILEGED_PATHS = ("/organisation/", "/insights/", "/admin/")


class PrivilegedNeedMFAMiddleware:
    """HR admins, staff and superusers set up two-factor authentication before they
    reach the pages that only they can see (the organisation, HR insights, the admin)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if (
            settings.RAPPORT_PRIVILEGED_MFA
            and request.path.startswith(PRIVILEGED_PATHS)
            and request.user.is_authenticated
            # The cheap question first: most who reach these pages have set it up.
            and not _has_second_factor(request)
            # Anyone who can open the admin (staff, not only superusers) counts.
            and (request.user.is_staff or request.user.is_superuser or _is_hr_admin(request.user))
        ):
            messages.warning(
                request,
                "HR admins and administrators protect their account with two-factor "
                "authentication first: set up an authenticator app or a passkey to continue.",
            )
            return redirect("mfa_index")
        return self.get_response(request)


def _has_second_factor(request) -> bool:
    """For a member, the page frame's answer (accounts.frame: its one query, which the
    page makes anyway); for staff outside any organisation, a query of its own."""
    frame = request.page_frame
    if frame.membership is not None:
        return frame.has_second_factor
    return bool(_second_factor_of(person=request.user))


# Compiled once per process (config.prepared): building it cost about 0.4 ms a request
# of every HR page.
_second_factor_of = PreparedRead(
    lambda person: Authenticator.objects.filter(user=person, type__in=SECOND_FACTORS).values_list(
        "pk", flat=True
    )[:1],
    person=Row(User),
)


def _is_hr_admin(user) -> bool:
    from accounts.models import Membership

    return Membership.objects.filter(user=user, role=Membership.Role.HR_ADMIN).exists()
