"""The method's words ("Recast the past", "trust bucket", "Freedom to be real") each come
with one plain sentence where a person first meets them."""

import pytest
from django.urls import reverse

from reflections.dimensions import DIMENSIONS
from tests.factories import CheckInRoundFactory
from tests.helpers import text

pytestmark = pytest.mark.django_db


def test_choosing_a_session_focus_explains_each_focus_in_plain_words(coach_client, relationship):
    page = coach_client.get(reverse("session_create", args=[relationship.public_id]))

    shown = text(page)
    assert "Recast the past: look back together at why you are meeting" in shown
    assert "Master the moment: notice what is happening between you right now" in shown
    assert "Co-create the future: get to know each other better" in shown
    assert 'aria-describedby="focus_help"' in page.content.decode()


def test_the_check_in_comment_says_what_the_trust_bucket_is(coachee_client, relationship):
    round_ = CheckInRoundFactory(relationship=relationship)

    page = text(coachee_client.get(reverse("checkin_detail", args=[round_.public_id])))

    assert "What would add a drop to our trust bucket before next time?" in page
    assert "Trust builds up a drop at a time, with each conversation that goes well" in page


def test_every_dimension_has_a_plain_sentence_for_where_its_label_stands_alone():
    for dimension in DIMENSIONS:
        assert dimension.plain.endswith(".") and len(dimension.plain.split()) >= 6
        assert dimension.label.lower() not in dimension.plain.lower()


FREEDOM = next(d for d in DIMENSIONS if d.key == "freedom_to_be_real")


def test_the_trend_explains_the_trust_bucket_and_the_chosen_dimension(coach_client, relationship):
    url = reverse("relationship_trend", args=[relationship.public_id])

    page = text(coach_client.get(url, {"dimension": "freedom_to_be_real"}))

    assert "Trust bucket: freedom to be real" in page
    assert "The trust bucket is the trust between you" in page
    assert FREEDOM.plain in page


def test_the_side_by_side_answers_explain_each_dimension(client, relationship):
    round_ = CheckInRoundFactory(relationship=relationship)
    for person in (relationship.coach, relationship.coachee):
        client.force_login(person)
        client.post(
            reverse("checkin_detail", args=[round_.public_id]),
            {**{d.key: "4" for d in DIMENSIONS}, "shared": "on", "confirm": "1"},
        )

    page = text(client.get(reverse("checkin_detail", args=[round_.public_id])))

    assert "You have both answered" in page
    assert f"Freedom to be real {FREEDOM.plain}" in page
