"""Search everything a person may read (issue 17).

Private text is encrypted at rest, so there is no index to ask: each search reads only
the rows the person may read (the same scoped querysets as the pages), decrypts them in
the request, and matches in memory. Nothing is stored: no plaintext, no index, no query
(which travels in a POST body, never in a URL or a log line).

Rows are read as plain values, not model instances, and decrypted with the same
associated data their `EncryptedText` attribute binds them to: a ciphertext moved to a
row the person may read but that is not its own fails to decrypt and is skipped, as the
pages skip it."""

import re
from dataclasses import dataclass, field
from datetime import date

from django.db.models import CharField
from django.db.models.functions import Cast
from django.urls import reverse

from reflections.models import CheckInResponse, Reflection
from relationships.models import (
    ActionItem,
    CoachingRelationship,
    CoachingSession,
    Note,
    TalkingPoint,
)

MIN_QUERY = 2
MAX_QUERY = 200
# What one page of results shows; the count says how many more there are.
MAX_HITS = 50
SNIPPET = 70  # characters of context either side of the first match


@dataclass
class Hit:
    kind: str
    where: str
    url: str
    private: bool
    badge: str
    # The snippet in three parts, so the template escapes each and marks the match.
    before: str = ""
    match: str = ""
    after: str = ""


@dataclass
class Results:
    query: str
    hits: list[Hit] = field(default_factory=list)
    total: int = 0
    searched: int = 0  # rows read and decrypted


def _matches(text: str, words: list[str]) -> bool:
    """Whether every word is in `text` (case-insensitive)."""
    folded = text.casefold()
    return all(word in folded for word in words)


def _when(field: str) -> Cast:
    """A row's date or time as the database writes it as text, in UTC: enough to put
    the hits of every kind in order, without turning each row's timestamp into a Python
    datetime (which cost a quarter of a search's time, for rows most of which match
    nothing)."""
    return Cast(field, output_field=CharField())


def _day(value: date) -> str:
    return f"{value.day} {value:%b %Y}"


