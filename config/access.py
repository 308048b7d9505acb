"""Fetching through a user-scoped queryset, where "not yours" is a 404."""

import logging

from django.db import connection
from django.http import Http404

from privacy import rls

logger = logging.getLogger("rapport.access")


def scoped_get_or_404(request, queryset, **lookup):
    """`get_object_or_404` on a queryset already scoped to the user. When the object
    exists but is not theirs, the refusal is logged (who, which kind of object, its
    public id; never its content) and the answer is the same 404 as for nothing."""
    try:
        return queryset.get(**lookup)
    except queryset.model.DoesNotExist:
        if _exists(queryset.model, lookup):
            logger.warning(
                "Refused %s %s to user %s",
                queryset.model._meta.label_lower,
                lookup.get("public_id", "?"),
                getattr(request.user, "pk", None),
            )
        raise Http404(f"No {queryset.model._meta.verbose_name} here.") from None


def _exists(model, lookup: dict) -> bool:
    """Whether the object exists for anyone: on PostgreSQL the row may be one the
    database's policies hide from this person, so only a yes or no is asked of it."""
    if rls.enforced() and set(lookup) == {"public_id"}:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT rapport_exists(%s::regclass, %s)",
                [model._meta.db_table, lookup["public_id"]],
            )
            return cursor.fetchone()[0]
    return model._default_manager.filter(**lookup).exists()
