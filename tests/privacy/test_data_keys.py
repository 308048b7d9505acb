"""Per-person and per-relationship data keys, and crypto-shredding (issue 18)."""

import io
import json

import pytest
from django.core.management import call_command
from django.db import OperationalError, connections
from django.test import Client
from django.urls import reverse

from privacy import keys
from privacy.encryption import DecryptionError, key_id_of, newest_key_id
from privacy.models import DataKey
from reflections.models import CheckInResponse, IntegrityCheck, Reflection
from relationships.models import ActionItem, CoachingSession, Note, NoteDraft, TalkingPoint
from tests.factories import (
    ActionItemFactory,
    CheckInResponseFactory,
    CheckInRoundFactory,
    IntegrityCheckFactory,
    NoteDraftFactory,
    NoteFactory,
    ReflectionFactory,
    SessionFactory,
    TalkingPointFactory,
    UserFactory,
)
from tests.helpers import text
from tests.privacy.test_data_rights import _delete
from tests.privacy.test_encryption import _new_key

pytestmark = pytest.mark.django_db
CANARY = "canary: I am thinking of leaving"


def _owner_of(ciphertext: str) -> tuple[str, int]:
    key = DataKey.objects.get(pk=key_id_of(ciphertext))
    return key.owner_kind, key.owner_id


def test_private_text_is_sealed_with_its_authors_key_and_shared_text_with_the_relationships(
    relationship,
):
    coach, coachee = relationship.coach, relationship.coachee
    session = SessionFactory(relationship=relationship, agenda="Agenda", summary="Summary")
    private_note = NoteFactory(relationship=relationship, author=coachee)
    shared_note = NoteFactory(relationship=relationship, visibility=Note.Visibility.SHARED)
    private_point = TalkingPointFactory(
        scheduled__relationship=relationship, visibility=TalkingPoint.Visibility.PRIVATE
    )
    shared_point = TalkingPointFactory(scheduled__relationship=relationship, author=coachee)
    item = ActionItemFactory(relationship=relationship)
    draft = NoteDraftFactory(relationship=relationship)
    answer = CheckInResponseFactory(
        round=CheckInRoundFactory(relationship=relationship), respondent=coachee, comment="Hm"
    )
    reflection = ReflectionFactory(author=coachee)
    integrity = IntegrityCheckFactory(author=coach)
    person = keys.PERSON
    shared = (keys.RELATIONSHIP, relationship.pk)

    assert {
        "a session's agenda": _owner_of(session.agenda_ciphertext),
        "a session's summary": _owner_of(session.summary_ciphertext),
        "a private note": _owner_of(private_note.body_ciphertext),
        "a shared note": _owner_of(shared_note.body_ciphertext),
        "a private talking point": _owner_of(private_point.text_ciphertext),
        "a shared talking point": _owner_of(shared_point.text_ciphertext),
        "an action item": _owner_of(item.text_ciphertext),
        "a note's draft": _owner_of(draft.body_ciphertext),
        "a check-in answer": _owner_of(answer.comment_ciphertext),
        "a journal entry": _owner_of(reflection.body_ciphertext),
        "an integrity self-check": _owner_of(integrity.ratings_ciphertext),
    } == {
        "a session's agenda": shared,
        "a session's summary": shared,
        "a private note": (person, coachee.pk),
        "a shared note": shared,
        "a private talking point": (person, coach.pk),
        "a shared talking point": shared,
        "an action item": shared,
        "a note's draft": (person, coach.pk),
        "a check-in answer": (person, coachee.pk),
        "a journal entry": (person, coachee.pk),
        "an integrity self-check": (person, coach.pk),
    }
    assert DataKey.objects.filter(owner_kind=person, owner_id=coach.pk).count() == 1, (
        "one key per person, made once"
    )


def test_the_data_keys_live_in_a_database_of_their_own_and_only_wrapped():
    note = NoteFactory(body=CANARY)
    key = DataKey.objects.get(pk=key_id_of(note.body_ciphertext))

    assert "privacy_datakey" in connections["keys"].introspection.table_names()
    assert "privacy_datakey" not in connections["default"].introspection.table_names(), (
        "a backup of the main database holds no key"
    )
    assert key.wrapped.startswith(f"v1:{newest_key_id()}:"), "wrapped by the master key"


def test_a_data_key_moved_to_another_owner_does_not_unwrap(relationship):
    note = NoteFactory(relationship=relationship, body=CANARY)
    key_id = key_id_of(note.body_ciphertext)
    DataKey.objects.filter(pk=key_id).update(owner_id=relationship.coachee.pk)
    keys.forget_all()  # as a process that has not unwrapped it yet

    with pytest.raises(DecryptionError):
        Note.objects.get(pk=note.pk).body  # noqa: B018


def test_text_relabelled_with_another_persons_key_does_not_decrypt(relationship):
    mine = NoteFactory(relationship=relationship, body=CANARY)
    theirs = NoteFactory(relationship=relationship, author=relationship.coachee)
    _, key_id, payload = mine.body_ciphertext.split(":", 2)
    Note.objects.filter(pk=mine.pk).update(
        body_ciphertext=f"v2:{key_id_of(theirs.body_ciphertext)}:{payload}"
    )

    with pytest.raises(DecryptionError):
        Note.objects.get(pk=mine.pk).body  # noqa: B018


