"""The check-in, trend and journal pages' reads compiled once per process
(config.prepared, issue 15) find what the QuerySets they are written from find: the
same rows, the same rules of who may see them."""

import uuid
from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.paginator import Paginator
from django.utils import timezone

from reflections import selectors
from reflections.models import CheckInRound
from relationships.models import CoachingRelationship
from tests.factories import CheckInResponseFactory, CheckInRoundFactory, ReflectionFactory

pytestmark = pytest.mark.django_db


def test_a_round_is_read_only_by_its_two_people(relationship, other_coach, hr_admin):
    round_ = CheckInRoundFactory(relationship=relationship)
    answer = CheckInResponseFactory(round=round_, respondent=relationship.coach)

    for person in (relationship.coach, relationship.coachee):
        found = selectors.checkin_round(person, round_.public_id)
        assert found == CheckInRound.objects.visible_to(person).get(public_id=round_.public_id)
        assert found.relationship.coach == relationship.coach
        assert selectors.round_responses(found) == {relationship.coach_id: answer}
    for outsider in (other_coach, hr_admin, AnonymousUser()):
        assert selectors.checkin_round(outsider, round_.public_id) is None
    assert selectors.checkin_round(relationship.coach, uuid.uuid4()) is None


def test_the_trend_reads_only_a_started_relationship_of_the_person(relationship, other_coach):
    for person in (relationship.coach, relationship.coachee):
        assert selectors.trend_relationship(person, relationship.public_id) == relationship
    assert selectors.trend_relationship(other_coach, relationship.public_id) is None
    CoachingRelationship.objects.filter(pk=relationship.pk).update(
        status=CoachingRelationship.Status.INVITED
    )
    assert selectors.trend_relationship(relationship.coach, relationship.public_id) is None


@pytest.mark.parametrize("count", [0, 3, 20, 25])
def test_the_journal_pages_are_the_authors_entries_newest_first(coach, other_coach, count):
    now = timezone.now()
    for n in range(count):
        ReflectionFactory(author=coach, created_at=now - timedelta(hours=n))
    ReflectionFactory(author=other_coach)
    expected = list(selectors.journal_entries(coach))

    paginator = Paginator(selectors.JournalEntries(coach, 20), 20)

    assert paginator.count == count
    shown = [e for number in paginator.page_range for e in paginator.page(number).object_list]
    assert shown == expected
    assert selectors.journal_settings(other_coach) is None
