"""Issue 14: one mis-tap must not become a final answer. In a real browser, with
JavaScript (the stepper) and without (one screen), the person reviews all six answers,
changes one, and only then sends them."""

import pytest
from playwright.sync_api import Browser, expect

from reflections.dimensions import DIMENSION_KEYS
from reflections.models import CheckInResponse
from tests.browser.test_coaching_journey import _sign_in
from tests.browser.test_journeys import alex_and_sam
from tests.factories import CheckInRoundFactory, RelationshipFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _round():
    organisation, coach, coachee = alex_and_sam()
    relationship = RelationshipFactory(organisation=organisation, coach=coach, coachee=coachee)
    return CheckInRoundFactory(relationship=relationship)


@pytest.mark.parametrize("javascript", [True, False])
def test_a_mistap_is_caught_on_the_review_and_changed_before_sending(
    browser: Browser, live_server, javascript
):
    round_ = _round()
    page = browser.new_context(java_script_enabled=javascript).new_page()
    _sign_in(page, live_server.url, "alex@example.com")
    page.goto(f"{live_server.url}/checkins/{round_.public_id}/")

    if javascript:
        for step in range(6):
            expect(page.locator(".step-count")).to_have_text(f"Statement {step + 1} of 6")
            # The mis-tap: "1" on the third statement.
            page.get_by_label("1 — Strongly disagree" if step == 2 else "4 — Agree").check()
            page.get_by_role("button", name="Next").click()
        expect(page.locator(".step-count")).to_have_text("Last step: anything to add?")
    else:
        statements = page.locator("fieldset.scale")
        for index in range(6):
            answer = "1 — Strongly disagree" if index == 2 else "4 — Agree"
            statements.nth(index).get_by_label(answer).check()
    page.get_by_role("button", name="Review my answers").click()

    expect(page.get_by_role("heading", name="Check your answers")).to_be_visible()
    expect(page.get_by_text("1 — Strongly disagree")).to_be_visible()
    assert not CheckInResponse.objects.exists()

    page.get_by_role("button", name="Change your answer to statement 3").click()
    if javascript:
        expect(page.locator(".step-count")).to_have_text("Statement 3 of 6")
        page.get_by_label("4 — Agree").check()
        page.get_by_role("button", name="Back to the review").click()
    else:
        page.locator("#answer-3").get_by_label("4 — Agree").check()
        page.get_by_role("button", name="Review my answers").click()
    expect(page.get_by_role("heading", name="Check your answers")).to_be_visible()
    expect(page.get_by_text("1 — Strongly disagree")).to_have_count(0)
    page.get_by_role("button", name="Send my answers").click()

    expect(page.get_by_text("Your answers are saved and can't be changed.")).to_be_visible()
    response = CheckInResponse.objects.get()
    assert [getattr(response, key) for key in DIMENSION_KEYS] == [4] * 6
    assert response.respondent.email == "alex@example.com"
