"""The demo and the factories write straight to the database, past the services' date
rules (issue 14, bug 4): what they write must still be what the rules allow."""

import pytest
from django.core.management import call_command
from django.utils import timezone

from reflections.models import zone_of
from relationships.models import CoachingSession
from tests.factories import SessionFactory

pytestmark = pytest.mark.django_db


def test_demo_sessions_fall_between_the_relationships_start_and_today():
    call_command("demo", no_serve=True)

    sessions = CoachingSession.objects.select_related("relationship__coach")
    assert sessions.exists()
    for session in sessions:
        relationship = session.relationship
        zone = zone_of(relationship.coach)
        began = relationship.accepted_at.astimezone(zone).date()
        assert began <= session.held_on <= timezone.now().astimezone(zone).date(), session


def test_the_session_factory_dates_a_session_today_within_the_relationship(relationship):
    session = SessionFactory(relationship=relationship)

    assert session.held_on == timezone.localdate()
    assert relationship.accepted_at.date() <= session.held_on
