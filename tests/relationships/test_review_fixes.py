"""Regression tests for the findings of the privacy review of the relationships code."""

import uuid

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import Invitation
from privacy.encryption import DecryptionError
from relationships.models import CoachingRelationship, CoachingSession, Note, NoteDraft
from tests.factories import NoteFactory, RelationshipFactory
from tests.helpers import text

pytestmark = pytest.mark.django_db


def test_a_coachs_email_invitation_keeps_hrs_pending_invitation(
    hr_admin, coach_client, organisation, team
):
    hr_client = Client()
    hr_client.force_login(hr_admin)
    hr_client.post(
        reverse("invitation_create"),
        {
            "invite-email": "lee@example.com",
            "invite-role": "hr_admin",
            "invite-team": team.public_id,
        },
    )
    hr_invitation = Invitation.objects.get()

    coach_client.post(
        reverse("relationship_invite"), {"email": "lee@example.com", "purpose": "Hello"}
    )

    hr_invitation.refresh_from_db()
    assert hr_invitation.is_pending and hr_invitation.role == "hr_admin"
    assert Invitation.objects.count() == 1
    assert CoachingRelationship.objects.get().invitation == hr_invitation


def test_the_coaching_invitation_reaches_someone_who_joins_through_another_invitation(
    coach_client, organisation, django_capture_on_commit_callbacks
):
    coach_client.post(
        reverse("relationship_invite"), {"email": "lee@example.com", "purpose": "Hello"}
    )
    Invitation.objects.update(revoked_at=None)
    from tests.factories import InvitationFactory

    InvitationFactory(organisation=organisation, email="lee@example.com", token="hr-token")
    newcomer = Client()
    newcomer.post(reverse("invitation_accept", args=["hr-token"]))
    newcomer.post(
        reverse("account_signup"),
        {
            "display_name": "Lee",
            "email": "lee@example.com",
            "password1": "correct-horse-battery-9",
            "password2": "correct-horse-battery-9",
        },
    )

    assert CoachingRelationship.objects.get().coachee.email == "lee@example.com"


def test_focus_changes_never_put_typed_text_in_the_url(coach_client, relationship):
    html = coach_client.get(
        reverse("session_create", args=[relationship.public_id])
    ).content.decode()

    assert "hx-get" not in html.split('name="focus"')[1].split(">")[0]
    response = coach_client.get(
        reverse("session_create", args=[relationship.public_id]),
        {"focus": "other", "summary": "secret summary", "agenda": "secret agenda"},
    )
    assert "secret summary" not in response.content.decode()
    assert "secret agenda" not in response.content.decode()


def test_a_late_autosave_cannot_resurrect_the_draft_of_a_saved_note(coach_client, relationship):
    token = uuid.uuid4()
    coach_client.post(
        reverse("note_create", args=[relationship.public_id]),
        {"body": "Saved words", "visibility": "private", "client_token": token},
    )

    coach_client.post(
        reverse("note_draft", args=[relationship.public_id]),
        {"client_token": token, "body": "Saved words and a late keystroke"},
    )

    assert not NoteDraft.objects.exists()
    assert Note.objects.get().body == "Saved words"


def test_drafts_can_be_erased_after_the_relationship_ended(coach_client, relationship):
    draft_key = uuid.uuid4()
    coach_client.post(
        reverse("note_draft", args=[relationship.public_id]),
        {"client_token": draft_key, "body": "Unfinished"},
    )
    relationship.status = CoachingRelationship.Status.ENDED
    relationship.save()

    coach_client.post(
        reverse("note_draft", args=[relationship.public_id]),
        {"client_token": draft_key, "body": ""},
    )

    assert not NoteDraft.objects.exists()


def test_the_other_partys_session_token_cannot_swallow_my_session(client, relationship):
    token = uuid.uuid4()
    today = timezone.localdate().isoformat()  # sessions are not dated in the future
    form = {"held_on": today, "duration_minutes": "45", "focus": "other", "agenda": ""}
    client.force_login(relationship.coach)
    client.post(
        reverse("session_create", args=[relationship.public_id]),
        {**form, "summary": "Coach's", "client_token": token},
    )
    client.force_login(relationship.coachee)
    client.post(
        reverse("session_create", args=[relationship.public_id]),
        {**form, "summary": "Coachee's", "client_token": token},
    )

    assert sorted(s.summary for s in CoachingSession.objects.all()) == ["Coach's", "Coachee's"]


