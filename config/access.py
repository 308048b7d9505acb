"""Fetching through a user-scoped queryset, where "not yours" is a 404."""

import logging

from django.http import Http404

logger = logging.getLogger("rapport.access")


def scoped_get_or_404(request, queryset, **lookup):
    """`get_object_or_404` on a queryset already scoped to the user. When the object
    exists but is not theirs, the refusal is logged (who, which kind of object, its
    public id; never its content) and the answer is the same 404 as for nothing."""
    try:
        return queryset.get(**lookup)
    except queryset.model.DoesNotExist:
        if queryset.model._default_manager.filter(**lookup).exists():
            logger.warning(
                "Refused %s %s to user %s",
                queryset.model._meta.label_lower,
                lookup.get("public_id", "?"),
                getattr(request.user, "pk", None),
            )
        raise Http404(f"No {queryset.model._meta.verbose_name} here.") from None
