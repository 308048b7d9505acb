"""Issue 14: answers are final, so before "Send my answers" the person sees all six
answers and the comment together, with a way to change any of them, with JavaScript
(the stepper) and without (one screen). Nothing is stored until they confirm. And the
page stops promising secrecy once both have answered (bug 6)."""

import re

import pytest
from django.urls import reverse

from reflections.dimensions import DIMENSION_KEYS
from reflections.models import CheckInResponse
from tests.factories import CheckInResponseFactory, CheckInRoundFactory
from tests.helpers import text

pytestmark = pytest.mark.django_db
HX = {"HX-Request": "true"}


@pytest.fixture
def round_(relationship):
    return CheckInRoundFactory(relationship=relationship)


def _form(value=4, **extra):
    return {**dict.fromkeys(DIMENSION_KEYS, str(value)), "shared": "on", **extra}


def _detail(round_):
    return reverse("checkin_detail", args=[round_.public_id])


def _step(round_):
    return reverse("checkin_step", args=[round_.public_id])


def test_attack_one_mistap_becomes_a_final_answer(client, round_):
    client.force_login(round_.relationship.coachee)

    review = client.post(_detail(round_), _form(honesty="1", comment="More time for questions"))

    page = text(review)
    assert review.status_code == 200
    assert not CheckInResponse.objects.exists(), "nothing is stored before confirming"
    assert "Check your answers" in page
    assert "I can rely on Casey Coach to do what they say they will." in page
    assert "I can be myself with Casey Coach without being judged." in page
    assert page.count("4 — Agree") == 5 and page.count("1 — Strongly disagree") == 1
    assert "More time for questions" in page
    assert "Shared with Casey Coach once you have both answered." in page
    assert page.count("Change") >= 7
    assert "Send my answers" in page


def test_without_javascript_change_shows_the_whole_form_filled_in(client, round_):
    client.force_login(round_.relationship.coachee)

    again = client.post(
        _detail(round_), _form(honesty="1", comment="Keep this", change="3")
    ).content.decode()

    assert not CheckInResponse.objects.exists()
    assert re.search(r'<input type="radio" name="honesty" value="1"[^>]*checked', again)
    assert re.search(r'<input type="radio" name="reliability" value="4"[^>]*checked', again)
    assert "Keep this" in again
    assert 'id="answer-3"' in again, "the Change link's #answer-3 lands on the statement"
    assert 'hx-trigger="load"' not in again, "a filled-in form is not swapped for an empty one"


def test_the_review_carries_every_answer_to_the_final_send(client, round_):
    client.force_login(round_.relationship.coachee)
    review = client.post(_detail(round_), _form(3, comment="Thanks", shared="")).content.decode()

    hidden = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', review))
    assert {key: hidden[key] for key in DIMENSION_KEYS} == dict.fromkeys(DIMENSION_KEYS, "3")
    assert hidden["comment"] == "Thanks" and "shared" not in hidden
    assert re.search(r'<button[^>]*type="submit"[^>]*name="confirm" value="1"', review)

    sent = client.post(_detail(round_), {**hidden, "confirm": "1"})

    assert sent.status_code == 302
    response = CheckInResponse.objects.get()
    assert (response.reliability, response.comment, response.shared) == (3, "Thanks", False)


def test_a_resent_confirm_stores_one_answer(client, round_):
    client.force_login(round_.relationship.coachee)

    client.post(_detail(round_), _form(2, confirm="1"))
    again = client.post(_detail(round_), _form(5, confirm="1"))

    assert CheckInResponse.objects.count() == 1
    assert CheckInResponse.objects.get().reliability == 2
    assert "You had already answered this round" in text(client.get(again["Location"]))


def test_the_stepper_ends_with_the_review_and_change_goes_back_to_that_step(client, round_):
    client.force_login(round_.relationship.coachee)
    carried = {"shared_present": "1", **_form(4, comment="Fine")}

    last = client.post(_step(round_), {"step": 7, "direction": "next", **carried}, headers=HX)
    assert "Review my answers" in text(last) and "Send my answers" not in text(last)

    review = client.post(_step(round_), {"step": 8, **carried}, headers=HX)
    page = text(review)
    assert review.content.decode().lstrip().startswith('<form id="checkin-form"')
    assert "Check your answers" in page and "Send my answers" in page
    assert page.count("4 — Agree") == 6 and "Fine" in page
    assert not CheckInResponse.objects.exists()

    change = client.post(_step(round_), {"step": 2, **carried}, headers=HX)
    assert "Statement 2 of 6" in text(change)
    assert "Back to the review" in text(change)


def test_the_stepper_review_sends_a_missing_answer_back_to_its_statement(client, round_):
    client.force_login(round_.relationship.coachee)
    carried = {"shared_present": "1", **_form(4)}
    del carried["competence"]

    response = client.post(_step(round_), {"step": 8, **carried}, headers=HX)

    assert "Statement 2 of 6" in text(response)
    assert "Choose an answer from 1 to 5." in text(response)


def test_the_review_shows_a_typed_comment_as_text(client, round_):
    client.force_login(round_.relationship.coachee)
    comment = '<img src=x onerror=alert(1)> "quoted" & <b>bold</b>'

    review = client.post(_detail(round_), _form(comment=comment)).content.decode()

    assert "<img src=x" not in review and "<b>bold</b>" not in review
    assert "&lt;img src=x onerror=alert(1)&gt;" in review
    assert re.search(r'<div class="review-answer" hx-disable>', review)


def test_attack_after_both_answered_the_page_still_says_neither_sees_the_other(client, round_):
    relationship = round_.relationship
    CheckInResponseFactory(round=round_, respondent=relationship.coach)
    CheckInResponseFactory(round=round_, respondent=relationship.coachee)
    client.force_login(relationship.coachee)

    page = text(client.get(_detail(round_)))

    assert "Side by side" in page
    assert "Neither of you sees the other's answers" not in page
    assert "You have both answered." in page


def test_before_both_answered_the_page_still_says_so(client, round_):
    CheckInResponseFactory(round=round_, respondent=round_.relationship.coach)
    client.force_login(round_.relationship.coach)

    page = text(client.get(_detail(round_)))

    assert "Neither of you sees the other's answers until you have both answered." in page


def test_a_comment_over_several_lines_survives_the_review(client, round_):
    client.force_login(round_.relationship.coachee)
    comment = "First line\nSecond line"
    review = client.post(_detail(round_), _form(comment=comment)).content.decode()
    hidden = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', review))

    client.post(_detail(round_), {**hidden, "confirm": "1"})

    assert CheckInResponse.objects.get().comment == comment
