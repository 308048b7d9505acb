import re
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from reflections.dimensions import DIMENSION_KEYS
from reflections.models import CheckInResponse
from tests.factories import CheckInResponseFactory, CheckInRoundFactory, RelationshipFactory
from tests.helpers import text

pytestmark = pytest.mark.django_db


def _answers(value=4, **overrides):
    return {key: str(overrides.get(key, value)) for key in DIMENSION_KEYS}


def _answer(client, round_, *, shared=True, comment="", **answers):
    """Answers and confirms them on the review (see test_checkin_review.py)."""
    data = {**_answers(**answers), "comment": comment, "confirm": "1"}
    if shared:
        data["shared"] = "on"
    return client.post(reverse("checkin_detail", args=[round_.public_id]), data)


@pytest.fixture
def round_(relationship):
    return CheckInRoundFactory(relationship=relationship)


def test_the_form_asks_six_statements_about_the_other_person(client, round_):
    client.force_login(round_.relationship.coachee)

    page = text(client.get(reverse("checkin_detail", args=[round_.public_id])))

    assert "I can rely on Casey Coach to do what they say they will." in page
    assert "I can be myself with Casey Coach without being judged." in page
    assert "What would add a drop to our trust bucket before next time?" in page
    assert "Share this round's answers and comment with Casey Coach" in page


def test_sharing_is_the_default(client, round_):
    client.force_login(round_.relationship.coachee)

    html = client.get(reverse("checkin_detail", args=[round_.public_id])).content.decode()

    assert re.search(r'<input type="checkbox" name="shared"[^>]* checked>', html)


def test_before_both_answer_each_sees_only_their_own(client, round_):
    relationship = round_.relationship
    client.force_login(relationship.coach)
    _answer(client, round_, reliability=2, comment="Coach's thought")

    page = text(client.get(reverse("checkin_detail", args=[round_.public_id])))
    assert "Sam Coachee hasn't answered yet." in page
    assert "Coach's thought" in page

    client.force_login(relationship.coachee)
    page = text(client.get(reverse("checkin_detail", args=[round_.public_id])))
    assert "Coach's thought" not in page
    assert "I can rely on Casey Coach" in page, "the coachee still gets the form"


def test_after_both_answer_shared_answers_appear_with_the_gap(client, round_):
    relationship = round_.relationship
    client.force_login(relationship.coach)
    _answer(client, round_, reliability=4, comment="More time for 1:1s")
    client.force_login(relationship.coachee)
    _answer(client, round_, reliability=2)

    page = text(client.get(reverse("checkin_detail", args=[round_.public_id])))

    assert "Side by side" in page
    assert "you rated reliability 2; Casey Coach rated it 4" in page
    assert "More time for 1:1s" in page


def test_unshared_answers_never_reach_the_other_person(client, round_):
    relationship = round_.relationship
    client.force_login(relationship.coach)
    _answer(client, round_, shared=False, reliability=1, comment="Secret worry")
    client.force_login(relationship.coachee)
    _answer(client, round_, reliability=5)

    pages = [
        client.get(reverse("checkin_detail", args=[round_.public_id])),
        client.get(reverse("relationship_detail", args=[relationship.public_id])),
        client.get(reverse("relationship_trend", args=[relationship.public_id])),
        client.get(
            reverse("relationship_trend", args=[relationship.public_id]) + "?dimension=reliability",
            headers={"HX-Request": "true"},
        ),
        client.get(reverse("home")),
    ]

    for page in pages:
        assert "Secret worry" not in text(page)
    assert "Casey Coach chose not to share this round's answers." in text(pages[0])
    table = text(pages[3])
    assert "not shared" in table


def test_when_the_window_closes_the_answers_are_revealed(client, round_):
    relationship = round_.relationship
    CheckInResponseFactory(round=round_, respondent=relationship.coach, comment="Seen later")
    client.force_login(relationship.coachee)

    with time_machine.travel(timezone.now() + timedelta(days=8)):
        client.force_login(relationship.coachee)
        page = text(client.get(reverse("checkin_detail", args=[round_.public_id])))

    assert "This check-in closed on" in page
    assert "Seen later" in page


