import json
import uuid
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from reflections.models import IntegrityCheck, PromptDismissal, Reflection
from reflections.prompts import INTEGRITY_BEHAVIOURS
from reflections.services import reflections_purge_expired, run_checkins
from tests.factories import (
    CheckInResponseFactory,
    CheckInRoundFactory,
    IntegrityCheckFactory,
    ReflectionFactory,
    SessionFactory,
)
from tests.helpers import text

pytestmark = pytest.mark.django_db


def _raw(table):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {table}")  # noqa: S608 - our own table names
        return repr(cursor.fetchall())


def test_anyone_keeps_a_private_journal(client, relationship):
    client.force_login(relationship.coachee)  # coachees reflect too
    client.post(
        reverse("reflection_create"),
        {
            "prompt": "bias_who_i_trust",
            "relationship": relationship.public_id,
            "body": "I trust Casey with my ideas, not yet with my doubts.",
            "client_token": uuid.uuid4(),
        },
    )

    entry = Reflection.objects.get()
    assert (entry.author, entry.relationship, entry.prompt) == (
        relationship.coachee,
        relationship,
        "bias_who_i_trust",
    )
    page = text(client.get(reverse("journal")))
    assert "not yet with my doubts" in page
    assert "shown to no one else in Rapport" in page
    assert "may be subject to legal requests" in page


def test_only_the_author_reads_edits_deletes_or_exports_entries(client, relationship, hr_admin):
    entry = ReflectionFactory(author=relationship.coach, body="Only mine")
    for user in (relationship.coachee, hr_admin):
        client.force_login(user)
        assert "Only mine" not in text(client.get(reverse("journal")))
        assert "Only mine" not in text(client.get(reverse("journal_export")))
        assert client.get(reverse("reflection_edit", args=[entry.public_id])).status_code == 404
        response = client.post(reverse("reflection_delete", args=[entry.public_id]))
        assert response.status_code == 404
    assert Reflection.objects.get().body == "Only mine"


def test_entries_and_self_checks_are_encrypted_at_rest(relationship):
    ReflectionFactory(author=relationship.coach, body="plain-canary-journal")
    IntegrityCheckFactory(
        author=relationship.coach, ratings={k: 2 for k, _ in INTEGRITY_BEHAVIOURS}
    )

    assert "plain-canary-journal" not in _raw("reflections_reflection")
    assert "confidentiality" not in _raw("reflections_integritycheck")


def test_edits_are_version_checked(client, relationship):
    entry = ReflectionFactory(author=relationship.coach, body="First")
    client.force_login(relationship.coach)
    form = {"prompt": "", "relationship": "", "version": 1}
    client.post(reverse("reflection_edit", args=[entry.public_id]), {**form, "body": "Tab one"})

    response = client.post(
        reverse("reflection_edit", args=[entry.public_id]), {**form, "body": "Tab two"}
    )

    assert response.status_code == 409
    assert "Tab two" in text(response) and "Tab one" in text(response)
    entry.refresh_from_db()
    assert entry.body == "Tab one"


def test_an_entry_cannot_be_tied_to_someone_elses_relationship(client, relationship, other_coach):
    client.force_login(other_coach)

    response = client.post(
        reverse("reflection_create"),
        {"relationship": relationship.public_id, "body": "Sneaky", "prompt": ""},
    )

    assert "Select a valid choice." in text(response)
    assert not Reflection.objects.exists()


def test_export_gives_the_author_their_journal_as_json(client, relationship):
    ReflectionFactory(author=relationship.coach, body="Exported words")
    IntegrityCheckFactory(author=relationship.coach)
    client.force_login(relationship.coach)

    response = client.get(reverse("journal_export"))

    assert response["Content-Disposition"] == 'attachment; filename="rapport-journal.json"'
    data = json.loads(response.content)
    assert data["reflections"][0]["body"] == "Exported words"
    assert data["integrity_self_checks"][0]["ratings"]["confidentiality"] == 4


def test_retention_deletes_expired_entries(client, relationship):
    client.force_login(relationship.coach)
    old = ReflectionFactory(author=relationship.coach, body="Old")
    ReflectionFactory(author=relationship.coachee, body="Someone else keeps theirs")
    client.post(reverse("journal_retention"), {"retention_days": "30"})

    with time_machine.travel(timezone.now() + timedelta(days=29)):
        assert reflections_purge_expired() == 0
        ReflectionFactory(author=relationship.coach, body="Newer")
    with time_machine.travel(timezone.now() + timedelta(days=31)):
        assert run_checkins().purged == 1

    assert not Reflection.objects.filter(pk=old.pk).exists()
    assert set(Reflection.objects.values_list("body_ciphertext", flat=True)) and (
        sorted(r.body for r in Reflection.objects.all()) == ["Newer", "Someone else keeps theirs"]
    )


