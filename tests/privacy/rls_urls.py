"""A view bug made on purpose, for tests/privacy/test_row_level_security.py only: it
reads every private table with no scope at all, as a careless view might."""

from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import JsonResponse
from django.urls import path

from config.urls import urlpatterns as project_urlpatterns
from reflections.models import CheckInResponse, IntegrityCheck, Reflection
from relationships.models import ActionItem, CoachingSession, Note, NoteDraft, TalkingPoint


@login_not_required
def every_private_row(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user, current_setting('app.user_id', true)")
        role, asking = cursor.fetchone()
    return JsonResponse(
        {
            "role": role,
            "asking": asking,
            "notes": [note.body for note in Note.objects.all()],
            "drafts": [draft.body for draft in NoteDraft.objects.all()],
            "talking_points": [point.text for point in TalkingPoint.objects.all()],
            "journal": [entry.body for entry in Reflection.objects.all()],
            "self_checks": [str(check.public_id) for check in IntegrityCheck.objects.all()],
            "answers": [str(answer.public_id) for answer in CheckInResponse.objects.all()],
            "sessions": [session.summary for session in CoachingSession.objects.all()],
            "action_items": [item.text for item in ActionItem.objects.all()],
        }
    )


urlpatterns = [path("test-only/every-private-row/", every_private_row), *project_urlpatterns]
