"""Search (issue 17): a person finds anything they may read, and nothing else, with the
query in a POST body and nothing stored."""

import pytest
from django.apps import apps
from django.urls import reverse

from search.services import MAX_HITS
from tests.factories import (
    ActionItemFactory,
    CheckInResponseFactory,
    CheckInRoundFactory,
    NoteFactory,
    ReflectionFactory,
    RelationshipFactory,
    SessionFactory,
    TalkingPointFactory,
)
from tests.helpers import text
from tests.test_hostile_markup import RAW_INJECTIONS, long, read

pytestmark = pytest.mark.django_db
WORD = "Kestrel"


def _search(client, query, **headers):
    return client.post(reverse("search"), {"q": query}, headers=headers)


@pytest.fixture
def history(relationship):
    coach, coachee = relationship.coach, relationship.coachee
    session = SessionFactory(
        relationship=relationship,
        agenda=f"Agenda about {WORD} launch",
        summary=f"Summary: the {WORD} launch slipped",
    )
    NoteFactory(relationship=relationship, session=session, body=f"My private {WORD} worry")
    NoteFactory(
        relationship=relationship, author=coachee, visibility="shared", body=f"Shared {WORD} idea"
    )
    NoteFactory(relationship=relationship, author=coachee, body=f"Coachee's private {WORD} fear")
    ActionItemFactory(relationship=relationship, text=f"Write the {WORD} retro")
    TalkingPointFactory(
        scheduled__relationship=relationship, visibility="private", text=f"Ask about {WORD} pay"
    )
    TalkingPointFactory(
        scheduled__relationship=relationship,
        author=coachee,
        visibility="private",
        text=f"Coachee's {WORD} reminder",
    )
    ReflectionFactory(author=coach, body=f"Journal: {WORD} went badly")
    ReflectionFactory(author=coachee, body=f"Coachee journal {WORD}")
    round_ = CheckInRoundFactory(relationship=relationship)
    CheckInResponseFactory(round=round_, respondent=coach, comment=f"My {WORD} comment")
    CheckInResponseFactory(
        round=round_, respondent=coachee, comment=f"Coachee {WORD} comment", shared=True
    )
    other = RelationshipFactory()
    NoteFactory(relationship=other, visibility="shared", body=f"Another pair's {WORD}")
    return relationship


def test_a_coach_finds_everything_they_may_read_and_nothing_else(client, history):
    coach = history.coach
    client.force_login(coach)

    response = _search(client, WORD.lower())

    assert response.status_code == 200
    page = text(response)
    for found in (
        f"Agenda about {WORD}",
        f"Summary: the {WORD}",
        f"My private {WORD} worry",
        f"Shared {WORD} idea",
        f"Write the {WORD} retro",
        f"Ask about {WORD} pay",
        f"Journal: {WORD} went",
        f"My {WORD} comment",
    ):
        assert found in page, found
    for hidden in (
        "Coachee's private",
        "Coachee's",
        "Coachee journal",
        "Coachee Kestrel comment",
        "Another pair",
    ):
        assert hidden not in page, hidden
    assert "8 results" in page
    name = history.coachee.name
    assert "Note · Session on" in page and f"with {name} Private — only you" in page
    assert "Shared with you" in page and f"Shared with {name}" in page
    assert "Journal entry · Your journal Private — only you" in page


def test_the_query_stays_out_of_the_url_and_nothing_is_stored(client, history):
    client.force_login(history.coach)
    counts = {model: model.objects.count() for model in apps.get_models()}

    response = _search(client, f"{WORD} launch")

    assert response.status_code == 200 and "Location" not in response
    assert "2 results" in text(response)  # every word, in any case
    assert {model: model.objects.count() for model in apps.get_models()} == counts
    ignored = client.get(reverse("search"), {"q": WORD})
    assert WORD not in ignored.content.decode()


def test_too_short_or_too_long_is_explained_never_an_error(client, relationship):
    client.force_login(relationship.coach)

    assert "Type at least 2 characters" in text(_search(client, " a "))
    too_long = _search(client, "x" * 201, **{"HX-Request": "true"})
    assert too_long.status_code == 200
    assert "Keep a search under 200 characters" in text(too_long)
    assert 'id="results"' in too_long.content.decode()
    assert "Nothing found" in text(_search(client, "nowhere-to-be-found"))


def test_many_hits_show_the_newest_and_say_how_many_more(client, relationship):
    for n in range(MAX_HITS + 5):
        NoteFactory(relationship=relationship, body=f"{WORD} {n}")
    client.force_login(relationship.coach)

    page = text(_search(client, WORD))

    assert f"{MAX_HITS + 5} results" in page
    assert f"The newest {MAX_HITS} are shown" in page


def test_attack_hostile_text_and_query_are_shown_as_text(client, relationship):
    NoteFactory(relationship=relationship, body=long("NoteText"))
    client.force_login(relationship.coach)

    for hx in ({}, {"HX-Request": "true"}):
        body = _search(client, "data-hostile", **hx).content.decode()
        for raw in RAW_INJECTIONS:
            assert raw not in body
        page = read(body)
        assert not page.injected and not page.unguarded
        assert page.texts, "the hostile text is shown, as text"
        query = _search(client, "<i data-hostile onclick=f()>", **hx).content.decode()
        assert "<i data-hostile" not in query
