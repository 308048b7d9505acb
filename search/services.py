"""Search everything a person may read (issue 17).

Private text is encrypted at rest, so there is no index to ask: each search reads only
the rows the person may read (the same scoped querysets as the pages), decrypts them in
the request, and matches in memory. Nothing is stored: no plaintext, no index, no query
(which travels in a POST body, never in a URL or a log line).

Rows are read as plain values, not model instances, and decrypted with the same
associated data their `EncryptedText` attribute binds them to: a ciphertext moved to a
row the person may read but that is not its own fails to decrypt and is skipped, as the
pages skip it."""

from dataclasses import dataclass, field
from datetime import datetime
from types import SimpleNamespace

from django.urls import reverse
from django.utils import timezone

from privacy.encryption import DecryptionError, decrypt
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
    at: datetime
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


def _reader(model, attribute: str):
    """A function giving a row's plaintext from its values, with the associated data its
    EncryptedText attribute binds it to (None if it cannot be decrypted here)."""
    descriptor = model.__dict__[attribute]
    column, meta, bind = descriptor.column, model._meta, descriptor.bind

    def read(values: dict) -> str | None:
        ciphertext = values[column]
        if not ciphertext:
            return ""
        row = SimpleNamespace(_meta=meta, public_id=values["public_id"])
        for name in bind:
            setattr(row, name, values[name])
        try:
            return decrypt(ciphertext, associated_data=descriptor.associated_data(row))
        except DecryptionError:
            return None

    return read


def _matches(text: str, words: list[str]) -> int | None:
    """Where the first word is in `text` if every word is in it (case-insensitive)."""
    folded = text.casefold()
    first = None
    for word in words:
        at = folded.find(word)
        if at < 0:
            return None
        if first is None:
            first = at
    return first


def _at(value) -> datetime:
    if isinstance(value, datetime):
        return value
    return timezone.make_aware(datetime.combine(value, datetime.min.time()))


def _day(value) -> str:
    if isinstance(value, datetime):
        value = timezone.localtime(value).date()
    return f"{value.day} {value:%b %Y}"