def search(user, query: str) -> Results:
    """Every text `user` may read that holds all the words of `query`, newest first."""
    words = query.casefold().split()
    results = Results(query=query)
    if not user.is_authenticated or not words:
        return results
    found: list[tuple] = []  # (when, text, the row, how to describe it)

    def scan(rows, read, describe, *, when_at, text_at=0, id_at=1, bound_at=()):
        """Decrypt and match each row; only the hits shown are described (where each
        lives, its badge, its link): describing costs more than matching."""
        for row in rows:
            results.searched += 1
            text = read(row[text_at], row[id_at], *(row[i] for i in bound_at))
            if text and _matches(text, words):
                found.append((row[when_at], text, row, describe))

    relationships = {r.pk: r for r in CoachingRelationship.objects.for_member(user).with_people()}

    def with_whom(relationship_id) -> str:
        return relationships[relationship_id].other_party_name(user)

    def shared_badge(relationship_id, author_id=None) -> str:
        if author_id is not None and author_id != user.pk:
            return "Shared with you"
        return f"Shared with {with_whom(relationship_id)}"

    def relationship_url(relationship_id, anchor="") -> str:
        public_id = relationships[relationship_id].public_id
        return reverse("relationship_detail", args=[public_id]) + anchor

    # Session agendas and summaries: shared by the two people. Read first: a note's hit
    # names its session from these.
    sessions = {
        row[4]: row
        for row in CoachingSession.objects.visible_to(user).values_list(
            "agenda_ciphertext",
            "summary_ciphertext",
            "public_id",
            "relationship_id",
            "id",
            _when("held_on"),
        )
    }

    def session_where(row) -> str:
        held_on = date.fromisoformat(row[5][:10])
        return f"Session on {_day(held_on)} with {with_whom(row[3])}"

    def session(kind):
        def describe(row):
            return Hit(
                kind,
                session_where(row),
                reverse("session_detail", args=[row[2]]),
                False,
                shared_badge(row[3]),
            )

        return describe

    for kind, attribute, text_at in (("Agenda", "agenda", 0), ("Summary", "summary", 1)):
        scan(
            sessions.values(),
            getattr(CoachingSession, attribute).reader(CoachingSession),
            session(kind),
            when_at=5,
            text_at=text_at,
            id_at=2,
            bound_at=(3,),
        )

    # Notes: the person's own (private or shared) and the other's shared ones.
    def note(row):
        _, _, author_id, relationship_id, visibility, _, session_id = row
        private = visibility == Note.Visibility.PRIVATE
        if session_id in sessions:
            where = session_where(sessions[session_id])
            url = reverse("session_detail", args=[sessions[session_id][2]]) + "#notes"
        else:
            where = f"Relationship with {with_whom(relationship_id)}"
            url = relationship_url(relationship_id, "#notes")
        badge = "Private — only you" if private else shared_badge(relationship_id, author_id)
        return Hit("Note", where, url, private, badge)

    scan(
        Note.objects.visible_to(user).values_list(
            "body_ciphertext",
            "public_id",
            "author_id",
            "relationship_id",
            "visibility",
            _when("created_at"),
            "session_id",
        ),
        Note.body.reader(Note),
        note,
        when_at=5,
        bound_at=(2, 3, 4),
    )

    # Action items: shared by the two people.
    def item(row):
        relationship_id = row[2]
        return Hit(
            "Action item",
            f"Relationship with {with_whom(relationship_id)}",
            relationship_url(relationship_id, "#actions"),
            False,
            shared_badge(relationship_id),
        )

    scan(
        ActionItem.objects.visible_to(user).values_list(
            "text_ciphertext",
            "public_id",
            "relationship_id",
            _when("created_at"),
        ),
        ActionItem.text.reader(ActionItem),
        item,
        when_at=3,
        bound_at=(2,),
    )

    # Talking points: shared ones, and the person's own private ones.
    def point(row):
        _, _, author_id, relationship_id, visibility, _, scheduled = row
        private = visibility == TalkingPoint.Visibility.PRIVATE
        if scheduled:
            url = reverse("scheduled_detail", args=[scheduled]) + "#agenda"
        else:
            url = relationship_url(relationship_id, "#schedule")  # waiting for a session
        badge = "Private — only you" if private else shared_badge(relationship_id, author_id)
        return Hit(
            "Talking point", f"Agenda with {with_whom(relationship_id)}", url, private, badge
        )

    scan(
        TalkingPoint.objects.visible_to(user).values_list(
            "text_ciphertext",
            "public_id",
            "author_id",
            "relationship_id",
            "visibility",
            _when("created_at"),
            "scheduled__public_id",
        ),
        TalkingPoint.text.reader(TalkingPoint),
        point,
        when_at=5,
        bound_at=(2, 3, 4),
    )

    # The private journal.
    def entry(row):
        url = reverse("reflection_edit", args=[row[1]])
        return Hit("Journal entry", "Your journal", url, True, "Private — only you")

    scan(
        Reflection.objects.visible_to(user).values_list(
            "body_ciphertext", "public_id", "author_id", _when("created_at")
        ),
        Reflection.body.reader(Reflection),
        entry,
        when_at=3,
        bound_at=(2,),
    )

    # The person's own check-in comments (shared with the other person, or not).
    def comment(row):
        _, _, _, _, shared, _, round_id, relationship_id = row
        badge = shared_badge(relationship_id) if shared else "Private — only you"
        return Hit(
            "Check-in comment",
            f"Check-in with {with_whom(relationship_id)}",
            reverse("checkin_detail", args=[round_id]),
            not shared,
            badge,
        )

    scan(
        # Only a party answers a round: its relationship is among theirs.
        CheckInResponse.objects.filter(respondent=user).values_list(
            "comment_ciphertext",
            "public_id",
            "respondent_id",
            "round_id",
            "shared",
            _when("submitted_at"),
            "round__public_id",
            "round__relationship_id",
        ),
        CheckInResponse.comment.reader(CheckInResponse),
        comment,
        when_at=5,
        bound_at=(2, 3, 4),
    )

    # Newest first; described, and their snippets cut, only for the hits shown.
    found.sort(key=lambda hit: hit[0], reverse=True)
    results.total = len(found)
    for _, text, row, describe in found[:MAX_HITS]:
        hit = describe(row)
        # Where the first word is in the text itself (casefolding can change a text's
        # length, "ß" to "ss", so the position in the folded text may be off here).
        first = re.search(re.escape(words[0]), text, re.IGNORECASE)
        at, end = (first.start(), first.end()) if first else (0, 0)
        start = max(at - SNIPPET, 0)
        hit.before = ("…" if start else "") + text[start:at]
        hit.match = text[at:end]
        hit.after = text[end : end + SNIPPET] + ("…" if end + SNIPPET < len(text) else "")
        results.hits.append(hit)
    return results


def search_refusal(query: str) -> str | None:
    """Why a query cannot be searched, in words (None: it can)."""
    stripped = query.strip()
    if len(stripped) < MIN_QUERY:
        return f"Type at least {MIN_QUERY} characters to search."
    if len(stripped) > MAX_QUERY:
        return f"Keep a search under {MAX_QUERY} characters."
    return None
