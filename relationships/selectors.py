"""Reads for the relationship pages, in a fixed number of queries whatever the history."""

from dataclasses import dataclass

from django.db.models import Count, Q
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


def relationships_for(user) -> dict:
    relationships = list(
        CoachingRelationship.objects.for_member(user)
        .with_people()
        .annotate(
            session_count=Count("sessions", distinct=True),
            open_item_count=Count(
                "action_items", filter=Q(action_items__done_at__isnull=True), distinct=True
            ),
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


def relationship_page(relationship: CoachingRelationship, user) -> dict:
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
        "sessions": sessions,
        "open_items": [i for i in items if not i.is_done],
        "done_items": [i for i in items if i.is_done],
        "notes": notes,
        "drafts": drafts,
        "follow_through": follow_through(items),
        "is_first_session": not sessions,
    }


def session_page(session: CoachingSession, user) -> dict:
    notes = list(Note.objects.visible_to(user).filter(session=session).select_related("author"))
    items = list(ActionItem.objects.visible_to(user).filter(session=session))
    return {
        "notes": notes,
        "items": items,
        "open_items": [i for i in items if not i.is_done],
        "done_items": [i for i in items if i.is_done],
    }


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
