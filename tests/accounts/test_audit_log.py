"""HR's audit log holds organisational events only, in plain words; relationship events
are for the two parties, on "Activity about you"."""

import re
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from accounts.audit_words import SENTENCES
from accounts.models import AuditEvent, Membership
from accounts.services import audit_log_verify
from privacy.services import account_delete
from relationships.models import CoachingRelationship
from tests.factories import (
    HRAdminMembershipFactory,
    MembershipFactory,
    RelationshipFactory,
    TeamFactory,
    UserFactory,
)
from tests.helpers import text

pytestmark = pytest.mark.django_db

# An event code as the old page printed it: "relationship.ended", "invitation.created".
EVENT_CODE = re.compile(r"\b[a-z_]+\.[a-z_]+\b")


def _signed_in(user) -> Client:
    """A browser of its own, signed in as `user`."""
    client = Client()
    client.force_login(user)
    return client


def _audit_page(client, user) -> str:
    client.force_login(user)
    response = client.get(reverse("organisation_audit"))
    assert response.status_code == 200
    return text(response)


def _table(page: str) -> str:
    """The events' rows, without the page's own explanations."""
    if "When What happened" not in page:
        return ""
    return page.split("When What happened", 1)[1].split("Our promise", 1)[0]


def _legacy_event(**fields) -> AuditEvent:
    """A row as the old code wrote it (relationship events carried the organisation),
    chained like any other."""
    last = AuditEvent.objects.order_by("-id").first()
    event = AuditEvent(previous_hash=last.hash if last else "", **fields)
    event.hash = event.compute_hash()
    event.save()
    return event


def test_attack_hr_reads_who_ended_coaching_in_the_audit_log_is_refused(client, organisation):
    relationship = RelationshipFactory(organisation=organisation)
    hr = HRAdminMembershipFactory(organisation=organisation, user__display_name="Harper HR").user
    coachee = _signed_in(relationship.coachee)
    coachee.post(
        reverse("relationship_transition", args=[relationship.public_id]), {"action": "end"}
    )
    relationship.refresh_from_db()
    assert relationship.status == CoachingRelationship.Status.ENDED
    # And one row the old code wrote, with the organisation on it.
    _legacy_event(
        organisation=organisation,
        actor=relationship.coach,
        subject=relationship.coachee,
        action="relationship.declined",
        target_type="relationships.coachingrelationship",
        target_id=relationship.public_id,
    )

    _signed_in(hr).get(reverse("insights_dashboard"))

    page = _audit_page(client, hr)

    assert "You looked at the anonymous trends" in _table(page)
    for leak in ("ended", "declined", "coaching", "relationship", "Sam Coachee", "Casey Coach"):
        assert leak not in _table(page), leak
    # The parties still see it, in words.
    activity = text(_signed_in(relationship.coach).get(reverse("my_activity")))
    assert "Sam Coachee ended coaching with you" in activity


def test_relationship_events_are_recorded_without_an_organisation(organisation):
    relationship = RelationshipFactory(organisation=organisation)
    _signed_in(relationship.coach).post(
        reverse("relationship_transition", args=[relationship.public_id]), {"action": "pause"}
    )

    events = AuditEvent.objects.filter(action__startswith="relationship.")
    assert list(events.values_list("action", "organisation")) == [("relationship.paused", None)]
    assert not AuditEvent.objects.filter(organisation=organisation).exists()
    assert audit_log_verify() == []


def test_activity_about_you_leaves_out_the_other_partys_other_relationships(organisation):
    relationship = RelationshipFactory(organisation=organisation)
    elsewhere = RelationshipFactory(
        organisation=organisation,
        coach=relationship.coach,
        coachee=MembershipFactory(organisation=organisation, user__display_name="Robin Other").user,
    )
    _signed_in(elsewhere.coachee).post(
        reverse("relationship_transition", args=[elsewhere.public_id]), {"action": "end"}
    )

    coachee_activity = text(_signed_in(relationship.coachee).get(reverse("my_activity")))
    coach_activity = text(_signed_in(relationship.coach).get(reverse("my_activity")))

    assert "Robin Other" not in coachee_activity
    assert "ended" not in coachee_activity
    assert "Robin Other ended coaching with you" in coach_activity


