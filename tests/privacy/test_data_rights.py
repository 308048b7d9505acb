import json

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import AuditEvent, Invitation, Membership, User
from notifications.models import Notification
from reflections.models import CheckInResponse, Reflection
from relationships.models import (
    CoachingRelationship,
    CoachingSession,
    Note,
    NoteDraft,
    TalkingPoint,
)
from tests.factories import (
    TEST_PASSWORD,
    ActionItemFactory,
    CheckInResponseFactory,
    CheckInRoundFactory,
    InvitationFactory,
    NoteDraftFactory,
    NoteFactory,
    ReflectionFactory,
    ScheduledSessionFactory,
    SessionFactory,
    TalkingPointFactory,
)
from tests.helpers import links_in_last_email, path_of, text

pytestmark = pytest.mark.django_db


@pytest.fixture
def history(relationship):
    session = SessionFactory(relationship=relationship, summary="Shared summary")
    NoteFactory(relationship=relationship, body="Coach private")
    NoteFactory(relationship=relationship, body="Coach shared", visibility="shared")
    NoteFactory(relationship=relationship, author=relationship.coachee, body="Coachee private")
    NoteFactory(
        relationship=relationship,
        author=relationship.coachee,
        body="Coachee shared",
        visibility="shared",
    )
    ActionItemFactory(relationship=relationship, text="Do the thing")
    scheduled = ScheduledSessionFactory(relationship=relationship, duration_minutes=30)
    TalkingPointFactory(scheduled=scheduled, text="Coach point", visibility="private")
    TalkingPointFactory(scheduled=scheduled, author=relationship.coachee, text="Coachee point")
    round_ = CheckInRoundFactory(relationship=relationship)
    CheckInResponseFactory(round=round_, respondent=relationship.coach, comment="Coach comment")
    CheckInResponseFactory(
        round=round_, respondent=relationship.coachee, comment="Unshared", shared=False
    )
    ReflectionFactory(author=relationship.coachee, body="Coachee journal")
    NoteDraftFactory(relationship=relationship, author=relationship.coachee, body="Half")
    return session


def test_export_has_what_i_wrote_or_can_read_and_nothing_else(client, relationship, history):
    for person, other in ((relationship.coachee, relationship.coach), (relationship.coach, None)):
        Notification.objects.create(
            recipient=person, actor=other, kind="shared_note", verb="shared a note with you",
            link="/", key="export",
        )  # fmt: skip
    client.force_login(relationship.coachee)

    response = client.get(reverse("export_json"))

    assert response["Content-Disposition"] == 'attachment; filename="rapport-my-data.json"'
    data = json.loads(response.content)
    bodies = {n["body"] for n in data["notes"]}
    assert bodies == {"Coachee private", "Coachee shared", "Coach shared"}
    assert data["sessions"][0]["summary"] == "Shared summary"
    assert data["action_items"][0]["text"] == "Do the thing"
    assert data["scheduled_sessions"][0]["duration_minutes"] == 30
    assert [p["text"] for p in data["talking_points"]] == ["Coachee point"]
    assert [n["message"] for n in data["notifications"]] == [
        f"{relationship.coach.name} shared a note with you"
    ]
    assert data["checkins"][0]["mine"]["comment"] == "Unshared"
    assert data["checkins"][0]["theirs"]["comment"] == "Coach comment"
    assert data["reflections"][0]["body"] == "Coachee journal"
    assert data["drafts"][0]["body"] == "Half"
    assert "Coach private" not in response.content.decode()
    assert "Coach point" not in response.content.decode()
    assert AuditEvent.objects.filter(action="data.exported", subject=relationship.coachee).exists()


def test_the_other_party_never_gets_my_unshared_answers_in_their_export(
    client, relationship, history
):
    client.force_login(relationship.coach)

    export = client.get(reverse("export_json")).content.decode()
    readable = client.get(reverse("export_html")).content.decode()

    for page in (export, readable):
        assert "Unshared" not in page
        assert "Coachee private" not in page and "Coachee journal" not in page
    assert json.loads(export)["checkins"][0]["theirs"] is None


def test_the_readable_export_escapes_stored_text(client, relationship):
    NoteFactory(relationship=relationship, body="<script>alert(1)</script>")
    client.force_login(relationship.coach)

    page = client.get(reverse("export_html")).content.decode()

    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_deleting_an_account_needs_the_password_again(client, relationship):
    client.force_login(relationship.coachee)

    response = client.post(reverse("delete_account"), {"confirm": "delete"})

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_reauthenticate"))
    assert relationship.coachee.is_active


def _delete(client, user):
    client.post(reverse("account_login"), {"login": user.email, "password": TEST_PASSWORD})
    client.post(reverse("account_reauthenticate"), {"password": TEST_PASSWORD})
    return client.post(reverse("delete_account"), {"confirm": "delete"})


