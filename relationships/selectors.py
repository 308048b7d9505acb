"""Reads for the relationship pages, in a fixed number of queries whatever the history."""

from dataclasses import dataclass

from django.db.models import Count, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from relationships.models import (
    ActionItem,
    CoachingRelationship,
    CoachingSession,
    Note,
    NoteDraft,
)


@dataclass
class FollowThrough:
    due: int
    on_time: int

    @property
    def percent(self) -> int | None:
        return round(100 * self.on_time / self.due) if self.due else None


def follow_through(items) -> FollowThrough:
    """Of the coach's items that came due (due today or earlier), how many were done by
    their due date."""
    today = timezone.localdate()
    due = [i for i in items if i.owner == ActionItem.Owner.COACH and i.due_on and i.due_on <= today]
    on_time = [i for i in due if i.done_at and timezone.localdate(i.done_at) <= i.due_on]
    return FollowThrough(due=len(due), on_time=len(on_time))


def _count_of(rows):
    """A subquery counting `rows` of the outer relationship."""
    return Coalesce(
        Subquery(
            rows.filter(relationship=OuterRef("pk"))
            .order_by()
            .values("relationship")
            .annotate(n=Count("pk"))
            .values("n")
        ),
        0,
    )


def relationships_for(user) -> dict:
    relationships = list(
        CoachingRelationship.objects.for_member(user)
        .with_people()
        # Counted in subqueries: two joins in one query would multiply sessions by items.
        .annotate(
            session_count=_count_of(CoachingSession.objects.all()),
            open_item_count=_count_of(ActionItem.objects.filter(done_at__isnull=True)),
        )
        .order_by("status", "-created_at")
    )
    return {
        "i_coach": [r for r in relationships if r.coach_id == user.pk],
        "coaching_me": [
            r
            for r in relationships
            if r.coachee_id == user.pk and r.status not in CoachingRelationship.NOT_STARTED_STATUSES
        ],
        "invitations_to_me": [
            r
            for r in relationships
            if r.coachee_id == user.pk
            and r.status == CoachingRelationship.Status.INVITED
            and not r.invitation_has_lapsed
        ],
    }


# Done action items shown on a relationship page before "Show all".
RECENT = 10
# Sessions and relationship notes shown before "Show all": a page that fits a phone, with
# what is due now above them.
RECENT_SESSIONS = 5
RECENT_NOTES = 3


def action_items(items, *, recent: int | None = None) -> dict:
    """The open items, the latest done ones and the coach's follow-through."""
    done = sorted((i for i in items if i.is_done), key=lambda i: i.done_at)
    return {
        "open_items": [i for i in items if not i.is_done],
        "done_items": done if recent is None else done[max(len(done) - recent, 0) :],
        "done_total": len(done),
        "follow_through": follow_through(items),
    }


def relationship_page(relationship: CoachingRelationship, user, *, recent: int | None = None):
    """`recent` keeps a long history's page short: the latest sessions, notes and done
    items."""
    sessions = list(
        CoachingSession.objects.visible_to(user)
        .filter(relationship=relationship)
        .annotate(
            note_count=Count(
                "notes",
                filter=Q(notes__author=user) | Q(notes__visibility=Note.Visibility.SHARED),
            )
        )
        .order_by("-held_on", "-created_at")
    )
    items = list(ActionItem.objects.visible_to(user).filter(relationship=relationship))
    notes = list(
        Note.objects.visible_to(user)
        .filter(relationship=relationship, session__isnull=True)
        .select_related("author")
    )
    drafts = list(
        NoteDraft.objects.visible_to(user)
        .filter(relationship=relationship)
        .select_related("session", "note")
    )
    return {
        "sessions": sessions if recent is None else sessions[:RECENT_SESSIONS],
        "session_total": len(sessions),
        **action_items(items, recent=recent),
        "notes": notes if recent is None else notes[:RECENT_NOTES],
        "note_total": len(notes),
        "drafts": drafts,
        "is_first_session": not sessions,
    }


def session_page(session: CoachingSession, user) -> dict:
    notes = list(Note.objects.visible_to(user).filter(session=session).select_related("author"))
    items = list(ActionItem.objects.visible_to(user).filter(session=session))
    return {"notes": notes, "items": items, **action_items(items)}


def relationship_counts(organisation) -> dict[str, int]:
    """How many relationships the organisation has, by status: all HR sees of them."""
    counts = dict.fromkeys(CoachingRelationship.Status.values, 0)
    rows = (
        CoachingRelationship.objects.filter(organisation=organisation)
        .values_list("status")
        .annotate(n=Count("pk"))
        .order_by()
    )
    counts.update(dict(rows))
    return counts