def search(user, query: str) -> Results:
    """Every text `user` may read that holds all the words of `query`, newest first."""
    words = query.casefold().split()
    results = Results(query=query)
    if not user.is_authenticated or not words:
        return results
    hits: list[Hit] = []

    def consider(text, **hit):
        results.searched += 1
        if not text:
            return
        at = _matches(text, words)
        if at is None:
            return
        start = max(at - SNIPPET, 0)
        end = at + len(words[0])
        hits.append(
            Hit(
                **hit,
                before=("…" if start else "") + text[start:at],
                match=text[at:end],
                after=text[end : end + SNIPPET] + ("…" if end + SNIPPET < len(text) else ""),
            )
        )

    relationships = {r.pk: r for r in CoachingRelationship.objects.for_member(user).with_people()}

    def shared_badge(relationship_id, author_id=None) -> str:
        relationship = relationships[relationship_id]
        if author_id is not None and author_id != user.pk:
            return "Shared with you"
        return f"Shared with {relationship.other_party_name(user)}"

    def with_whom(relationship_id) -> str:
        return relationships[relationship_id].other_party_name(user)

    session_url = reverse("session_detail", args=["00000000-0000-0000-0000-000000000000"])
    relationship_url = reverse("relationship_detail", args=["00000000-0000-0000-0000-000000000000"])

    def url(pattern, public_id, anchor=""):
        return pattern.replace("00000000-0000-0000-0000-000000000000", str(public_id)) + anchor

    # Notes: the person's own (private or shared) and the other's shared ones.
    read_note = _reader(Note, "body")
    for row in Note.objects.visible_to(user).values(
        "public_id",
        "author_id",
        "relationship_id",
        "visibility",
        "body_ciphertext",
        "created_at",
        "session__public_id",
        "session__held_on",
        "relationship__public_id",
    ):
        private = row["visibility"] == Note.Visibility.PRIVATE
        if row["session__public_id"]:
            held_on = _day(row["session__held_on"])
            where = f"Session on {held_on} with {with_whom(row['relationship_id'])}"
            link = url(session_url, row["session__public_id"], "#notes")
        else:
            where = f"Relationship with {with_whom(row['relationship_id'])}"
            link = url(relationship_url, row["relationship__public_id"], "#notes")
        consider(
            read_note(row),
            kind="Note",
            where=where,
            url=link,
            private=private,
            badge="Private — only you"
            if private
            else shared_badge(row["relationship_id"], row["author_id"]),
            at=row["created_at"],
        )

    # Session agendas and summaries: shared by the two people.
    read_agenda, read_summary = (
        _reader(CoachingSession, "agenda"),
        _reader(CoachingSession, "summary"),
    )
    for row in CoachingSession.objects.visible_to(user).values(
        "public_id", "relationship_id", "agenda_ciphertext", "summary_ciphertext", "held_on"
    ):
        where = f"Session on {_day(row['held_on'])} with {with_whom(row['relationship_id'])}"
        for kind, reader in (("Agenda", read_agenda), ("Summary", read_summary)):
            consider(
                reader(row),
                kind=kind,
                where=where,
                url=url(session_url, row["public_id"]),
                private=False,
                badge=shared_badge(row["relationship_id"]),
                at=_at(row["held_on"]),
            )

    # Action items: shared by the two people.
    read_item = _reader(ActionItem, "text")
    for row in ActionItem.objects.visible_to(user).values(
        "public_id", "relationship_id", "text_ciphertext", "created_at", "relationship__public_id"
    ):
        consider(
            read_item(row),
            kind="Action item",
            where=f"Relationship with {with_whom(row['relationship_id'])}",
            url=url(relationship_url, row["relationship__public_id"], "#actions"),
            private=False,
            badge=shared_badge(row["relationship_id"]),
            at=row["created_at"],
        )

    # Talking points: shared ones, and the person's own private ones.
    read_point = _reader(TalkingPoint, "text")
    for row in TalkingPoint.objects.visible_to(user).values(
        "public_id",
        "author_id",
        "relationship_id",
        "visibility",
        "text_ciphertext",
        "created_at",
        "scheduled__public_id",
        "relationship__public_id",
    ):
        private = row["visibility"] == TalkingPoint.Visibility.PRIVATE
        if row["scheduled__public_id"]:
            link = reverse("scheduled_detail", args=[row["scheduled__public_id"]]) + "#agenda"
        else:
            link = url(relationship_url, row["relationship__public_id"])
        consider(
            read_point(row),
            kind="Talking point",
            where=f"Agenda with {with_whom(row['relationship_id'])}",
            url=link,
            private=private,
            badge="Private — only you"
            if private
            else shared_badge(row["relationship_id"], row["author_id"]),
            at=row["created_at"],
        )

    # The private journal.
    read_entry = _reader(Reflection, "body")
    for row in Reflection.objects.visible_to(user).values(
        "public_id", "author_id", "body_ciphertext", "created_at"
    ):
        consider(
            read_entry(row),
            kind="Journal entry",
            where="Your journal",
            url=reverse("reflection_edit", args=[row["public_id"]]),
            private=True,
            badge="Private — only you",
            at=row["created_at"],
        )

    # The person's own check-in comments (shared with the other person, or not).
    read_comment = _reader(CheckInResponse, "comment")
    for row in CheckInResponse.objects.filter(respondent=user).values(
        "public_id",
        "respondent_id",
        "round_id",
        "shared",
        "comment_ciphertext",
        "submitted_at",
        "round__public_id",
        "round__relationship_id",
    ):
        relationship_id = row["round__relationship_id"]
        if relationship_id not in relationships:
            continue
        consider(
            read_comment(row),
            kind="Check-in comment",
            where=f"Check-in with {with_whom(relationship_id)}",
            url=reverse("checkin_detail", args=[row["round__public_id"]]),
            private=not row["shared"],
            badge=shared_badge(relationship_id) if row["shared"] else "Private — only you",
            at=row["submitted_at"],
        )

    hits.sort(key=lambda hit: hit.at, reverse=True)
    results.total = len(hits)
    results.hits = hits[:MAX_HITS]
    return results


def search_refusal(query: str) -> str | None:
    """Why a query cannot be searched, in words (None: it can)."""
    stripped = query.strip()
    if len(stripped) < MIN_QUERY:
        return f"Type at least {MIN_QUERY} characters to search."
    if len(stripped) > MAX_QUERY:
        return f"Keep a search under {MAX_QUERY} characters."
    return None