def test_deleting_an_account_removes_what_they_wrote_and_keeps_the_other_partys(
    relationship, history
):
    coachee, coach = relationship.coachee, relationship.coach
    browser = Client()

    response = _delete(browser, coachee)

    assert response["Location"] == reverse("account_login")
    coachee.refresh_from_db()
    assert not coachee.is_active and coachee.display_name == "Former member"
    assert "@deleted.invalid" in coachee.email
    assert not Note.objects.filter(author=coachee).exists()
    assert not NoteDraft.objects.filter(author=coachee).exists()
    assert not TalkingPoint.objects.filter(author=coachee).exists()
    assert not Reflection.objects.filter(author=coachee).exists()
    assert not CheckInResponse.objects.filter(respondent=coachee).exists()
    assert not Membership.objects.filter(user=coachee).exists()
    relationship.refresh_from_db()
    assert relationship.status == CoachingRelationship.Status.ENDED
    assert Note.objects.filter(author=coach).count() == 2, "the coach keeps their notes"
    assert CoachingSession.objects.filter(relationship=relationship).exists()
    event = AuditEvent.objects.get(action="account.deleted")
    assert event.actor is None and event.subject is None
    assert browser.get(reverse("home")).status_code == 302, "signed out"
    coach_view = Client()
    coach_view.force_login(coach)
    page = text(coach_view.get(reverse("relationship_detail", args=[relationship.public_id])))
    assert "Former member" in page and "Coachee shared" not in page


def test_a_deleted_account_cannot_sign_in_again(relationship):
    email = relationship.coachee.email
    _delete(Client(), relationship.coachee)

    browser = Client()
    browser.post(reverse("account_login"), {"login": email, "password": TEST_PASSWORD})

    assert browser.get(reverse("home")).status_code == 302


def test_hr_can_deactivate_a_member_but_reads_nothing_of_theirs(hr_client, relationship):
    membership = relationship.coachee.membership

    hr_client.post(reverse("member_active", args=[membership.public_id]), {"active": "0"})

    relationship.coachee.refresh_from_db()
    assert not relationship.coachee.is_active
    browser = Client()
    browser.post(
        reverse("account_login"), {"login": relationship.coachee.email, "password": TEST_PASSWORD}
    )
    assert browser.get(reverse("home")).status_code == 302
    assert (
        hr_client.get(reverse("relationship_detail", args=[relationship.public_id])).status_code
        == 404
    )
    hr_client.post(reverse("member_active", args=[membership.public_id]), {"active": "1"})
    relationship.coachee.refresh_from_db()
    assert relationship.coachee.is_active


def test_hr_cannot_deactivate_themselves(hr_client, hr_admin):
    hr_client.post(reverse("member_active", args=[hr_admin.membership.public_id]), {"active": "0"})

    hr_admin.refresh_from_db()
    assert hr_admin.is_active


def test_a_password_change_ends_the_persons_other_sessions(member):
    laptop, phone = Client(), Client()
    for browser in (laptop, phone):
        browser.post(reverse("account_login"), {"login": member.email, "password": TEST_PASSWORD})
    assert phone.get(reverse("home")).status_code == 200

    laptop.post(
        reverse("account_change_password"),
        {
            "oldpassword": TEST_PASSWORD,
            "password1": "a-brand-new-passphrase-7",
            "password2": "a-brand-new-passphrase-7",
        },
    )

    assert laptop.get(reverse("home")).status_code == 200, "the session that changed it stays"
    assert phone.get(reverse("home")).status_code == 302, "every other session ends"


def test_attack_a_deleted_persons_address_stays_in_hrs_invitation_list(
    hr_client, organisation, django_capture_on_commit_callbacks
):
    """They joined through an invitation; HR's list of invitations showed their email
    address long after they deleted their account."""
    with django_capture_on_commit_callbacks(execute=True):
        hr_client.post(
            reverse("invitation_create"),
            {"invite-email": "leaver@example.com", "invite-role": "member", "invite-team": ""},
        )
    newcomer = Client()
    newcomer.post(path_of(links_in_last_email("leaver@example.com")[0]))
    newcomer.post(
        reverse("account_signup"),
        {
            "display_name": "Lee Leaver",
            "email": "leaver@example.com",
            "password1": TEST_PASSWORD,
            "password2": TEST_PASSWORD,
        },
    )
    leaver = User.objects.get(email="leaver@example.com")
    assert "leaver@example.com" in text(hr_client.get(reverse("organisation")))

    _delete(Client(), leaver)

    page = text(hr_client.get(reverse("organisation")))
    assert "leaver@example.com" not in page
    assert not Invitation.objects.filter(email__iexact="leaver@example.com").exists()


def test_a_deleted_persons_outstanding_invitations_are_withdrawn_not_reusable(
    organisation, relationship
):
    """Invitations to their address still outstanding when they left must not stay usable
    under a scrubbed address, nor may scrubbed rows share one address; another
    organisation's invitation to the same address is not touched (its HR must not learn
    that the address left Rapport)."""
    leaver = relationship.coachee
    address = leaver.email
    InvitationFactory(organisation=organisation, email=address, token="first")
    InvitationFactory(organisation=organisation, email=address, token="second")
    elsewhere = InvitationFactory(email=address, token="elsewhere")

    _delete(Client(), leaver)

    scrubbed = Invitation.objects.filter(organisation=organisation, email__endswith=".invalid")
    assert scrubbed.count() == 2
    assert len({i.email for i in scrubbed}) == 2, "each row has an address of its own"
    assert not scrubbed.filter(revoked_at__isnull=True).exists(), "none can still be used"
    elsewhere.refresh_from_db()
    assert elsewhere.email == address and elsewhere.revoked_at is None
