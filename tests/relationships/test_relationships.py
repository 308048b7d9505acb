from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEvent, Invitation
from relationships.models import CoachingRelationship
from tests.factories import MembershipFactory, RelationshipFactory, UserFactory
from tests.helpers import links_in_last_email, path_of, text

pytestmark = pytest.mark.django_db
Status = CoachingRelationship.Status


def test_a_coach_invites_a_colleague_who_accepts(
    coach_client, coach, coachee, client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = coach_client.post(
            reverse("relationship_invite"),
            {"coachee": coachee.public_id, "purpose": "Grow into the lead role"},
        )
    relationship = CoachingRelationship.objects.get()
    assert response["Location"] == reverse("relationship_detail", args=[relationship.public_id])
    assert (relationship.coach, relationship.coachee, relationship.status) == (
        coach,
        coachee,
        Status.INVITED,
    )
    assert relationship.purpose == "Grow into the lead role"
    assert links_in_last_email(coachee.email), "the coachee is told by email"

    client.force_login(coachee)
    page = text(client.get(reverse("relationship_list")))
    assert f"{coach.name} would like to coach you." in page
    detail = text(client.get(reverse("relationship_detail", args=[relationship.public_id])))
    assert "Grow into the lead role" in detail
    client.post(
        reverse("relationship_respond", args=[relationship.public_id]), {"answer": "accept"}
    )

    relationship.refresh_from_db()
    assert relationship.status == Status.ACTIVE
    assert relationship.accepted_at is not None
    assert list(AuditEvent.objects.values_list("action", flat=True).order_by("created_at")) == [
        "relationship.invited",
        "relationship.accepted",
    ]


def test_the_purpose_is_not_in_the_email(
    coach_client, coachee, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        coach_client.post(
            reverse("relationship_invite"),
            {"coachee": coachee.public_id, "purpose": "A private reason"},
        )

    assert "A private reason" not in mailoutbox[0].body


def test_the_coachee_can_decline_and_the_coach_sees_only_that(coach_client, coach, coachee, client):
    relationship = RelationshipFactory(
        organisation=coach.membership.organisation, coach=coach, coachee=coachee, status="invited"
    )
    client.force_login(coachee)
    client.post(
        reverse("relationship_respond", args=[relationship.public_id]), {"answer": "decline"}
    )

    relationship.refresh_from_db()
    assert relationship.status == Status.DECLINED
    page = text(coach_client.get(reverse("relationship_detail", args=[relationship.public_id])))
    assert "declined this invitation" in page
    assert "Log a session" not in page


def test_only_the_invited_coachee_can_accept(coach_client, coach, coachee):
    relationship = RelationshipFactory(
        organisation=coach.membership.organisation, coach=coach, coachee=coachee, status="invited"
    )

    coach_client.post(
        reverse("relationship_respond", args=[relationship.public_id]), {"answer": "accept"}
    )

    relationship.refresh_from_db()
    assert relationship.status == Status.INVITED


def test_an_invitation_for_someone_else_is_a_404(other_coach_client, relationship):
    response = other_coach_client.post(
        reverse("relationship_respond", args=[relationship.public_id]), {"answer": "accept"}
    )

    assert response.status_code == 404
    relationship.refresh_from_db()
    assert relationship.status == Status.ACTIVE


def test_inviting_by_email_goes_through_the_organisation_invitation(
    coach_client, coach, django_capture_on_commit_callbacks
):
    client = Client()  # the newcomer's own browser
    with django_capture_on_commit_callbacks(execute=True):
        coach_client.post(
            reverse("relationship_invite"),
            {"email": "newbie@example.com", "purpose": "Welcome aboard"},
        )
    relationship = CoachingRelationship.objects.get()
    assert relationship.coachee is None
    assert relationship.invited_email == "newbie@example.com"
    invitation = Invitation.objects.get(email="newbie@example.com")
    assert invitation.invited_by == coach

    client.post(path_of(links_in_last_email("newbie@example.com")[0]))
    client.post(
        reverse("account_signup"),
        {
            "display_name": "Nia Newbie",
            "email": "newbie@example.com",
            "password1": "correct-horse-battery-9",
            "password2": "correct-horse-battery-9",
        },
    )

    relationship.refresh_from_db()
    assert relationship.coachee.email == "newbie@example.com"
    assert relationship.status == Status.INVITED, "joining the organisation is not consent"
    assert "would like to coach you" in text(client.get(reverse("relationship_list")))


def test_inviting_an_existing_member_by_email_uses_their_account(coach_client, coachee):
    coach_client.post(
        reverse("relationship_invite"), {"email": coachee.email.upper(), "purpose": "Hi"}
    )

    assert CoachingRelationship.objects.get().coachee == coachee
    assert not Invitation.objects.exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"purpose": "Hi"}, "Choose a colleague or enter their email address."),
        ({"email": "not-an-email", "purpose": "Hi"}, "Enter a valid email address."),
        ({"email": "x@example.com", "purpose": ""}, "This field is required."),
    ],
)
def test_invite_form_explains_what_is_missing(coach_client, data, message):
    response = coach_client.post(reverse("relationship_invite"), data)

    assert message in text(response)
    assert not CoachingRelationship.objects.exists()


