"""The migrations that bind existing ciphertexts to their readers, and give existing
check-in rounds their closing instant, run on data written by the code before them."""

import zoneinfo
from datetime import datetime, time, timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from privacy.encryption import decrypt
from reflections.models import CheckInResponse, CheckInRound
from relationships.models import ActionItem, CoachingRelationship, CoachingSession
from tests.factories import (
    ActionItemFactory,
    CheckInResponseFactory,
    CheckInRoundFactory,
    RelationshipFactory,
    SessionFactory,
)

BEFORE = [
    ("reflections", "0003_self_check_submitted_once"),
    ("relationships", "0003_checkins_and_idempotency_per_author"),
]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)


def _latest():
    """Every app's latest migration: migrating back unapplies those that depend on the
    old ones (row-level security's among them), and this brings them all back."""
    executor = MigrationExecutor(connection)
    return executor.loader.graph.leaf_nodes()


@pytest.mark.django_db(transaction=True)
def test_migrations_rebind_old_ciphertexts_and_fix_each_rounds_closing_instant():
    relationship = RelationshipFactory(purpose="Purpose-text")
    relationship.coach.time_zone = "Pacific/Auckland"
    relationship.coach.save()
    session = SessionFactory(relationship=relationship, agenda="Agenda-text", summary="")
    item = ActionItemFactory(relationship=relationship, text="Item-text")
    round_ = CheckInRoundFactory(relationship=relationship)
    spoken = CheckInResponseFactory(round=round_, comment="Comment-text", shared=False)
    silent = CheckInResponseFactory(
        round=round_, respondent=relationship.coachee, comment="", shared=True
    )
    latest = _latest()
    try:
        _migrate(BEFORE)
        # Now as the old code left them: bound to the row alone, empty comments unsealed.
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT comment_ciphertext FROM reflections_checkinresponse WHERE id = %s",
                [silent.pk],
            )
            assert cursor.fetchone()[0] == ""
            cursor.execute(
                "SELECT agenda_ciphertext FROM relationships_coachingsession WHERE id = %s",
                [session.pk],
            )
            old_agenda = cursor.fetchone()[0]
        assert (
            decrypt(
                old_agenda,
                associated_data=f"relationships.coachingsession.agenda:{session.public_id}".encode(),
            )
            == "Agenda-text"
        )

        _migrate(latest)
    finally:
        _migrate(latest)

    relationship = CoachingRelationship.objects.get(pk=relationship.pk)
    session = CoachingSession.objects.get(pk=session.pk)
    assert relationship.purpose == "Purpose-text"
    assert (session.agenda, session.summary) == ("Agenda-text", "")
    assert ActionItem.objects.get(pk=item.pk).text == "Item-text"
    assert CheckInResponse.objects.get(pk=spoken.pk).comment == "Comment-text"
    resealed = CheckInResponse.objects.get(pk=silent.pk)
    assert resealed.comment_ciphertext and resealed.comment_or_none() == ""
    # Recomputed (the column went away and came back): the end of the round's last day
    # in the coach's time zone.
    auckland = zoneinfo.ZoneInfo("Pacific/Auckland")
    midnight_after = datetime.combine(round_.closes_on + timedelta(days=1), time.min, auckland)
    assert CheckInRound.objects.get(pk=round_.pk).closes_at == midnight_after
