"""The trend page reads its rounds as plain rows (reflections.selectors.trend_points), not
through the round views the check-in and relationship pages build: it must still show
exactly what they would, round by round, for either person and every dimension."""

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from reflections import selectors
from reflections.dimensions import DIMENSION_KEYS
from reflections.models import CheckInResponse
from tests.factories import CheckInResponseFactory, CheckInRoundFactory
from tests.helpers import text

pytestmark = pytest.mark.django_db


def _round(relationship, weeks_ago, *, closed=True):
    today = timezone.localdate()
    return CheckInRoundFactory(
        relationship=relationship,
        opens_on=today - timedelta(days=7 * weeks_ago),
        closes_on=today - timedelta(days=7 * weeks_ago - 6),
        closed_at=timezone.now() if closed else None,
    )


def _answer(round_, who, value, **fields):
    return CheckInResponseFactory(
        round=round_, respondent=who, **{**dict.fromkeys(DIMENSION_KEYS, value), **fields}
    )


def _history(relationship, latest):
    """Every case the reveal rule knows, one round each; `latest` is the one round that
    may be open: "open" (answered by the coachee alone, not revealed) or "overdue" (past
    its closing instant, not yet marked closed: revealed by time)."""
    coach, coachee = relationship.coach, relationship.coachee
    both = _round(relationship, 8)
    _answer(both, coach, 3, reliability=1)
    _answer(both, coachee, 5)
    unshared = _round(relationship, 7)
    _answer(unshared, coach, 2)
    _answer(unshared, coachee, 4, shared=False)
    only_coachee_closed = _round(relationship, 6)
    _answer(only_coachee_closed, coachee, 2)
    tampered = _round(relationship, 5)
    _answer(tampered, coach, 4)
    flipped = _answer(tampered, coachee, 1, shared=False)
    # `shared` flipped in the database: the seal no longer vouches for it.
    CheckInResponse.objects.filter(pk=flipped.pk).update(shared=True)
    _round(relationship, 4)  # nobody answered
    last = CheckInRoundFactory(relationship=relationship)  # opens today, for a week
    if latest == "overdue":
        last.closes_at = timezone.now() - timedelta(hours=1)
        last.save()
    _answer(last, coachee, 3)


@pytest.mark.parametrize("latest", ["open", "overdue"])
@pytest.mark.parametrize("who", ["coach", "coachee"])
@pytest.mark.parametrize("dimension_key", ["overall", *DIMENSION_KEYS])
def test_the_trend_shows_what_the_round_views_show(relationship, latest, who, dimension_key):
    _history(relationship, latest)
    user = getattr(relationship, who)

    from_rows = selectors.trend_points(relationship, user, dimension_key, timezone.now())
    from_views = selectors.checkin_summary(relationship, user, dimension_key=dimension_key).points

    assert from_rows == from_views
    # Nothing for the unanswered round, nor for the coachee's open one to the coach.
    assert len(from_rows) == (4 if (latest, who) == ("open", "coach") else 5)


def test_an_open_round_shows_the_other_side_only_once_revealed(client, relationship):
    round_ = CheckInRoundFactory(relationship=relationship)
    _answer(round_, relationship.coachee, 2)
    client.force_login(relationship.coach)
    url = reverse("relationship_trend", args=[relationship.public_id])

    before = text(client.get(url))
    with time_machine.travel(round_.closes_at + timedelta(minutes=1)):
        after = text(client.get(url))

    assert "No check-ins yet." in before
    assert "2.0" in after and "No check-ins yet." not in after


def test_a_flipped_share_shows_nothing_of_the_response(client, relationship):
    round_ = _round(relationship, 2)
    _answer(round_, relationship.coach, 4)
    secret = _answer(round_, relationship.coachee, 1, shared=False)
    CheckInResponse.objects.filter(pk=secret.pk).update(shared=True)
    client.force_login(relationship.coach)

    page = client.get(
        reverse("relationship_trend", args=[relationship.public_id]) + "?dimension=honesty"
    )

    html = page.content.decode()
    assert "<td>4</td><td>not shared</td>" in html
    assert 'transform="translate(-5 0)"' not in html  # no square marker for their side


def test_the_htmx_dimension_switch_swaps_only_the_chart(client, relationship):
    _history(relationship, "open")
    client.force_login(relationship.coach)

    response = client.get(
        reverse("relationship_trend", args=[relationship.public_id]) + "?dimension=reliability",
        headers={"HX-Request": "true"},
    )

    html = response.content.decode()
    assert html.lstrip().startswith('<section id="trend"')
    assert "<html" not in html and "Back to the relationship" not in html
    assert 'aria-current="true">Reliability</a>' in html
    assert "HX-Request" in response["Vary"]