def test_deleting_an_account_destroys_the_persons_key_and_no_one_elses(
    relationship, django_capture_on_commit_callbacks
):
    coach, coachee = relationship.coach, relationship.coachee
    session = SessionFactory(relationship=relationship, summary="What we both saw")
    NoteFactory(relationship=relationship, session=session, author=coachee, body=CANARY)
    NoteFactory(relationship=relationship, session=session, body="The coach's own")

    with django_capture_on_commit_callbacks(execute=True):
        response = _delete(Client(), coachee)

    assert response["Location"] == reverse("account_login")
    owners = set(DataKey.objects.values_list("owner_kind", "owner_id"))
    assert (keys.PERSON, coachee.pk) not in owners
    assert {(keys.PERSON, coach.pk), (keys.RELATIONSHIP, relationship.pk)} <= owners
    coach_view = Client()
    coach_view.force_login(coach)
    page = text(coach_view.get(reverse("session_detail", args=[session.public_id])))
    assert "The coach's own" in page and "What we both saw" in page


def test_a_backup_taken_before_a_deletion_cannot_be_read_after_it(
    relationship, django_capture_on_commit_callbacks, tmp_path
):
    """The issue's test: a copy of the main database from before the deletion, restored,
    holds the person's text, and the current keys cannot read it."""
    coachee = relationship.coachee
    note = NoteFactory(relationship=relationship, author=coachee, body=CANARY)
    reflection = ReflectionFactory(author=coachee, body=CANARY)
    session = SessionFactory(relationship=relationship, summary="What we both saw")
    backup = tmp_path / "backup.json"
    apps = ["accounts", "relationships", "reflections"]
    call_command("dumpdata", *apps, database="default", output=str(backup))
    assert CANARY not in backup.read_text(), "encrypted in the backup too"

    with django_capture_on_commit_callbacks(execute=True):
        _delete(Client(), coachee)
    assert not Note.objects.filter(pk=note.pk).exists()
    call_command("loaddata", str(backup), database="default", verbosity=0)  # the restore

    restored_note = Note.objects.get(pk=note.pk)
    assert restored_note.body_ciphertext == note.body_ciphertext, "the backup has the text"
    with pytest.raises(DecryptionError, match="destroyed"):
        restored_note.body  # noqa: B018
    with pytest.raises(DecryptionError, match="destroyed"):
        Reflection.objects.get(pk=reflection.pk).body  # noqa: B018
    assert CoachingSession.objects.get(pk=session.pk).summary == "What we both saw", (
        "the relationship's shared text, which the other person keeps, still reads"
    )
    records = json.loads(backup.read_text())
    assert not any(record["model"] == "privacy.datakey" for record in records)


def test_a_key_store_down_at_deletion_does_not_undo_it_and_the_scheduled_run_destroys_the_key(
    relationship, django_capture_on_commit_callbacks, monkeypatch
):
    coachee = relationship.coachee
    NoteFactory(relationship=relationship, author=coachee, body=CANARY)
    live = UserFactory()
    ReflectionFactory(author=live)

    def key_store_down(*args, **kwargs):
        raise OperationalError("the key store is unreachable")

    with monkeypatch.context() as patched:
        patched.setattr(keys, "destroy", key_store_down)
        with django_capture_on_commit_callbacks(execute=True):
            response = _delete(Client(), coachee)

    assert response["Location"] == reverse("account_login"), "the deletion stands"
    assert DataKey.objects.filter(owner_kind=keys.PERSON, owner_id=coachee.pk).exists()
    out = io.StringIO()

    call_command("run_checkins", stdout=out)

    assert not DataKey.objects.filter(owner_kind=keys.PERSON, owner_id=coachee.pk).exists()
    assert DataKey.objects.filter(owner_kind=keys.PERSON, owner_id=live.pk).exists()
    assert "Destroyed 1 data key(s) of deleted accounts." in out.getvalue()


def test_rotation_rewraps_the_data_keys_and_says_how_long_it_took(settings):
    notes = NoteFactory.create_batch(3)
    sealed = [note.body_ciphertext for note in notes]
    settings.RAPPORT_ENCRYPTION_KEYS = f"{_new_key()},{settings.RAPPORT_ENCRYPTION_KEYS}"
    out = io.StringIO()

    call_command("rotate_encryption_keys", stdout=out)

    assert f"Data keys: {DataKey.objects.count()} re-wrapped in " in out.getvalue()
    assert [Note.objects.get(pk=n.pk).body_ciphertext for n in notes] == sealed
    assert set(DataKey.objects.values_list("wrapped", flat=True)) and all(
        wrapped.startswith(f"v1:{newest_key_id()}:")
        for wrapped in DataKey.objects.values_list("wrapped", flat=True)
    )


def test_every_model_with_an_owner_is_covered_above():
    """A new private field must say whose key seals it, and be added to the test above."""
    from privacy.encryption import REGISTRY

    with_owner = {model for model, attribute in REGISTRY if attribute.owner is not None}
    assert with_owner == {
        CoachingSession,
        Note,
        NoteDraft,
        ActionItem,
        TalkingPoint,
        CheckInResponse,
        Reflection,
        IntegrityCheck,
    }
