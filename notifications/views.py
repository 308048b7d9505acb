from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from config.access import scoped_get_or_404
from notifications import services
from notifications.models import Notification

PER_PAGE = 30


@require_GET
def notification_list(request):
    """A person's notifications, newest first, the unread ones marked."""
    notifications = Notification.objects.visible_to(request.user).select_related("actor")
    # A page number that is not one (typed, or of a list that has since shrunk) shows
    # the nearest page rather than an error.
    page = Paginator(notifications, PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "notifications/list.html",
        {
            "page": page,
            "has_unread": Notification.objects.visible_to(request.user).unread().exists(),
        },
    )


@require_GET
def notification_open(request, public_id):
    """Opening a notification marks it read and goes where it points."""
    notification = scoped_get_or_404(
        request, Notification.objects.visible_to(request.user), public_id=public_id
    )
    return redirect(services.notification_open(notification=notification))


@require_POST
def notifications_mark_read(request):
    marked = services.notifications_mark_read(user=request.user)
    messages.success(request, "All marked read." if marked else "Nothing was unread.")
    return redirect("notification_list")


@require_POST
def digest_settings(request):
    """The daily digest email: on or off (off unless the person asks)."""
    choice = request.POST.get("digest")
    if choice not in {"on", "off"}:
        messages.error(request, "Choose whether to get the daily digest or not.")
        return redirect(reverse("profile") + "#digest")
    services.digest_set(user=request.user, on=choice == "on")
    messages.success(
        request,
        "You will get a daily digest of what you have not read."
        if choice == "on"
        else "The daily digest is off.",
    )
    return redirect(reverse("profile") + "#digest")