def test_hr_audit_log_says_what_happened_in_plain_words(client, organisation):
    platform = TeamFactory(organisation=organisation, name="Platform")
    mobile = TeamFactory(organisation=organisation, name="Mobile")
    harper = HRAdminMembershipFactory(
        organisation=organisation, user__display_name="Harper HR"
    ).user
    reader = HRAdminMembershipFactory(
        organisation=organisation, user__display_name="Riley Reader"
    ).user
    sam = MembershipFactory(organisation=organisation, team=platform, user__display_name="Sam Lee")
    hr = _signed_in(harper)

    hr.post(
        reverse("membership_update", args=[sam.public_id]),
        {"team": str(mobile.public_id), "role": Membership.Role.MEMBER},
    )
    hr.post(
        reverse("organisation_settings"),
        {"org-name": organisation.name, "org-anonymity_threshold": "7", "org-email_domains": ""},
    )
    hr.post(
        reverse("invitation_create"),
        {"invite-email": "new.person@example.com", "invite-role": Membership.Role.MEMBER},
    )
    hr.get(reverse("insights_export"))
    hr.post(reverse("team_create"), {"team-name": "Data"})

    table = _table(_audit_page(client, reader))

    assert "Harper HR moved Sam Lee from Platform to Mobile" in table
    assert "Harper HR raised the minimum group size from 5 to 7" in table
    assert "Harper HR sent an invitation to join" in table
    assert "Harper HR downloaded the anonymous trends" in table
    assert "Harper HR created the team Data" in table
    assert not EVENT_CODE.search(table), EVENT_CODE.search(table)
    # The one who did it reads "You".
    assert "You moved Sam Lee from Platform to Mobile" in _table(_audit_page(client, harper))


def test_a_team_move_is_recorded_with_the_names_it_had_then(client, organisation):
    platform = TeamFactory(organisation=organisation, name="Platform")
    mobile = TeamFactory(organisation=organisation, name="Mobile")
    harper = HRAdminMembershipFactory(organisation=organisation, user__display_name="Harper HR")
    sam = MembershipFactory(organisation=organisation, team=platform, user__display_name="Sam Lee")

    _signed_in(harper.user).post(
        reverse("membership_update", args=[sam.public_id]),
        {"team": "", "role": Membership.Role.MEMBER},
    )
    _signed_in(harper.user).post(
        reverse("membership_update", args=[sam.public_id]),
        {"team": str(mobile.public_id), "role": Membership.Role.MEMBER},
    )
    platform.name = "Platform (renamed)"
    platform.save()

    event = AuditEvent.objects.filter(action="membership.team_changed").order_by("id").first()
    assert (event.actor, event.subject, event.organisation) == (harper.user, sam.user, organisation)
    assert event.details == {"from_team": "Platform", "to_team": None}
    table = _table(_audit_page(client, harper.user))
    assert "You moved Sam Lee from Platform to no team" in table
    assert "You moved Sam Lee from no team to Mobile" in table
    # Sam sees it too.
    assert "Harper HR moved you from no team to Mobile" in text(
        _signed_in(sam.user).get(reverse("my_activity"))
    )
    assert audit_log_verify() == []


def test_an_edited_team_move_breaks_the_chain(organisation):
    platform = TeamFactory(organisation=organisation, name="Platform")
    harper = HRAdminMembershipFactory(organisation=organisation)
    sam = MembershipFactory(organisation=organisation, team=platform)
    _signed_in(harper.user).post(
        reverse("membership_update", args=[sam.public_id]),
        {"team": "", "role": Membership.Role.MEMBER},
    )
    event = AuditEvent.objects.get(action="membership.team_changed")

    AuditEvent.objects.filter(pk=event.pk).update(details={"from_team": "Elsewhere"})

    assert any("contents were changed" in problem for problem in audit_log_verify())


