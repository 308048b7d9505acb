import base64
import os

import pytest
from allauth.mfa.models import Authenticator
from django.core.management import call_command
from django.db import connection
from django.urls import reverse

from privacy.encryption import REGISTRY, DecryptionError, key_id_of, newest_key_id
from relationships.models import ActionItem, CoachingRelationship, CoachingSession, Note, NoteDraft
from tests.factories import (
    ActionItemFactory,
    NoteDraftFactory,
    NoteFactory,
    RelationshipFactory,
    SessionFactory,
)

pytestmark = pytest.mark.django_db
CANARY = "canary: my manager's drinking worries me"


def _raw_rows(table: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {table}")  # noqa: S608 - our own table names
        return repr(cursor.fetchall())


def _new_key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


def test_every_private_text_is_registered_for_encryption():
    registered = {(model, attribute.name) for model, attribute in REGISTRY}
    assert {
        (CoachingRelationship, "purpose"),
        (CoachingSession, "agenda"),
        (CoachingSession, "summary"),
        (Note, "body"),
        (NoteDraft, "body"),
        (ActionItem, "text"),
    } <= registered


def test_the_database_holds_neither_the_text_nor_its_base64():
    relationship = RelationshipFactory(purpose=CANARY)
    SessionFactory(relationship=relationship, agenda=CANARY, summary=CANARY)
    NoteFactory(relationship=relationship, body=CANARY)
    NoteDraftFactory(relationship=relationship, body=CANARY)
    ActionItemFactory(relationship=relationship, text=CANARY)
    encoded = base64.b64encode(CANARY.encode()).decode()

    for table in [
        "relationships_coachingrelationship",
        "relationships_coachingsession",
        "relationships_note",
        "relationships_notedraft",
        "relationships_actionitem",
    ]:
        raw = _raw_rows(table)
        assert "drinking" not in raw, table
        assert encoded[:16] not in raw, table
    assert Note.objects.get().body == CANARY


def test_a_ciphertext_copied_to_another_row_fails_to_decrypt():
    relationship = RelationshipFactory()
    secret = NoteFactory(relationship=relationship, body=CANARY)
    mine = NoteFactory(relationship=relationship, author=relationship.coachee, body="Mine")

    Note.objects.filter(pk=mine.pk).update(body_ciphertext=secret.body_ciphertext)
    mine.refresh_from_db()

    with pytest.raises(DecryptionError):
        mine.body  # noqa: B018


def test_a_ciphertext_moved_to_another_field_fails_to_decrypt():
    session = SessionFactory(agenda="Agenda", summary=CANARY)

    CoachingSession.objects.filter(pk=session.pk).update(
        agenda_ciphertext=session.summary_ciphertext
    )
    session.refresh_from_db()

    with pytest.raises(DecryptionError):
        session.agenda  # noqa: B018


def test_an_altered_ciphertext_fails_to_decrypt():
    note = NoteFactory(body=CANARY)
    tampered = note.body_ciphertext[:-6] + (
        "AAAA==" if not note.body_ciphertext.endswith("AAAA==") else "BBBB=="
    )
    Note.objects.filter(pk=note.pk).update(body_ciphertext=tampered)
    note.refresh_from_db()

    with pytest.raises(DecryptionError):
        note.body  # noqa: B018


def test_key_rotation_keeps_everything_readable(settings, client):
    relationship = RelationshipFactory(purpose="Purpose")
    note = NoteFactory(relationship=relationship, body=CANARY)
    session = SessionFactory(relationship=relationship, summary="Summary")
    old_key_id = newest_key_id()
    old_keys = settings.RAPPORT_ENCRYPTION_KEYS

    settings.RAPPORT_ENCRYPTION_KEYS = f"{_new_key()},{old_keys}"
    new_key_id = newest_key_id()
    assert new_key_id != old_key_id
    note.refresh_from_db()
    assert note.body == CANARY, "old ciphertexts still decrypt with the old key listed"

    call_command("rotate_encryption_keys")

    settings.RAPPORT_ENCRYPTION_KEYS = settings.RAPPORT_ENCRYPTION_KEYS.split(",")[0]
    for instance in (note, session, relationship):
        instance.refresh_from_db()
    assert key_id_of(note.body_ciphertext) == new_key_id
    assert (note.body, session.summary, relationship.purpose) == (CANARY, "Summary", "Purpose")
    client.force_login(relationship.coach)
    page = client.get(reverse("session_detail", args=[session.public_id]))
    assert "Summary" in page.content.decode()


def test_without_its_key_a_ciphertext_cannot_be_read(settings):
    note = NoteFactory(body=CANARY)

    settings.RAPPORT_ENCRYPTION_KEYS = _new_key()
    note.refresh_from_db()

    with pytest.raises(DecryptionError):
        note.body  # noqa: B018


def test_the_admin_never_shows_private_text_even_to_a_superuser(admin_client, admin_user):
    Authenticator.objects.create(user=admin_user, type=Authenticator.Type.TOTP, data={})
    relationship = RelationshipFactory(purpose=CANARY)
    session = SessionFactory(relationship=relationship, agenda=CANARY, summary=CANARY)
    NoteFactory(relationship=relationship, session=session, body=CANARY)
    ActionItemFactory(relationship=relationship, text=CANARY)
    pages = [
        "/admin/",
        "/admin/relationships/coachingrelationship/",
        f"/admin/relationships/coachingrelationship/{relationship.pk}/change/",
        "/admin/relationships/coachingsession/",
        f"/admin/relationships/coachingsession/{session.pk}/change/",
    ]

    for page in pages:
        response = admin_client.get(page)
        assert response.status_code == 200, page
        body = response.content.decode()
        assert "drinking" not in body and relationship.purpose_ciphertext[:20] not in body, page
    assert admin_client.get("/admin/relationships/note/").status_code == 404
    assert admin_client.get("/admin/relationships/notedraft/").status_code == 404
    assert admin_client.get("/admin/relationships/actionitem/").status_code == 404