def test_a_withdrawn_invitation_shows_no_history_to_the_invitee(
    client, coach, coachee, organisation
):
    relationship = RelationshipFactory(
        organisation=organisation, coach=coach, coachee=coachee, status="invited"
    )
    client.force_login(coach)
    client.post(
        reverse("relationship_transition", args=[relationship.public_id]), {"action": "withdraw"}
    )
    client.force_login(coachee)

    listing = text(client.get(reverse("relationship_list")))

    relationship.refresh_from_db()
    assert relationship.status == CoachingRelationship.Status.WITHDRAWN
    assert "Coaching me" in listing and "Casey Coach" not in listing.split("Coaching me")[1]


def test_answering_an_invitation_needs_an_explicit_answer(client, coach, coachee, organisation):
    relationship = RelationshipFactory(
        organisation=organisation, coach=coach, coachee=coachee, status="invited"
    )
    client.force_login(coachee)

    response = client.post(
        reverse("relationship_respond", args=[relationship.public_id]), {}, follow=True
    )

    assert "Choose Accept or Decline." in text(response)
    relationship.refresh_from_db()
    assert relationship.status == CoachingRelationship.Status.INVITED


def test_a_truncated_ciphertext_fails_cleanly():
    note = NoteFactory()
    Note.objects.filter(pk=note.pk).update(
        body_ciphertext=note.body_ciphertext.split(":")[0]
        + ":"
        + note.body_ciphertext.split(":")[1]
        + ":AAAA"
    )
    note.refresh_from_db()

    with pytest.raises(DecryptionError):
        note.body  # noqa: B018


def test_a_note_made_shared_in_the_database_cannot_be_read():
    """The ciphertext is bound to its visibility: flipping it without the key fails."""
    note = NoteFactory(body="Private thought")

    Note.objects.filter(pk=note.pk).update(visibility="shared")
    note.refresh_from_db()

    with pytest.raises(DecryptionError):
        note.body  # noqa: B018


def test_rotation_never_undoes_a_concurrent_edit(settings):
    from privacy import rotation

    note = NoteFactory(body="Before")
    original_update = rotation.transaction.atomic

    class EditFirst:
        """Simulate an edit landing between rotation's read and its write."""

        def __init__(self):
            self.inner = original_update()

        def __enter__(self):
            fresh = Note.objects.get(pk=note.pk)
            fresh.body = "Edited meanwhile"
            Note.objects.filter(pk=note.pk).update(body_ciphertext=fresh.body_ciphertext)
            return self.inner.__enter__()

        def __exit__(self, *exc):
            return self.inner.__exit__(*exc)

    import base64
    import os

    settings.RAPPORT_ENCRYPTION_KEYS = (
        base64.urlsafe_b64encode(os.urandom(32)).decode() + "," + settings.RAPPORT_ENCRYPTION_KEYS
    )
    rotation.transaction.atomic = EditFirst
    try:
        rotation.rotate_all()
    finally:
        rotation.transaction.atomic = original_update

    note.refresh_from_db()
    assert note.body == "Edited meanwhile"


def test_a_refused_object_is_logged_without_its_content(other_coach_client, relationship, caplog):
    note = NoteFactory(relationship=relationship, body="The private words")

    with caplog.at_level("WARNING", logger="rapport.access"):
        response = other_coach_client.get(reverse("note_edit", args=[note.public_id]))
        missing = other_coach_client.get(reverse("note_edit", args=[uuid.uuid4()]))

    assert (response.status_code, missing.status_code) == (404, 404)
    refusals = [r.getMessage() for r in caplog.records if r.name == "rapport.access"]
    assert refusals == [
        f"Refused relationships.note {note.public_id} to user {response.wsgi_request.user.pk}"
    ]
    assert "private words" not in caplog.text