def test_a_role_change_without_a_team_move_records_no_move(organisation):
    harper = HRAdminMembershipFactory(organisation=organisation)
    sam = MembershipFactory(organisation=organisation)

    _signed_in(harper.user).post(
        reverse("membership_update", args=[sam.public_id]),
        {"team": "", "role": Membership.Role.HR_ADMIN},
    )

    assert list(AuditEvent.objects.values_list("action", flat=True)) == ["membership.role_hr_admin"]


def test_hostile_names_in_the_audit_log_stay_text(client, organisation):
    platform = TeamFactory(organisation=organisation, name='<b hx-post="/x/">Plat</b>')
    harper = HRAdminMembershipFactory(organisation=organisation)
    sam = MembershipFactory(
        organisation=organisation,
        team=platform,
        user__display_name='<i hx-post="status/" hx-trigger="load">Sam</i>',
    )
    _signed_in(harper.user).post(
        reverse("membership_update", args=[sam.public_id]),
        {"team": "", "role": Membership.Role.MEMBER},
    )
    client.force_login(harper.user)

    for url in (reverse("organisation_audit"), reverse("my_activity")):
        body = client.get(url).content.decode()
        assert "<i hx-post" not in body and "<b hx-post" not in body, url
        assert "&lt;i hx-post=&quot;status/&quot;" in body, url


def test_an_hr_admin_of_another_organisation_sees_none_of_it(client, organisation, other_hr_admin):
    harper = HRAdminMembershipFactory(organisation=organisation, user__display_name="Harper HR")
    sam = MembershipFactory(organisation=organisation, user__display_name="Sam Lee")
    _signed_in(harper.user).post(
        reverse("membership_update", args=[sam.public_id]),
        {"team": "", "role": Membership.Role.HR_ADMIN},
    )

    table = _table(_audit_page(client, other_hr_admin))

    assert "Sam Lee" not in table and "Harper HR" not in table


def test_every_action_the_code_records_has_words():
    """A new action without a sentence would show as a generic line: name it here."""
    root = Path(__file__).resolve().parents[2]
    literal = re.compile(r'action="([a-z_]+\.[a-z_]+)"')
    found = set()
    for app in ("accounts", "relationships", "reflections", "insights", "privacy"):
        for source in (root / app).rglob("*.py"):
            if "migrations" not in source.parts:
                found |= set(literal.findall(source.read_text()))
    assert found, "the scan found no actions"
    assert found - set(SENTENCES) == set()


def test_member_deactivation_and_a_deleted_account_read_as_words(client, organisation):
    harper = HRAdminMembershipFactory(organisation=organisation, user__display_name="Harper HR")
    sam = MembershipFactory(organisation=organisation, user__display_name="Sam Lee")
    _signed_in(harper.user).post(reverse("member_active", args=[sam.public_id]), {"active": "0"})
    leaver = MembershipFactory(organisation=organisation, user=UserFactory()).user
    account_delete(user=leaver)

    table = _table(_audit_page(client, harper.user))
    assert "You stopped Sam Lee signing in" in table
    assert "A member deleted their account" in table


def test_attack_hr_reads_who_wants_to_coach_whom_from_invitations(client, organisation, coach):
    """A member invites someone only to coach them, so "Casey sent an invitation" in HR's
    log told HR who wanted to coach a newcomer."""
    hr = HRAdminMembershipFactory(organisation=organisation).user
    inviter = _signed_in(coach)
    inviter.post(
        reverse("relationship_invite"), {"email": "newbie@example.com", "purpose": "Welcome"}
    )
    inviter.post(
        reverse("relationship_invite"), {"email": "friend@elsewhere.test", "purpose": "Hi"}
    )

    table = _table(_audit_page(client, hr))

    assert "A member sent an invitation to join" in table
    assert "A member asked to invite someone from outside the organisation" in table
    assert coach.name not in table
    mine = text(_signed_in(coach).get(reverse("my_activity")))
    assert "You sent an invitation to join" in mine
