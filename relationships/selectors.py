"""Reads for the relationship pages, in a fixed number of queries whatever the history."""

import uuid
from dataclasses import dataclass

from django.db import DEFAULT_DB_ALIAS
from django.db.models import Count, Exists, F, OuterRef, Q, Subquery, Window
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import User
from config.prepared import Moment, PreparedRead, PublicId, Row
from reflections.models import PromptDismissal
from relationships.models import (
    ActionItem,
    CoachingRelationship,
    CoachingSession,
    Note,
    NoteDraft,
    ScheduledSession,
    TalkingPoint,
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
    return _follow_through((i.owner, i.due_on, i.done_at) for i in items)


def _follow_through(facts) -> FollowThrough:
    """follow_through from each item's (owner, due_on, done_at)."""
    today = timezone.localdate()
    due = [
        (due_on, done_at)
        for owner, due_on, done_at in facts
        if owner == ActionItem.Owner.COACH and due_on and due_on <= today
    ]
    on_time = [1 for due_on, done_at in due if done_at and timezone.localdate(done_at) <= due_on]
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


def _relationships_for_query(person):
    return (
        CoachingRelationship.objects.for_member(person)
        # The names of both people; not `with_people()`: no page of this list shows the
        # organisation.
        .select_related("coach", "coachee")
        # Counted in subqueries: two joins in one query would multiply sessions by items.
        .annotate(
            session_count=_count_of(CoachingSession.objects.all()),
            open_item_count=_count_of(ActionItem.objects.filter(done_at__isnull=True)),
        )
        .order_by("status", "-created_at")
    )


# Compiled once per process (config.prepared): building it cost 2 ms of CPU a request.
_relationships_for = PreparedRead(_relationships_for_query, person=Row(User))


def relationships_for(user) -> dict:
    relationships = _relationships_for(person=user) if user.is_authenticated else []
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


def _latest(rows, recent: int):
    """The first `recent` rows, each with how many there are in all (`total`): one query,
    the count a window over the same rows, so a long history builds only the rows the
    page shows."""
    return rows.annotate(total=Window(Count("pk")))[:recent]


def _total(rows: list) -> int:
    return rows[0].total if rows else 0


# The relationship and session pages' reads, from the usual rules (visible_to), compiled
# once per process (config.prepared): building each cost Django 0.6-1.5 ms of CPU a
# request, more than running it (issue 15). `person` is the reader, always signed in.


def _sessions_query(person, relationship):
    return (
        CoachingSession.objects.visible_to(person)
        .filter(relationship=relationship)
        # What the relationship page's list shows (jinja2/relationships/detail.html), not
        # the agenda's and summary's ciphertexts: grouped and sent for every session of a
        # long history, they were most of the row.
        .only("public_id", "relationship", "held_on", "duration_minutes", "focus")
        .annotate(
            note_count=Count(
                "notes",
                filter=Q(notes__author=person) | Q(notes__visibility=Note.Visibility.SHARED),
            )
        )
        .order_by("-held_on", "-created_at")
    )


def _items_query(person, relationship):
    return ActionItem.objects.visible_to(person).filter(relationship=relationship)


# What the relationship page shows of an item (jinja2/relationships/actions.html and
# follow_through), not created_at, created_by or client_token: parsing those for every item
# of a long history cost more than the rest of the row.
_PAGE_ITEM_COLUMNS = (
    "id",
    "public_id",
    "relationship_id",
    "session_id",
    "owner",
    "text_ciphertext",
    "due_on",
    "done_at",
    "changed_by_id",
    "changed_fields",
)
_OWNER, _DUE_ON, _DONE_AT = (_PAGE_ITEM_COLUMNS.index(c) for c in ("owner", "due_on", "done_at"))


def _page_items_query(person, relationship):
    """Every item of the relationship as a plain row (_PAGE_ITEM_COLUMNS): the page counts
    the coach's follow-through over all of them and shows some (page_action_items)."""
    return _items_query(person, relationship).values_list(*_PAGE_ITEM_COLUMNS)


def page_action_items(rows, *, recent: int | None) -> dict:
    """action_items() from _page_items' rows: a model instance only for the items shown
    (the open ones and the latest `recent` done), not for every item of two years."""
    done = sorted((row for row in rows if row[_DONE_AT] is not None), key=lambda r: r[_DONE_AT])
    shown_done = done if recent is None else done[max(len(done) - recent, 0) :]

    def item(row):
        return ActionItem.from_db(DEFAULT_DB_ALIAS, _PAGE_ITEM_COLUMNS, row)

    return {
        "open_items": [item(row) for row in rows if row[_DONE_AT] is None],
        "done_items": [item(row) for row in shown_done],
        "done_total": len(done),
        "follow_through": _follow_through(
            (row[_OWNER], row[_DUE_ON], row[_DONE_AT]) for row in rows
        ),
    }


def _notes_query(person, relationship):
    """The notes on the relationship itself (not on one of its sessions)."""
    return Note.objects.visible_to(person).filter(relationship=relationship, session__isnull=True)


def _drafts_query(person, relationship):
    return (
        NoteDraft.objects.visible_to(person)
        .filter(relationship=relationship)
        .select_related("note")
    )


def _session_notes_query(person, session):
    return Note.objects.visible_to(person).filter(session=session)


def _session_items_query(person, session):
    return ActionItem.objects.visible_to(person).filter(session=session)


_on_relationship = {"person": Row(User), "relationship": Row(CoachingRelationship)}
_on_session = {"person": Row(User), "session": Row(CoachingSession)}
_sessions = PreparedRead(_sessions_query, **_on_relationship)
_recent_sessions = PreparedRead(
    lambda **values: _latest(_sessions_query(**values), RECENT_SESSIONS), **_on_relationship
)
_items = PreparedRead(_items_query, **_on_relationship)
_page_items = PreparedRead(_page_items_query, **_on_relationship)
_notes = PreparedRead(_notes_query, **_on_relationship)
_recent_notes = PreparedRead(
    lambda **values: _latest(_notes_query(**values), RECENT_NOTES), **_on_relationship
)
_drafts = PreparedRead(_drafts_query, **_on_relationship)
_session_notes = PreparedRead(_session_notes_query, **_on_session)
_session_items = PreparedRead(_session_items_query, **_on_session)


def _owed_query(person):
    """The open items the person owns, in every relationship they can still act in:
    overdue first (the earliest due date), undated last."""
    return (
        ActionItem.objects.visible_to(person)
        .filter(
            Q(owner=ActionItem.Owner.COACH, relationship__coach=person)
            | Q(owner=ActionItem.Owner.COACHEE, relationship__coachee=person),
            done_at__isnull=True,
            relationship__status__in=CoachingRelationship.WRITABLE_STATUSES,
        )
        .select_related("relationship__coach", "relationship__coachee")
        .order_by(F("due_on").asc(nulls_last=True), "created_at", "pk")
    )


_owed = PreparedRead(_owed_query, person=Row(User))


def action_items_owed(user) -> list:
    """My action items: everything the person owes, across their relationships."""
    return _owed(person=user) if user.is_authenticated else []


def _upcoming_query(person, moment):
    """The person's scheduled sessions still to come (or under way), soonest first: what
    home's list shows of them. Their relationships are the ones home has read already
    (upcoming_sessions)."""
    return (
        ScheduledSession.objects.visible_to(person)
        .upcoming(moment)
        .only("public_id", "relationship", "starts_at", "duration_minutes", "series", "cadence")
        .order_by("starts_at", "pk")
    )


UPCOMING_SHOWN = 5
_upcoming = PreparedRead(
    lambda person, moment: _upcoming_query(person, moment)[:UPCOMING_SHOWN],
    person=Row(User),
    moment=Moment(),
)


def upcoming_sessions(user, now, relationships=()) -> list:
    """Home's first list: the next few sessions across the person's relationships, each
    given its relationship from `relationships` (with both people) when it is there,
    rather than joining them all again."""
    if not user.is_authenticated:
        return []
    upcoming = _upcoming(person=user, moment=now)
    by_id = {relationship.pk: relationship for relationship in relationships}
    for scheduled in upcoming:
        if scheduled.relationship_id in by_id:
            ScheduledSession.relationship.field.set_cached_value(
                scheduled, by_id[scheduled.relationship_id]
            )
    return upcoming


class _PublicId:
    """A public id (a UUID from the URL) as a prepared read's value (config.prepared's
    kinds): its parameter is what the UUID field sends the database."""

    stand_ins = (
        uuid.UUID("00000000-0000-4000-8000-00000000f001"),
        uuid.UUID("00000000-0000-4000-8000-00000000f002"),
    )

    def params(self, connection, value) -> list:
        return [CoachingSession._meta.get_field("public_id").get_db_prep_value(value, connection)]


def _relationship_query(person, public_id):
    return (
        CoachingRelationship.objects.for_member(person)
        .with_people()
        .filter(public_id=public_id)
        # Whether the person left unsaved drafts here: rarely, so the relationship page
        # reads them (a query of its own) only then.
        .annotate(
            has_drafts=Exists(
                NoteDraft.objects.visible_to(person).filter(relationship=OuterRef("pk"))
            ),
            # Talking points waiting for a next session to be scheduled: rarely, so the
            # page reads them only then.
            has_waiting_points=Exists(
                TalkingPoint.objects.visible_to(person).filter(
                    relationship=OuterRef("pk"), scheduled__isnull=True, discussed_at__isnull=True
                )
            ),
            # Whether the person waved away a reflection prompt here: rarely, so the
            # page reads which ones (a query of its own) only then.
            has_dismissals=Exists(
                PromptDismissal.objects.filter(user=person, relationship=OuterRef("pk"))
            ),
            # The next scheduled session, for the page's "Next session" (one that is
            # over counts as held once scheduled_sessions_roll has run).
            next_session_at=Subquery(_next_scheduled.values("starts_at")[:1]),
            next_session_id=Subquery(_next_scheduled.values("public_id")[:1]),
        )
    )


_next_scheduled = ScheduledSession.objects.filter(
    relationship=OuterRef("pk"), status=ScheduledSession.Status.SCHEDULED
).order_by("starts_at", "pk")


def _session_query(person, public_id):
    # Not the organisation: the session page shows nothing of it.
    return (
        CoachingSession.objects.visible_to(person)
        .select_related("relationship__coach", "relationship__coachee")
        .filter(public_id=public_id)
    )


_relationship = PreparedRead(_relationship_query, person=Row(User), public_id=_PublicId())
_session = PreparedRead(_session_query, person=Row(User), public_id=_PublicId())


def relationship_of(user, public_id: uuid.UUID) -> CoachingRelationship | None:
    """The person's relationship with this public id (for_member), with both people and
    the organisation; None if there is none of theirs (the view answers 404)."""
    if not user.is_authenticated or not isinstance(public_id, uuid.UUID):
        return None
    rows = _relationship(person=user, public_id=public_id)
    return rows[0] if rows else None


def session_of(user, public_id: uuid.UUID) -> CoachingSession | None:
    """The session with this public id if the person may see it (visible_to), with its
    relationship's two people; None otherwise (the view answers 404)."""
    if not user.is_authenticated or not isinstance(public_id, uuid.UUID):
        return None
    rows = _session(person=user, public_id=public_id)
    return rows[0] if rows else None


def relationship_notes(relationship: CoachingRelationship, user) -> list:
    """All the notes on the relationship itself that the person may read."""
    if not user.is_authenticated:
        return []
    return with_authors(_notes(person=user, relationship=relationship), relationship)


def relationship_items(relationship: CoachingRelationship, user) -> list:
    if not user.is_authenticated:
        return []
    return _items(person=user, relationship=relationship)


def relationship_page(relationship: CoachingRelationship, user, *, recent: int | None = None):
    """`recent` keeps a long history's page short: the latest sessions, notes and done
    items."""
    if not user.is_authenticated:
        sessions = items = notes = drafts = []
        session_total = note_total = 0
    else:
        on = {"person": user, "relationship": relationship}
        if recent is None:
            sessions, notes = _sessions(**on), _notes(**on)
            session_total, note_total = len(sessions), len(notes)
        else:
            sessions, notes = _recent_sessions(**on), _recent_notes(**on)
            session_total, note_total = _total(sessions), _total(notes)
        items = _page_items(**on)
        # relationship_of asked whether there are any (not every caller's relationship
        # comes from it: without the answer, look).
        drafts = _drafts(**on) if getattr(relationship, "has_drafts", True) else []
    return {
        "sessions": sessions,
        "session_total": session_total,
        **page_action_items(items, recent=recent),
        "notes": with_authors(notes, relationship),
        "note_total": note_total,
        "drafts": drafts,
        "is_first_session": not sessions,
    }


def with_authors(notes: list, relationship: CoachingRelationship) -> list:
    """Gives each note its author from the relationship's two parties, already loaded with
    it (`with_people()`), instead of joining the users again."""
    people = {
        relationship.coach_id: relationship.coach,
        relationship.coachee_id: relationship.coachee,
    }
    for note in notes:
        if note.author_id in people:  # always: only the two parties write notes
            Note.author.field.set_cached_value(note, people[note.author_id])
    return notes


def session_notes(session: CoachingSession, user, relationship: CoachingRelationship) -> list:
    """The notes on a session that the person may read; `relationship` is the session's."""
    if not user.is_authenticated:
        return []
    return with_authors(_session_notes(person=user, session=session), relationship)


def session_items(session: CoachingSession, user) -> list:
    if not user.is_authenticated:
        return []
    return _session_items(person=user, session=session)


def session_page(session: CoachingSession, user, relationship: CoachingRelationship) -> dict:
    items = session_items(session, user)
    return {
        "notes": session_notes(session, user, relationship),
        "items": items,
        **action_items(items),
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


# --- A scheduled session's page and its agenda (issue 17) ---------------------------------
# Compiled once per process, as the relationship page's reads: building these three
# queries with the ORM cost the agenda page a fifth of its CPU.


def _scheduled_query(person, public_id):
    return (
        ScheduledSession.objects.visible_to(person)
        .select_related("relationship__coach", "relationship__coachee", "session")
        .filter(public_id=public_id)
    )


def _agenda_points_query(person, scheduled):
    return TalkingPoint.objects.visible_to(person).filter(scheduled=scheduled)


def _open_items_query(person, relationship):
    return (
        ActionItem.objects.visible_to(person)
        .filter(relationship=relationship, done_at__isnull=True)
        .order_by(F("due_on").asc(nulls_last=True), "created_at")
    )


_scheduled = PreparedRead(_scheduled_query, person=Row(User), public_id=PublicId(ScheduledSession))
_agenda_points = PreparedRead(
    _agenda_points_query, person=Row(User), scheduled=Row(ScheduledSession)
)
_open_items = PreparedRead(
    _open_items_query, person=Row(User), relationship=Row(CoachingRelationship)
)


def scheduled_of(user, public_id: uuid.UUID) -> ScheduledSession | None:
    """The person's scheduled session with this public id, with its relationship's two
    people and its logged session; None if there is none of theirs (the view answers
    404)."""
    if not user.is_authenticated or not isinstance(public_id, uuid.UUID):
        return None
    rows = _scheduled(person=user, public_id=public_id)
    return rows[0] if rows else None


def agenda_points(user, scheduled: ScheduledSession) -> list:
    """The talking points of a scheduled session that the person may read, in order."""
    return _agenda_points(person=user, scheduled=scheduled) if user.is_authenticated else []


def open_items(user, relationship: CoachingRelationship) -> list:
    """The relationship's open action items, the soonest due first (then undated)."""
    return _open_items(person=user, relationship=relationship) if user.is_authenticated else []


def waiting_points(user, relationship: CoachingRelationship) -> list:
    """Talking points the person may read that wait for the next session to be scheduled
    (not discussed when theirs was held or cancelled with none after it)."""
    return list(
        TalkingPoint.objects.visible_to(user).filter(
            relationship=relationship, scheduled__isnull=True, discussed_at__isnull=True
        )
    )
