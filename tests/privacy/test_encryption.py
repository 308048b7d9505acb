import base64
import io
import json
import os

import pytest
from allauth.mfa.models import Authenticator
from django.core.management import CommandError, call_command
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from privacy import rls
from privacy.encryption import REGISTRY, DecryptionError, encrypt, key_id_of, newest_key_id
from privacy.models import DataKey
from reflections.dimensions import DIMENSION_KEYS
from reflections.models import CheckInResponse
from relationships.models import (
    ActionItem,
    CoachingRelationship,
    CoachingSession,
    Note,
    NoteDraft,
    TalkingPoint,
)
from tests.factories import (
    ActionItemFactory,
    CheckInResponseFactory,
    CheckInRoundFactory,
    NoteDraftFactory,
    NoteFactory,
    RelationshipFactory,
    SessionFactory,
    TalkingPointFactory,
)
from tests.helpers import text

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
        (TalkingPoint, "text"),
    } <= registered


def test_the_database_holds_neither_the_text_nor_its_base64():
    relationship = RelationshipFactory(purpose=CANARY)
    SessionFactory(relationship=relationship, agenda=CANARY, summary=CANARY)
    NoteFactory(relationship=relationship, body=CANARY)
    NoteDraftFactory(relationship=relationship, body=CANARY)
    ActionItemFactory(relationship=relationship, text=CANARY)
    TalkingPointFactory(
        scheduled__relationship=relationship,
        visibility=TalkingPoint.Visibility.PRIVATE,
        text=CANARY,
    )
    encoded = base64.b64encode(CANARY.encode()).decode()

    for table in [
        "relationships_coachingrelationship",
        "relationships_coachingsession",
        "relationships_note",
        "relationships_notedraft",
        "relationships_actionitem",
        "relationships_talkingpoint",
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

    sealed_before = note.body_ciphertext

    call_command("rotate_encryption_keys")

    settings.RAPPORT_ENCRYPTION_KEYS = settings.RAPPORT_ENCRYPTION_KEYS.split(",")[0]
    for instance in (note, session, relationship):
        instance.refresh_from_db()
    assert note.body_ciphertext == sealed_before, "sealed with a data key: not re-encrypted"
    assert key_id_of(DataKey.objects.get(pk=key_id_of(note.body_ciphertext)).wrapped) == (
        new_key_id
    ), "its data key is re-wrapped by the new master key"
    assert key_id_of(relationship.purpose_ciphertext) == new_key_id
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
        if rls.enforced() and page.startswith("/admin/relationships/coachingsession/"):
            # On PostgreSQL the database does not give a superuser another pair's session:
            # the list is empty and the session's page says it does not exist.
            assert response.status_code == (200 if page.endswith("session/") else 302), page
            assert "drinking" not in response.content.decode(), page
            continue
        assert response.status_code == 200, page
        body = response.content.decode()
        assert "drinking" not in body and relationship.purpose_ciphertext[:20] not in body, page
    assert admin_client.get("/admin/relationships/note/").status_code == 404
    assert admin_client.get("/admin/relationships/notedraft/").status_code == 404
    assert admin_client.get("/admin/relationships/actionitem/").status_code == 404
    assert admin_client.get("/admin/relationships/talkingpoint/").status_code == 404


# --- What each ciphertext is bound to (issue 13, item 6) -------------------------------


def test_every_private_text_is_bound_to_its_owner_and_who_may_read_it():
    bound = {(model.__name__, attribute.name): attribute.bind for model, attribute in REGISTRY}
    assert bound == {
        ("CoachingRelationship", "purpose"): ("coach_id", "organisation_id"),
        ("CoachingSession", "agenda"): ("relationship_id",),
        ("CoachingSession", "summary"): ("relationship_id",),
        ("Note", "body"): ("author_id", "relationship_id", "visibility"),
        ("NoteDraft", "body"): ("author_id",),
        ("ActionItem", "text"): ("relationship_id",),
        ("TalkingPoint", "text"): ("author_id", "relationship_id", "visibility"),
        ("CheckInResponse", "comment"): ("respondent_id", "round_id", "shared"),
        ("Reflection", "body"): ("author_id",),
        ("IntegrityCheck", "ratings_json"): ("author_id",),
        # Not private text, but it can carry a sign-in link: bound to where it goes.
        ("OutgoingEmail", "message_json"): ("idempotency_key", "recipients"),
        # Not private text, but a key to the organisation's sign-in: bound to the
        # provider it is for.
        ("SingleSignOn", "client_secret"): ("organisation_id", "issuer", "client_id"),
        ("SingleSignOn", "sp_private_key"): ("organisation_id", "idp_entity_id"),
        # Published before the provider's metadata is saved: bound to its organisation.
        ("SAMLKeyPair", "sp_private_key"): ("organisation_id",),
    }


def _flip_to_shared(response) -> None:
    """What someone with write access to the database, but not the keys, would do."""
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE reflections_checkinresponse SET shared = %s WHERE id = %s",
            [True, response.pk],
        )


