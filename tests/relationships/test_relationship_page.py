"""The relationship page on a phone: what is due now comes first, long lists collapse to
their latest few with a "Show all" link that works without JavaScript."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from relationships.models import CoachingRelationship
from tests.factories import (
    ActionItemFactory,
    CheckInRoundFactory,
    NoteFactory,
    RelationshipFactory,
    SessionFactory,
)
from tests.helpers import text

pytestmark = pytest.mark.django_db


def _page(client, relationship, query=""):
    return text(client.get(reverse("relationship_detail", args=[relationship.public_id]) + query))


def test_attack_of_the_long_scroll_the_open_check_in_comes_before_the_sessions(
    coachee_client, relationship
):
    today = timezone.localdate()
    for weeks in range(1, 11):
        SessionFactory(relationship=relationship, held_on=today - timedelta(weeks=weeks))
    CheckInRoundFactory(relationship=relationship)

    page = _page(coachee_client, relationship)

    assert "Due now" in page
    assert page.index("Answer the check-in") < page.index("Sessions")
    assert page.index("Answer the check-in") < page.index("Why we're sitting down together")


def test_my_overdue_action_items_come_first_and_not_the_other_persons(coachee_client, relationship):
    long_ago = timezone.localdate() - timedelta(days=3)
    ActionItemFactory(relationship=relationship, text="Write the retro", due_on=long_ago)
    ActionItemFactory(
        relationship=relationship, text="Book the room", owner="coach", due_on=long_ago
    )
    SessionFactory(relationship=relationship)

    page = _page(coachee_client, relationship)

    due = page[page.index("Due now") : page.index("Sessions")]
    assert "1 of your action items is overdue: Write the retro" in due
    assert "Book the room" not in due


def test_nothing_due_shows_no_due_card(coachee_client, relationship):
    assert "Due now" not in _page(coachee_client, relationship)


def test_sessions_and_notes_collapse_to_the_latest_few_with_show_all(coach_client, relationship):
    today = timezone.localdate()
    for weeks in range(8):
        SessionFactory(relationship=relationship, held_on=today - timedelta(weeks=weeks))
    for n in range(5):
        NoteFactory(relationship=relationship, body=f"Relationship note {n}")

    page = _page(coach_client, relationship)
    everything = _page(coach_client, relationship, "?history=all")

    assert "The latest 5 of 8. Show all 8 sessions" in page
    assert "The latest 3 of 5. Show all 5 notes" in page
    assert page.count("Relationship note") == 3
    assert everything.count("Relationship note") == 5
    assert "Show all 5 notes" not in everything


def test_a_pending_invitation_says_invited_once(coach, coachee_client, coachee, organisation):
    relationship = RelationshipFactory(
        organisation=organisation,
        coach=coach,
        coachee=coachee,
        status=CoachingRelationship.Status.INVITED,
        accepted_at=None,
    )

    page = _page(coachee_client, relationship)

    assert "Invited invited" not in page
    assert f"Invited on {relationship.created_at:%-d %B %Y}" in page


def test_attack_the_next_check_in_opens_every_two_weeks_gives_no_date(coach_client, relationship):
    """With no round open, the page said "The next one opens every two weeks"."""
    from reflections.selectors import next_checkin_on

    relationship.checkin_cadence = "fortnightly"
    relationship.save(update_fields=["checkin_cadence"])
    expected = next_checkin_on(relationship)

    page = text(coach_client.get(reverse("relationship_detail", args=[relationship.public_id])))

    assert expected is not None
    assert f"The next one opens on {expected:%A} {expected.day} {expected:%B}." in page
    assert "every two weeks" not in page
