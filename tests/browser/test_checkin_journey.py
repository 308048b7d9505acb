"""Both people answer a trust check-in in real browsers: one steps through the
statements (htmx), the other uses the one-screen form with JavaScript off."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, expect

from reflections.dimensions import DIMENSION_KEYS
from tests.browser.test_coaching_journey import _sign_in
from tests.browser.test_signup_journey import _shot
from tests.factories import (
    CheckInResponseFactory,
    CheckInRoundFactory,
    MembershipFactory,
    OrganisationFactory,
    RelationshipFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_both_answer_and_the_second_sees_the_gap_at_once(browser: Browser, live_server):
    organisation = OrganisationFactory()
    coach = MembershipFactory(
        organisation=organisation, user__display_name="Alex Coach", user__email="alex@example.com"
    ).user
    coachee = MembershipFactory(
        organisation=organisation, user__display_name="Sam Lee", user__email="sam@example.com"
    ).user
    relationship = RelationshipFactory(organisation=organisation, coach=coach, coachee=coachee)
    earlier = CheckInRoundFactory(
        relationship=relationship,
        opens_on=timezone.localdate() - timedelta(days=14),
        closes_on=timezone.localdate() - timedelta(days=8),
        closed_at=timezone.now(),
    )
    for person, value in ((coach, 3), (coachee, 3)):
        CheckInResponseFactory(
            round=earlier, respondent=person, **dict.fromkeys(DIMENSION_KEYS, value)
        )
    round_ = CheckInRoundFactory(relationship=relationship)

    # The coach steps through the statements one at a time.
    coach_page = browser.new_context().new_page()
    _sign_in(coach_page, live_server.url, coach.email)
    coach_page.get_by_role("link", name="Check in with Sam Lee").click()
    expect(coach_page.locator(".step-count")).to_have_text("Statement 1 of 6")
    coach_page.get_by_role("button", name="Next").click()
    expect(coach_page.get_by_text("Choose an answer from 1 to 5.")).to_be_visible()
    for step in range(6):
        coach_page.get_by_label("4 — Agree").check()
        coach_page.get_by_role("button", name="Next").click()
        if step < 5:
            # The step's own text, not the screen reader's live region that repeats it.
            expect(coach_page.locator(".step-count")).to_have_text(f"Statement {step + 2} of 6")
    expect(coach_page.locator(".step-count")).to_have_text("Last step: anything to add?")
    coach_page.get_by_label("What would add a drop to our trust bucket").fill(
        "Tell me when I interrupt."
    )
    coach_page.get_by_role("button", name="Review my answers").click()
    expect(coach_page.locator(".step-count")).to_have_text("Check your answers")
    coach_page.get_by_role("button", name="Send my answers").click()
    expect(coach_page.get_by_text("Sam Lee hasn't answered yet.")).to_be_visible()

    # Sam answers on one screen with JavaScript off, and sees the gap at once.
    context = browser.new_context(java_script_enabled=False)
    coachee_page = context.new_page()
    _sign_in(coachee_page, live_server.url, coachee.email)
    coachee_page.goto(f"{live_server.url}/checkins/{round_.public_id}/")
    statements = coachee_page.locator("fieldset.scale")
    expect(statements).to_have_count(6)
    for index in range(6):
        answer = "2 — Disagree" if index == 0 else "4 — Agree"
        statements.nth(index).get_by_label(answer).check()
    coachee_page.get_by_role("button", name="Review my answers").click()
    coachee_page.get_by_role("button", name="Send my answers").click()
    expect(coachee_page.get_by_role("heading", name="Side by side")).to_be_visible()
    expect(
        coachee_page.get_by_text("you rated reliability 2; Alex Coach rated it 4")
    ).to_be_visible()
    expect(coachee_page.get_by_text("Tell me when I interrupt.")).to_be_visible()
    _shot(coachee_page, "20-checkin-gap")

    # The trend: two rounds, two lines.
    coachee_page.get_by_role("link", name="See how trust has moved over time").click()
    chart = coachee_page.locator("svg.trend-svg")
    expect(chart).to_be_visible()
    expect(chart.locator(".series-mine path")).to_have_count(1)
    expect(chart.locator(".series-theirs path")).to_have_count(1)
    _shot(coachee_page, "21-trend")