@pytest.mark.parametrize("comment", ["Coachee-private-worry", ""])
def test_attack_flipping_shared_in_the_database_discloses_nothing(client, relationship, comment):
    coach, coachee = relationship.coach, relationship.coachee
    round_ = CheckInRoundFactory(relationship=relationship)
    CheckInResponseFactory(round=round_, respondent=coach, comment="Coach-shared-thought")
    private = CheckInResponseFactory(
        round=round_,
        respondent=coachee,
        shared=False,
        comment=comment,
        **dict.fromkeys(DIMENSION_KEYS, 1),
    )
    round_.closed_at = timezone.now()
    round_.save()
    pages = [
        reverse("checkin_detail", args=[round_.public_id]),
        reverse("relationship_detail", args=[relationship.public_id]),
        reverse("relationship_trend", args=[relationship.public_id]),
        reverse("integrity"),
    ]
    client.force_login(coach)

    before = {url: text(client.get(url)) for url in pages}
    export_before = json.loads(client.get(reverse("export_json")).content)
    _flip_to_shared(private)
    after = {url: client.get(url) for url in pages}
    export_after = client.get(reverse("export_json"))
    readable_after = client.get(reverse("export_html"))

    assert CheckInResponse.objects.get(pk=private.pk).shared, "the flag did flip"
    assert {url: r.status_code for url, r in after.items()} == dict.fromkeys(pages, 200)
    for url in pages:
        assert text(after[url]) == before[url], f"{url} shows the coach nothing new"
    assert json.loads(export_after.content)["checkins"] == export_before["checkins"]
    assert json.loads(export_after.content)["checkins"][0]["theirs"] is None
    assert "Theirs (shared with me): —" in text(readable_after)
    for response in [*after.values(), export_after, readable_after]:
        assert "Coachee-private-worry" not in response.content.decode()

    # The coachee's own pages say what happened instead of failing.
    client.force_login(coachee)
    own = client.get(pages[0])
    assert own.status_code == 200
    assert "altered outside Rapport, so your comment can't be shown" in text(own)
    assert client.get(reverse("export_json")).status_code == 200


def test_a_shared_answer_still_reaches_the_other_party(client, relationship):
    """The seal must not hide what was shared honestly (the other side of the test above)."""
    round_ = CheckInRoundFactory(relationship=relationship)
    CheckInResponseFactory(round=round_, respondent=relationship.coach)
    CheckInResponseFactory(
        round=round_, respondent=relationship.coachee, comment="Openly-said", reliability=1
    )
    client.force_login(relationship.coach)

    page = text(client.get(reverse("checkin_detail", args=[round_.public_id])))

    assert "Openly-said" in page and "Sam Coachee rated it 1" in page


def test_every_answer_is_sealed_even_without_a_comment():
    response = CheckInResponseFactory(comment="")

    assert response.comment_ciphertext.startswith("v2:")
    assert CheckInResponse.objects.get().comment == ""


def test_attack_session_text_moved_to_another_relationship_fails_to_decrypt():
    session = SessionFactory(agenda=CANARY, summary=CANARY)
    elsewhere = RelationshipFactory()

    CoachingSession.objects.filter(pk=session.pk).update(relationship=elsewhere)
    session.refresh_from_db()

    with pytest.raises(DecryptionError):
        session.agenda  # noqa: B018
    with pytest.raises(DecryptionError):
        session.summary  # noqa: B018