def test_a_response_is_final_and_a_second_submit_stores_nothing(client, round_):
    client.force_login(round_.relationship.coachee)
    _answer(client, round_, reliability=3)

    response = _answer(client, round_, reliability=5)

    assert CheckInResponse.objects.count() == 1
    assert CheckInResponse.objects.get().reliability == 3
    assert "You had already answered this round" in text(client.get(response["Location"]))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"reliability": "6"}, "Select a valid choice."),
        ({"honesty": "0"}, "Select a valid choice."),
        ({"integrity": "lots"}, "Select a valid choice."),
        ({"competence": ""}, "Choose an answer from 1 to 5."),
    ],
)
def test_bad_answers_are_explained_and_nothing_is_stored(client, round_, data, message):
    client.force_login(round_.relationship.coachee)

    response = client.post(
        reverse("checkin_detail", args=[round_.public_id]), {**_answers(), **data}
    )

    assert message in text(response)
    assert not CheckInResponse.objects.exists()


def test_a_closed_round_refuses_answers(client, round_):
    with time_machine.travel(timezone.now() + timedelta(days=8)):
        client.force_login(round_.relationship.coachee)
        response = _answer(client, round_)
        page = text(client.get(response["Location"]))

    assert "This check-in closed on" in page
    assert not CheckInResponse.objects.exists()


def test_someone_elses_round_is_a_404_and_nothing_is_stored(other_coach_client, round_):
    response = _answer(other_coach_client, round_)
    page = other_coach_client.get(reverse("checkin_detail", args=[round_.public_id]))

    assert (response.status_code, page.status_code) == (404, 404)
    assert not CheckInResponse.objects.exists()


def test_the_comment_is_encrypted_at_rest(client, round_):
    client.force_login(round_.relationship.coachee)
    _answer(client, round_, comment="canary-comment-in-plain")

    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM reflections_checkinresponse")
        raw = repr(cursor.fetchall())

    assert "canary-comment-in-plain" not in raw
    assert CheckInResponse.objects.get().comment == "canary-comment-in-plain"


def test_the_stepper_walks_one_statement_at_a_time_and_keeps_answers(client, round_):
    client.force_login(round_.relationship.coachee)
    url = reverse("checkin_step", args=[round_.public_id])
    hx = {"HX-Request": "true"}

    first = client.get(url, {"step": 1}, headers=hx).content.decode()
    assert "Statement 1 of 6" in first and "I can rely on Casey Coach" in first

    stuck = client.post(
        url, {"step": 2, "direction": "next", "shared_present": "1", "shared": "on"}, headers=hx
    )
    assert "Statement 1 of 6" in text(stuck) and "Choose an answer from 1 to 5." in text(stuck)

    second = client.post(
        url,
        {"step": 2, "direction": "next", "shared_present": "1", "reliability": "5", "shared": "on"},
        headers=hx,
    ).content.decode()
    assert "Statement 2 of 6" in second
    assert '<input type="hidden" name="reliability" value="5">' in second

    last = client.post(
        url,
        {"step": 7, "direction": "next", "shared_present": "1", **_answers(3), "shared": "on"},
        headers=hx,
    )
    assert "Last step" in text(last) and "Review my answers" in text(last)
    assert "Send my answers" not in text(last), "sending comes after the review"


def test_either_party_changes_the_cadence(client, relationship):
    client.force_login(relationship.coachee)

    client.post(reverse("checkin_cadence", args=[relationship.public_id]), {"cadence": "monthly"})

    relationship.refresh_from_db()
    assert relationship.checkin_cadence == "monthly"


def test_an_unknown_cadence_is_refused(client, relationship):
    client.force_login(relationship.coach)

    response = client.post(
        reverse("checkin_cadence", args=[relationship.public_id]),
        {"cadence": "hourly"},
        follow=True,
    )

    assert "Choose one of the check-in rhythms." in text(response)
    relationship.refresh_from_db()
    assert relationship.checkin_cadence == "fortnightly"


def test_home_and_navigation_show_what_is_due(client, round_):
    client.force_login(round_.relationship.coachee)

    page = text(client.get(reverse("home")))

    assert "Check in with Casey Coach" in page
    assert "1 check-in due" in page