def test_coaches_cannot_invite_themselves_or_people_of_other_organisations(coach_client, coach):
    stranger = MembershipFactory().user

    mine = coach_client.post(
        reverse("relationship_invite"), {"coachee": coach.public_id, "purpose": "Me"}
    )
    theirs = coach_client.post(
        reverse("relationship_invite"), {"coachee": stranger.public_id, "purpose": "You"}
    )

    assert "Select a valid choice." in text(mine)
    assert "Select a valid choice." in text(theirs)
    assert not CoachingRelationship.objects.exists()


def test_at_most_one_open_relationship_per_pair(coach_client, relationship):
    response = coach_client.post(
        reverse("relationship_invite"),
        {"coachee": relationship.coachee.public_id, "purpose": "Again"},
    )

    assert "You already have an open relationship with Sam Coachee." in text(response)
    assert CoachingRelationship.objects.count() == 1


def test_a_new_relationship_is_possible_after_the_last_one_ended(coach_client, relationship):
    relationship.status = Status.ENDED
    relationship.save()

    coach_client.post(
        reverse("relationship_invite"),
        {"coachee": relationship.coachee.public_id, "purpose": "A fresh start"},
    )

    assert CoachingRelationship.objects.filter(status=Status.INVITED).count() == 1


def test_roles_can_differ_per_pair(coach, coachee, organisation):
    """One person can be a coach in one pair and a coachee in another."""
    RelationshipFactory(organisation=organisation, coach=coachee, coachee=UserFactory())
    RelationshipFactory(organisation=organisation, coach=UserFactory(), coachee=coach)

    assert CoachingRelationship.objects.for_member(coach).count() == 1
    assert CoachingRelationship.objects.for_member(coachee).count() == 1


@pytest.mark.parametrize(
    ("start", "action", "end"),
    [
        (Status.ACTIVE, "pause", Status.PAUSED),
        (Status.PAUSED, "resume", Status.ACTIVE),
        (Status.ACTIVE, "end", Status.ENDED),
        (Status.PAUSED, "end", Status.ENDED),
    ],
)
@pytest.mark.parametrize("who", ["coach", "coachee"])
def test_either_side_can_pause_resume_and_end(client, relationship, start, action, end, who):
    relationship.status = start
    relationship.save()
    client.force_login(getattr(relationship, who))

    client.post(
        reverse("relationship_transition", args=[relationship.public_id]), {"action": action}
    )

    relationship.refresh_from_db()
    assert relationship.status == end
    assert AuditEvent.objects.filter(action=f"relationship.{end}").exists()


@pytest.mark.parametrize(
    ("start", "action"),
    [
        (Status.ENDED, "resume"),
        (Status.ENDED, "pause"),
        (Status.ACTIVE, "resume"),
        (Status.INVITED, "end"),
    ],
)
def test_impossible_changes_are_explained_and_change_nothing(
    coach_client, relationship, start, action
):
    relationship.status = start
    relationship.save()

    response = coach_client.post(
        reverse("relationship_transition", args=[relationship.public_id]),
        {"action": action},
        follow=True,
    )

    assert "can't be" in text(response)
    relationship.refresh_from_db()
    assert relationship.status == start