def test_attack_action_item_text_moved_to_another_relationship_fails_to_decrypt():
    item = ActionItemFactory(text=CANARY)
    elsewhere = RelationshipFactory()

    ActionItem.objects.filter(pk=item.pk).update(relationship=elsewhere)
    item.refresh_from_db()

    with pytest.raises(DecryptionError):
        item.text  # noqa: B018


def test_attack_checkin_comment_moved_to_another_respondent_fails_to_decrypt():
    response = CheckInResponseFactory(comment=CANARY)
    other = response.round.relationship.coachee

    CheckInResponse.objects.filter(pk=response.pk).update(respondent=other)
    response.refresh_from_db()

    with pytest.raises(DecryptionError):
        response.comment  # noqa: B018


def test_attack_purpose_moved_to_another_coach_fails_to_decrypt():
    relationship = RelationshipFactory(purpose=CANARY)
    intruder = RelationshipFactory().coach

    CoachingRelationship.objects.filter(pk=relationship.pk).update(coach=intruder)
    relationship.refresh_from_db()

    with pytest.raises(DecryptionError):
        relationship.purpose  # noqa: B018


def _sealed_as_before_data_keys(note: Note) -> Note:
    """The note as a row written before data keys: sealed with the master key (`v1`)."""
    note.body_ciphertext = encrypt(note.body, associated_data=Note.body.associated_data(note))
    Note.objects.filter(pk=note.pk).update(body_ciphertext=note.body_ciphertext)
    return note


def test_rotation_puts_rows_from_before_data_keys_under_their_owners_keys(settings):
    private = _sealed_as_before_data_keys(NoteFactory(body=CANARY))
    shared = _sealed_as_before_data_keys(NoteFactory(body="Shared", visibility="shared"))
    settings.RAPPORT_ENCRYPTION_KEYS = f"{_new_key()},{settings.RAPPORT_ENCRYPTION_KEYS}"

    call_command("rotate_encryption_keys", stdout=io.StringIO())

    settings.RAPPORT_ENCRYPTION_KEYS = settings.RAPPORT_ENCRYPTION_KEYS.split(",")[0]
    for note, owner in (
        (private, ("person", private.author_id)),
        (shared, ("relationship", shared.relationship_id)),
    ):
        note.refresh_from_db()
        assert note.body_ciphertext.startswith("v2:")
        key = DataKey.objects.get(pk=key_id_of(note.body_ciphertext))
        assert (key.owner_kind, key.owner_id) == owner
    assert (private.body, shared.body) == (CANARY, "Shared")


def test_rotation_skips_and_reports_an_undecryptable_row_then_finishes(settings):
    first = _sealed_as_before_data_keys(NoteFactory(body="First"))
    broken = _sealed_as_before_data_keys(NoteFactory(body=CANARY))
    last = _sealed_as_before_data_keys(NoteFactory(body="Last"))
    Note.objects.filter(pk=broken.pk).update(visibility="shared")  # no longer decrypts
    broken_ciphertext = broken.body_ciphertext
    settings.RAPPORT_ENCRYPTION_KEYS = f"{_new_key()},{settings.RAPPORT_ENCRYPTION_KEYS}"
    out, err = io.StringIO(), io.StringIO()

    with pytest.raises(CommandError, match="1 private text"):
        call_command("rotate_encryption_keys", stdout=out, stderr=err)

    for note in (first, last):
        note.refresh_from_db()
        assert note.body_ciphertext.startswith("v2:"), "the rest were rotated"
    assert (first.body, last.body) == ("First", "Last")
    assert Note.objects.get(pk=broken.pk).body_ciphertext == broken_ciphertext, "left alone"
    assert f"Skipped relationships.Note {broken.public_id} body" in err.getvalue()
    assert "relationships.Note.body: 2 re-encrypted" in out.getvalue()
    assert "drinking" not in out.getvalue() + err.getvalue()