def test_the_trend_shows_both_perspectives_and_participation(client, relationship):
    today = timezone.localdate()
    for weeks_ago, (mine, theirs) in enumerate([(3, 2), (4, 3), (5, 4)][::-1]):
        round_ = CheckInRoundFactory(
            relationship=relationship,
            opens_on=today - timedelta(days=14 * (weeks_ago + 1)),
            closes_on=today - timedelta(days=14 * (weeks_ago + 1) - 6),
            closed_at=timezone.now(),
        )
        CheckInResponseFactory(round=round_, respondent=relationship.coach, **_ints(mine))
        CheckInResponseFactory(round=round_, respondent=relationship.coachee, **_ints(theirs))
    client.force_login(relationship.coach)

    page = client.get(reverse("relationship_trend", args=[relationship.public_id]))

    html = page.content.decode()
    assert html.count("<circle") == 3 + 1  # three rounds, plus the legend's marker
    assert html.count("<rect") == 3 + 1
    assert "How Sam Coachee sees us (dashed line, squares)" in text(page)
    assert "Rounds answered: Casey Coach 3 of 3, Sam Coachee 3 of 3." in text(page)


def test_empty_and_single_point_trends_say_so(client, relationship):
    client.force_login(relationship.coach)
    empty = text(client.get(reverse("relationship_trend", args=[relationship.public_id])))
    round_ = CheckInRoundFactory(relationship=relationship)
    CheckInResponseFactory(round=round_, respondent=relationship.coach)
    single = text(client.get(reverse("relationship_trend", args=[relationship.public_id])))

    assert "No check-ins yet." in empty
    assert "One round so far: the lines appear from the second." in single


def test_relationship_page_queries_stay_fixed_with_two_years_of_weekly_rounds(
    client, relationship, django_assert_max_num_queries
):
    def add_rounds(count, start):
        for i in range(start, start + count):
            round_ = CheckInRoundFactory(
                relationship=relationship,
                opens_on=timezone.localdate() - timedelta(days=7 * (i + 2)),
                closes_on=timezone.localdate() - timedelta(days=7 * (i + 2) - 6),
                closed_at=timezone.now(),
            )
            CheckInResponseFactory(round=round_, respondent=relationship.coach)
            CheckInResponseFactory(round=round_, respondent=relationship.coachee, shared=False)

    client.force_login(relationship.coachee)
    add_rounds(10, 0)
    url = reverse("relationship_detail", args=[relationship.public_id])
    client.get(url)
    with django_assert_max_num_queries(20) as few:
        client.get(url)
    add_rounds(94, 10)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(url)
    assert response.status_code == 200


def _ints(value):
    return dict.fromkeys(DIMENSION_KEYS, value)


def test_rounds_of_other_relationships_do_not_leak_into_the_trend(client, relationship):
    other = RelationshipFactory(organisation=relationship.organisation, coach=relationship.coach)
    round_ = CheckInRoundFactory(relationship=other)
    CheckInResponseFactory(round=round_, respondent=other.coach)
    client.force_login(relationship.coach)

    page = text(client.get(reverse("relationship_trend", args=[relationship.public_id])))

    assert "No check-ins yet." in page


def test_attack_rounds_answered_disagrees_with_the_table_beside_it(client, relationship):
    """Issue 14, bug 5: the caption counted closed rounds only, the table every round
    with an answer, so an answered open round showed "2 of 2" beside three rows."""
    today = timezone.localdate()
    for fortnights in (2, 1):
        closed = CheckInRoundFactory(
            relationship=relationship,
            opens_on=today - timedelta(days=14 * fortnights),
            closes_on=today - timedelta(days=14 * fortnights - 6),
            closed_at=timezone.now(),
        )
        CheckInResponseFactory(round=closed, respondent=relationship.coach)
    open_round = CheckInRoundFactory(relationship=relationship)
    CheckInResponseFactory(round=open_round, respondent=relationship.coach)
    CheckInResponseFactory(
        round=CheckInRoundFactory(
            relationship=relationship,
            opens_on=today - timedelta(days=42),
            closes_on=today - timedelta(days=36),
            closed_at=timezone.now(),
        ),
        respondent=relationship.coachee,
        shared=False,
    )
    client.force_login(relationship.coach)

    page = client.get(reverse("relationship_trend", args=[relationship.public_id]))

    rows = re.findall(r"<tr><th scope=\"row\">[^<]*</th><td>([^<]*)</td>", page.content.decode())
    mine_answered = len([value for value in rows if value != "—"])
    assert mine_answered == 3
    assert (
        "Rounds answered: Casey Coach 3 of 4, Sam Coachee 1 of 4. The latest round is still open."
        in text(page)
    )
