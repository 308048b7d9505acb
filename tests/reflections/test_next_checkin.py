"""Issue 14 copy: "The next one opens every two weeks" gives no date. The next
check-in's date, on the relationship's calendar, for every rhythm."""

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse

from reflections.dimensions import DIMENSION_KEYS
from reflections.selectors import next_checkin_on
from reflections.services import run_checkins
from relationships.models import CoachingRelationship
from tests.factories import RelationshipFactory
from tests.helpers import text

pytestmark = pytest.mark.django_db
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday
Cadence = CoachingRelationship.Cadence


def _on(days):
    return time_machine.travel(START + timedelta(days=days), tick=False)


@pytest.fixture
def relationship(organisation):
    return RelationshipFactory(organisation=organisation, accepted_at=START)


def test_fortnightly_gives_the_next_date_and_moves_on_once_it_opens(relationship):
    with _on(3):
        assert next_checkin_on(relationship) == date(2026, 3, 16)
    with _on(14):
        assert next_checkin_on(relationship) == date(2026, 3, 16), "due today, not yet open"
        run_checkins(site_url="https://rapport.example")
        assert next_checkin_on(relationship) == date(2026, 3, 30)
    with _on(22):
        assert next_checkin_on(relationship) == date(2026, 3, 30)


def test_weekly_and_monthly(relationship):
    relationship.checkin_cadence = Cadence.WEEKLY
    with _on(3):
        assert next_checkin_on(relationship) == date(2026, 3, 9)
    relationship.checkin_cadence = Cadence.MONTHLY
    relationship.accepted_at = datetime(2026, 1, 31, 9, 0, tzinfo=UTC)
    with _on(-28):  # 2 February
        assert next_checkin_on(relationship) == date(2026, 2, 28), "the 31st: month's end"


def test_after_each_session_and_not_yet_started_have_no_date(organisation):
    after = RelationshipFactory(
        organisation=organisation, accepted_at=START, checkin_cadence=Cadence.AFTER_SESSION
    )
    invited = RelationshipFactory(
        organisation=organisation, status=CoachingRelationship.Status.INVITED
    )

    assert next_checkin_on(after) is None
    assert next_checkin_on(invited) is None


def test_a_late_answer_is_told_when_the_next_check_in_opens(client, relationship):
    with _on(14):
        run_checkins(site_url="https://rapport.example")
    round_ = relationship.checkin_rounds.get()

    with _on(22):
        client.force_login(relationship.coachee)
        response = client.post(
            reverse("checkin_detail", args=[round_.public_id]),
            {**dict.fromkeys(DIMENSION_KEYS, "4"), "confirm": "1"},
            follow=True,
        )

    assert "This check-in closed on 22 March. The next one opens on Monday 30 March." in text(
        response
    )
