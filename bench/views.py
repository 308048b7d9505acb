from django.shortcuts import render
from django.views.decorators.http import require_GET

from relationships.models import CoachingSession


@require_GET
def baseline(request):
    """The fastest page Django serves here, as the yardstick for Rapport's: 20 rows
    from one indexed query, rendered by a small template, behind the same middleware
    (session, user, CSP, ...): the latest sessions the signed-in person logged, found
    through the index on their creator. (Ordered by id, PostgreSQL chose to walk the
    primary key backwards past 99,000 other sessions instead.)"""
    sessions = (
        CoachingSession.objects.filter(created_by=request.user)
        .order_by("created_by", "-held_on")
        .values("held_on", "duration_minutes", "focus")[:20]
    )
    return render(request, "bench/baseline.html", {"sessions": sessions})
