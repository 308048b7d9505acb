"""The session page reads its notes' authors from the relationship it already holds
(issue 15): each note still says who wrote it, and each reader sees only what is theirs."""

import pytest
from django.urls import reverse

from tests.factories import NoteFactory, SessionFactory
from tests.helpers import text

pytestmark = pytest.mark.django_db


@pytest.fixture
def notes(relationship):
    session = SessionFactory(relationship=relationship, held_on="2026-11-03")
    coach, coachee = relationship.coach, relationship.coachee
    for author, visibility in [
        (coach, "private"),
        (coach, "shared"),
        (coachee, "private"),
        (coachee, "shared"),
    ]:
        NoteFactory(
            relationship=relationship,
            session=session,
            author=author,
            visibility=visibility,
            body=f"{author.name} {visibility} note",
        )
    return session


def _session_page(client, person, session) -> str:
    client.force_login(person)
    return text(client.get(reverse("session_detail", args=[session.public_id])))


def test_each_party_reads_their_own_and_the_shared_notes_by_name(client, relationship, notes):
    coach, coachee = relationship.coach, relationship.coachee

    page = _session_page(client, coach, notes)
    assert "Session on 3 November 2026" in page
    assert f"{coach.name} private note" in page and f"{coach.name} shared note" in page
    assert f"{coachee.name} shared note" in page
    assert f"{coachee.name} private note" not in page
    assert f"{coachee.name} · " in page, "the other party's note names its author"

    page = _session_page(client, coachee, notes)
    assert f"{coachee.name} private note" in page and f"{coach.name} shared note" in page
    assert f"{coach.name} private note" not in page
    assert f"{coach.name} · " in page


def test_a_note_added_on_the_session_page_names_the_other_authors(client, relationship, notes):
    client.force_login(relationship.coach)

    response = client.post(
        reverse("note_create", args=[relationship.public_id]),
        {
            "body": "Added by htmx",
            "visibility": "shared",
            "client_token": "0b6f7d4e-8a8e-4c39-9d4e-1d2f3a4b5c6d",
            "session": notes.public_id,
        },
        headers={"HX-Request": "true"},
    )

    page = text(response)
    assert "Added by htmx" in page and f"{relationship.coachee.name} shared note" in page
    assert f"{relationship.coachee.name} private note" not in page
