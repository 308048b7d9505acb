from django.utils.functional import SimpleLazyObject

from accounts.selectors import membership_of


def membership(request):
    """The signed-in person's membership (or None), fetched only if a template uses it."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"membership": None}
    return {"membership": SimpleLazyObject(lambda: membership_of(user))}
