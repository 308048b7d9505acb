from django.utils.functional import SimpleLazyObject

from reflections.selectors import due_checkins


def checkins_due(request):
    """The check-ins the signed-in person has yet to answer, fetched only when shown."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"checkins_due": []}
    return {"checkins_due": SimpleLazyObject(lambda: due_checkins(user))}