def test_shoes_prompts_before_the_first_session_for_the_coach_only(client, relationship):
    client.force_login(relationship.coach)
    page = text(client.get(reverse("relationship_detail", args=[relationship.public_id])))
    assert "step into Sam Coachee's shoes" in page
    assert "How might Sam Coachee see me now?" in page

    client.force_login(relationship.coachee)
    assert "step into" not in text(
        client.get(reverse("relationship_detail", args=[relationship.public_id]))
    )

    SessionFactory(relationship=relationship)
    client.force_login(relationship.coach)
    assert "step into" not in text(
        client.get(reverse("relationship_detail", args=[relationship.public_id]))
    )


def test_a_dismissed_prompt_does_not_come_back(client, relationship):
    client.force_login(relationship.coach)

    client.post(reverse("prompt_dismiss", args=[relationship.public_id]), {"kind": "shoes"})
    client.post(reverse("prompt_dismiss", args=[relationship.public_id]), {"kind": "shoes"})

    assert PromptDismissal.objects.count() == 1
    page = text(client.get(reverse("relationship_detail", args=[relationship.public_id])))
    assert "step into" not in page


def _revealed_round(relationship, coach_reliability, coachee_reliability, days_ago=0):
    round_ = CheckInRoundFactory(
        relationship=relationship,
        opens_on=timezone.localdate() - timedelta(days=days_ago),
        closes_on=timezone.localdate() - timedelta(days=days_ago) + timedelta(days=6),
    )
    CheckInResponseFactory(
        round=round_, respondent=relationship.coach, reliability=coach_reliability
    )
    CheckInResponseFactory(
        round=round_, respondent=relationship.coachee, reliability=coachee_reliability
    )
    return round_


def test_bias_questions_follow_a_reveal_with_a_gap_of_one_and_a_half_points(client, relationship):
    SessionFactory(relationship=relationship)
    client.force_login(relationship.coach)
    earlier = _revealed_round(relationship, 4, 3)  # a gap of 1: nothing offered
    earlier.closed_at = timezone.now()
    earlier.save()
    page = text(client.get(reverse("relationship_detail", args=[relationship.public_id])))
    assert "Who do I assume has positive intentions" not in page

    round_ = _revealed_round(relationship, 5, 2, days_ago=-1)  # the newest reveal: a gap of 3
    page = text(client.get(reverse("relationship_detail", args=[relationship.public_id])))
    assert "gap on reliability: you rated it 5, Sam Coachee rated it 2" in page
    assert "Who do I assume has positive intentions, and why?" in page

    client.post(
        reverse("prompt_dismiss", args=[relationship.public_id]),
        {"kind": "bias", "round": round_.public_id},
    )
    page = text(client.get(reverse("relationship_detail", args=[relationship.public_id])))
    assert "Who do I assume has positive intentions" not in page


def test_a_prompt_link_opens_the_form_with_the_prompt_and_relationship(client, relationship):
    client.force_login(relationship.coach)

    html = client.get(
        reverse("reflection_create") + f"?prompt=shoes_now&relationship={relationship.public_id}"
    ).content.decode()

    assert "How might Sam Coachee see me now?" in html
    assert '<option value="shoes_now" selected>' in html
    assert f'<option value="{relationship.public_id}" selected>' in html


def test_a_self_check_is_saved_and_charted_beside_how_it_lands(client, relationship):
    closed = _revealed_round(relationship, 4, 4, days_ago=20)
    closed.closed_at = timezone.now()
    closed.save()
    client.force_login(relationship.coach)

    response = client.post(reverse("integrity"), {key: "3" for key, _ in INTEGRITY_BEHAVIOURS})

    assert response.status_code == 302
    check = IntegrityCheck.objects.get()
    assert check.ratings["speak_up"] == 3 and check.average == 3
    page = client.get(reverse("integrity"))
    html = page.content.decode()
    assert html.count("<circle") == 1 + 1  # one self-check, plus the legend
    assert html.count("<rect") == 1 + 1  # one shared round, plus the legend


def test_a_self_check_needs_every_rating(client, relationship):
    client.force_login(relationship.coach)

    response = client.post(reverse("integrity"), {"speak_up": "3"})

    assert "Choose a rating from 1 to 5." in text(response)
    assert not IntegrityCheck.objects.exists()


def test_unrevealed_answers_do_not_reach_the_integrity_chart(client, relationship):
    round_ = CheckInRoundFactory(relationship=relationship)
    CheckInResponseFactory(round=round_, respondent=relationship.coachee, integrity=1)
    client.force_login(relationship.coach)

    html = client.get(reverse("integrity")).content.decode()

    assert "Nothing to show yet." in text(client.get(reverse("integrity")))
    assert "<rect x=" not in html.split("legend")[0]


def test_the_same_self_check_form_sent_twice_saves_one(client, relationship):
    client.force_login(relationship.coach)
    form = {key: "4" for key, _ in INTEGRITY_BEHAVIOURS} | {"client_token": uuid.uuid4()}

    client.post(reverse("integrity"), form)
    client.post(reverse("integrity"), form)

    assert IntegrityCheck.objects.count() == 1
