"""Issue 14 copy: the home page says only what is true ("You coach 0 people and 1
person coaches you" was not)."""

import pytest
from django.urls import reverse

from tests.factories import MembershipFactory, RelationshipFactory
from tests.helpers import text

pytestmark = pytest.mark.django_db


def test_attack_home_says_you_coach_0_people(client, relationship):
    client.force_login(relationship.coachee)

    page = text(client.get(reverse("home")))

    assert "You coach 0" not in page
    assert "1 person coaches you." in page


def test_home_counts_both_ways_when_both_are_true(client, relationship, organisation):
    RelationshipFactory(
        organisation=organisation,
        coach=relationship.coachee,
        coachee=MembershipFactory(organisation=organisation).user,
    )
    client.force_login(relationship.coachee)

    page = text(client.get(reverse("home")))

    assert "You coach 1 person and 1 person coaches you." in page


def test_home_for_a_coach_only(client, relationship):
    client.force_login(relationship.coach)

    page = text(client.get(reverse("home")))

    assert "You coach 1 person." in page
    assert "coaches you" not in page
