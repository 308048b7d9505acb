from django.shortcuts import render
from django.views.decorators.http import require_GET

from relationships.models import CoachingSession


def _latest_sessions(user):
    """20 rows from one indexed query: the latest sessions the person logged, found
    through the index on their creator. (Ordered by id, PostgreSQL chose to walk the
    primary key backwards past 99,000 other sessions instead.)"""
    return (
        CoachingSession.objects.filter(created_by=user)
        .order_by("created_by", "-held_on")
        .values("held_on", "duration_minutes", "focus")[:20]
    )


@require_GET
def baseline(request):
    """The fastest page Django serves here, the yardstick for what bare Django costs:
    the 20 rows in a small template without Rapport's page frame, behind the same
    middleware (session, user, CSP, ...)."""
    return render(request, "bench/baseline.html", {"sessions": _latest_sessions(request.user)})


@require_GET
def framed_baseline(request):
    """The same 20 rows inside the real page frame (base.html: navigation, the due
    check-ins badge, the membership, the CSRF token), signed in: the yardstick the page
    budgets are set against, so the frame's own cost shows as the difference between
    the two baselines."""
    return render(
        request, "bench/framed_baseline.html", {"sessions": _latest_sessions(request.user)}
    )
