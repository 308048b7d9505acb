import uuid

import pytest
from django.db import connection
from django.urls import reverse

from relationships.models import CoachingRelationship, Note, NoteDraft
from tests.factories import NoteDraftFactory, NoteFactory, RelationshipFactory, SessionFactory
from tests.helpers import text

pytestmark = pytest.mark.django_db


def _row(note) -> tuple:
    """The note's database row exactly as stored."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relationship_id, session_id, author_id, visibility, body_ciphertext, "
            "version, updated_at FROM relationships_note WHERE id = %s",
            [note.pk],
        )
        return cursor.fetchone()


def _new_note(client, rel, headers=None, **data):
    return client.post(
        reverse("note_create", args=[rel.public_id]),
        {"body": "A note", "visibility": "private", "client_token": uuid.uuid4(), **data},
        headers=headers,
    )


def test_a_private_note_is_readable_by_its_author_only(client, relationship):
    client.force_login(relationship.coach)
    _new_note(client, relationship, body="Only for me")
    note = Note.objects.get()
    assert (note.author, note.visibility, note.body) == (
        relationship.coach,
        "private",
        "Only for me",
    )
    page = text(client.get(reverse("relationship_detail", args=[relationship.public_id])))
    assert "Only for me" in page and "Private — only you" in page

    client.force_login(relationship.coachee)
    page = text(client.get(reverse("relationship_detail", args=[relationship.public_id])))
    assert "Only for me" not in page
    assert client.get(reverse("note_edit", args=[note.public_id])).status_code == 404


def test_a_shared_note_is_readable_by_both_and_says_so(client, relationship):
    client.force_login(relationship.coach)
    _new_note(client, relationship, body="For both of us", visibility="shared")
    page = text(client.get(reverse("relationship_detail", args=[relationship.public_id])))
    assert "Shared with Sam Coachee" in page

    client.force_login(relationship.coachee)
    page = text(client.get(reverse("relationship_detail", args=[relationship.public_id])))
    assert "For both of us" in page and "Shared with you" in page


def test_the_form_says_who_can_read_and_private_is_the_default(coach_client, relationship):
    page = coach_client.get(reverse("relationship_detail", args=[relationship.public_id]))
    html = page.content.decode()

    assert "Private — only you can read it" in text(page)
    assert "Shared — you and Sam Coachee can read it" in text(page)
    assert 'value="private" id="id_visibility_0" checked' in html or (
        'value="private"' in html and "checked" in html.split('value="private"')[1][:40]
    )


def test_a_note_on_a_session_shows_on_that_session(client, relationship):
    session = SessionFactory(relationship=relationship)
    client.force_login(relationship.coachee)

    _new_note(
        client, relationship, body="About today", visibility="shared", session=session.public_id
    )

    note = Note.objects.get()
    assert note.session == session
    client.force_login(relationship.coach)
    assert "About today" in text(client.get(reverse("session_detail", args=[session.public_id])))


def test_sending_the_same_form_twice_creates_one_note(coach_client, relationship):
    token = uuid.uuid4()
    _new_note(coach_client, relationship, client_token=token)
    _new_note(coach_client, relationship, client_token=token)

    assert Note.objects.count() == 1


def test_authors_edit_their_notes_and_the_version_moves_on(coach_client, relationship):
    note = NoteFactory(relationship=relationship, body="First thought")

    response = coach_client.post(
        reverse("note_edit", args=[note.public_id]),
        {
            "body": "Second thought",
            "visibility": "shared",
            "version": 1,
            "client_token": uuid.uuid4(),
        },
    )

    assert response.status_code == 302
    note.refresh_from_db()
    assert (note.body, note.visibility, note.version) == ("Second thought", "shared", 2)


def test_a_stale_edit_is_refused_and_keeps_what_was_typed(coach_client, relationship):
    note = NoteFactory(relationship=relationship, body="Original")
    form = {"visibility": "private", "version": 1, "client_token": uuid.uuid4()}
    coach_client.post(reverse("note_edit", args=[note.public_id]), {**form, "body": "Tab one"})

    response = coach_client.post(
        reverse("note_edit", args=[note.public_id]), {**form, "body": "Tab two's words"}
    )

    assert response.status_code == 409
    page = text(response)
    assert "This note was changed in another tab or window since you opened it." in page
    assert "Tab two's words" in page, "what the person typed is kept in the form"
    assert "Tab one" in page, "the latest saved version is shown beside it"
    note.refresh_from_db()
    assert (note.body, note.version) == ("Tab one", 2)


def test_authors_delete_their_notes(coach_client, relationship):
    note = NoteFactory(relationship=relationship)

    response = coach_client.post(reverse("note_delete", args=[note.public_id]))

    assert response.status_code == 302
    assert not Note.objects.exists()


def test_the_other_party_cannot_edit_or_delete_even_a_shared_note(client, relationship):
    note = NoteFactory(relationship=relationship, visibility="shared", body="Mine")
    before = _row(note)
    client.force_login(relationship.coachee)

    edit = client.post(
        reverse("note_edit", args=[note.public_id]),
        {"body": "Changed", "visibility": "shared", "version": 1, "client_token": uuid.uuid4()},
    )
    delete = client.post(reverse("note_delete", args=[note.public_id]))

    assert (edit.status_code, delete.status_code) == (404, 404)
    assert _row(note) == before


def test_posting_a_note_to_another_pairs_relationship_is_a_404(other_coach_client, relationship):
    response = _new_note(other_coach_client, relationship, body="Intrusion")

    assert response.status_code == 404
    assert not Note.objects.filter(relationship=relationship).exists()


def test_forged_author_relationship_and_session_fields_are_ignored_or_refused(
    client, relationship, organisation
):
    other = RelationshipFactory(organisation=organisation)
    other_session = SessionFactory(relationship=other)
    client.force_login(relationship.coachee)

    forged_author = _new_note(
        client,
        relationship,
        body="Forged",
        author=relationship.coach.pk,
        relationship=other.public_id,
    )
    forged_session = _new_note(client, relationship, body="X", session=other_session.public_id)

    note = Note.objects.get()
    assert (note.author, note.relationship) == (relationship.coachee, relationship)
    assert forged_author.status_code == 302
    assert forged_session.status_code == 404
    assert Note.objects.count() == 1


def test_forged_visibility_is_refused(coach_client, relationship):
    response = _new_note(coach_client, relationship, visibility="everyone")

    assert "Select a valid choice." in text(response)
    assert not Note.objects.exists()


def test_notes_of_an_ended_relationship_stay_readable_and_cannot_change(client, relationship):
    note = NoteFactory(relationship=relationship, visibility="shared", body="History")
    relationship.status = CoachingRelationship.Status.ENDED
    relationship.save()
    before = _row(note)

    for user in (relationship.coach, relationship.coachee):
        client.force_login(user)
        page = text(client.get(reverse("relationship_detail", args=[relationship.public_id])))
        assert "History" in page and "read-only" in page
    client.force_login(relationship.coach)
    _new_note(client, relationship, body="Late addition")
    client.post(reverse("note_delete", args=[note.public_id]))
    response = client.post(
        reverse("note_edit", args=[note.public_id]),
        {"body": "Rewritten", "visibility": "shared", "version": 1, "client_token": uuid.uuid4()},
    )

    assert "This relationship has ended, so its history is read-only." in text(response)
    assert _row(note) == before
    assert Note.objects.count() == 1


def test_htmx_note_creation_swaps_in_the_notes_region(coach_client, relationship):
    response = _new_note(
        coach_client, relationship, body="Via htmx", headers={"HX-Request": "true"}
    )

    html = response.content.decode()
    assert html.lstrip().startswith('<section id="notes"')
    assert "Via htmx" in html and "Note saved." in html
    assert "<html" not in html


def test_htmx_errors_stay_in_the_region_with_what_was_typed(coach_client, relationship):
    response = coach_client.post(
        reverse("note_create", args=[relationship.public_id]),
        {"body": "", "visibility": "nope", "client_token": uuid.uuid4()},
        HTTP_HX_REQUEST="true",
    )

    assert response.status_code == 200
    assert "This field is required." in text(response)
    assert not Note.objects.exists()


# --- Autosave -----------------------------------------------------------------------


def test_typing_autosaves_a_private_draft_and_saving_removes_it(coach_client, relationship):
    token = uuid.uuid4()
    response = coach_client.post(
        reverse("note_draft", args=[relationship.public_id]),
        {"client_token": token, "body": "Half a thought", "visibility": "shared"},
        HTTP_HX_REQUEST="true",
    )
    assert "Draft saved privately" in text(response)
    draft = NoteDraft.objects.get()
    assert (draft.author, draft.body) == (relationship.coach, "Half a thought")

    page = text(coach_client.get(reverse("relationship_detail", args=[relationship.public_id])))
    assert "Unsaved drafts" in page and "Half a thought" in page

    _new_note(coach_client, relationship, body="Whole thought", client_token=token)
    assert not NoteDraft.objects.exists()


def test_a_draft_shows_on_its_own_relationship_only(coach_client, relationship):
    other = RelationshipFactory(coach=relationship.coach, organisation=relationship.organisation)
    NoteDraftFactory(relationship=other, body="Meant for the other")

    here = text(coach_client.get(reverse("relationship_detail", args=[relationship.public_id])))
    there = text(coach_client.get(reverse("relationship_detail", args=[other.public_id])))

    assert "Unsaved drafts" not in here and "Meant for the other" not in here
    assert "Meant for the other" in there


def test_a_draft_is_never_shown_to_the_other_party(client, relationship):
    NoteDraftFactory(relationship=relationship, body="Draft words")
    client.force_login(relationship.coachee)

    page = text(client.get(reverse("relationship_detail", args=[relationship.public_id])))

    assert "Draft words" not in page


def test_continue_writing_restores_the_draft_into_the_form(coach_client, relationship):
    draft = NoteDraftFactory(relationship=relationship, body="Where I left off")

    response = coach_client.get(
        reverse("note_create", args=[relationship.public_id]) + f"?draft={draft.key}"
    )

    html = response.content.decode()
    assert "Where I left off" in html
    assert str(draft.key) in html, "saving the form removes this draft"


def test_someone_elses_draft_key_is_a_404(client, relationship):
    draft = NoteDraftFactory(relationship=relationship)
    client.force_login(relationship.coachee)

    response = client.get(
        reverse("note_create", args=[relationship.public_id]) + f"?draft={draft.key}"
    )

    assert response.status_code == 404


def test_emptying_the_text_drops_the_draft(coach_client, relationship):
    draft = NoteDraftFactory(relationship=relationship)

    coach_client.post(
        reverse("note_draft", args=[relationship.public_id]),
        {"client_token": draft.key, "body": "   "},
    )

    assert not NoteDraft.objects.exists()


def test_autosave_while_editing_ties_the_draft_to_the_note(coach_client, relationship):
    note = NoteFactory(relationship=relationship, body="Saved")
    token = uuid.uuid4()

    coach_client.post(
        reverse("note_draft", args=[relationship.public_id]),
        {"client_token": token, "body": "Saved, then more", "note": note.public_id},
    )
    page = coach_client.get(reverse("note_edit", args=[note.public_id]) + f"?draft={token}")

    assert NoteDraft.objects.get().note == note
    assert "Saved, then more" in page.content.decode()


def test_the_page_has_autosave_wired_to_the_drafts_endpoint(coach_client, relationship):
    html = coach_client.get(
        reverse("relationship_detail", args=[relationship.public_id])
    ).content.decode()

    assert f'hx-post="{reverse("note_draft", args=[relationship.public_id])}"' in html
    assert 'hx-trigger="input changed delay:1500ms"' in html