def test_only_the_coach_withdraws_an_unanswered_invitation(client, coach, coachee, organisation):
    relationship = RelationshipFactory(
        organisation=organisation, coach=coach, coachee=coachee, status="invited"
    )
    client.force_login(coachee)
    client.post(
        reverse("relationship_transition", args=[relationship.public_id]), {"action": "withdraw"}
    )
    relationship.refresh_from_db()
    assert relationship.status == Status.INVITED

    client.force_login(coach)
    client.post(
        reverse("relationship_transition", args=[relationship.public_id]), {"action": "withdraw"}
    )
    relationship.refresh_from_db()
    assert relationship.status == Status.WITHDRAWN


def test_the_list_splits_i_coach_from_coaching_me(client, coach, coachee, organisation):
    RelationshipFactory(organisation=organisation, coach=coach, coachee=coachee)
    my_coach = UserFactory(display_name="Mona Mentor")
    MembershipFactory(user=my_coach, organisation=organisation)
    RelationshipFactory(organisation=organisation, coach=my_coach, coachee=coach)
    client.force_login(coach)

    response = client.get(reverse("relationship_list"))

    page = text(response)
    i_coach = page[page.index("I coach") : page.index("Coaching me")]
    coaching_me = page[page.index("Coaching me") :]
    assert "Sam Coachee" in i_coach and "Mona Mentor" not in i_coach
    assert "Mona Mentor" in coaching_me


def test_hr_admins_see_counts_and_nothing_of_the_content(hr_client, relationship):
    relationship.purpose = "Confidential purpose"
    relationship.save()

    page = text(hr_client.get(reverse("organisation")))

    assert "1 active coaching relationship" in page
    assert "Confidential purpose" not in page
    assert (
        hr_client.get(reverse("relationship_detail", args=[relationship.public_id])).status_code
        == 404
    )


def test_list_queries_do_not_grow_with_relationships(
    client, coach, organisation, django_assert_max_num_queries
):
    client.force_login(coach)
    RelationshipFactory(organisation=organisation, coach=coach)
    client.get(reverse("relationship_list"))
    with django_assert_max_num_queries(10) as one:
        client.get(reverse("relationship_list"))
    RelationshipFactory.create_batch(9, organisation=organisation, coach=coach)
    with django_assert_max_num_queries(len(one.captured_queries)):
        response = client.get(reverse("relationship_list"))
    assert text(response).count("Sam Coachee") == 10


def test_an_unanswered_coaching_invitation_expires(client, coach, coachee, organisation):
    relationship = RelationshipFactory(
        organisation=organisation, coach=coach, coachee=coachee, status="invited"
    )
    with time_machine.travel(timezone.now() + timedelta(days=15)):
        client.force_login(coachee)
        listing = text(client.get(reverse("relationship_list")))
        response = client.post(
            reverse("relationship_respond", args=[relationship.public_id]),
            {"answer": "accept"},
            follow=True,
        )

    assert "would like to coach you" not in listing
    assert "This invitation expired on" in text(response)
    relationship.refresh_from_db()
    assert relationship.status == Status.INVITED and relationship.accepted_at is None


def test_the_coach_can_invite_again_after_an_invitation_expired(coach_client, coach, coachee):
    old = RelationshipFactory(
        organisation=coach.membership.organisation, coach=coach, coachee=coachee, status="invited"
    )

    with time_machine.travel(timezone.now() + timedelta(days=15)):
        coach_client.force_login(coach)
        page = text(coach_client.get(reverse("relationship_detail", args=[old.public_id])))
        response = coach_client.post(
            reverse("relationship_invite"), {"coachee": coachee.public_id, "purpose": "Again"}
        )

    assert response.status_code == 302, text(response)
    assert "This invitation expired on" in page
    old.refresh_from_db()
    assert old.status == Status.EXPIRED
    assert CoachingRelationship.objects.filter(status=Status.INVITED).count() == 1
