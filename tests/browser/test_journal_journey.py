"""A coach reflects from a prompt on the relationship page and records a self-check;
the coachee can reach neither."""

import pytest
from playwright.sync_api import Browser, expect

from reflections.models import Reflection
from tests.browser.test_coaching_journey import _sign_in
from tests.browser.test_signup_journey import _shot
from tests.factories import MembershipFactory, OrganisationFactory, RelationshipFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_coach_reflects_and_rates_themself_and_the_coachee_sees_none_of_it(
    browser: Browser, live_server
):
    organisation = OrganisationFactory()
    coach = MembershipFactory(
        organisation=organisation, user__display_name="Alex Coach", user__email="alex@example.com"
    ).user
    coachee = MembershipFactory(
        organisation=organisation, user__display_name="Sam Lee", user__email="sam@example.com"
    ).user
    relationship = RelationshipFactory(organisation=organisation, coach=coach, coachee=coachee)

    page = browser.new_context().new_page()
    _sign_in(page, live_server.url, coach.email)
    page.goto(f"{live_server.url}/relationships/{relationship.public_id}/")
    page.get_by_role("link", name="How might Sam Lee see me now?").click()
    expect(page.locator(".prompt-quote")).to_have_text("How might Sam Lee see me now?")
    page.get_by_label("Your reflection").fill("As the manager who moved their team. Start there.")
    page.get_by_role("button", name="Save entry").click()
    expect(page.get_by_text("Saved to your private journal.")).to_be_visible()
    expect(page.get_by_text("As the manager who moved their team.")).to_be_visible()

    page.get_by_role("link", name="Integrity self-check").click()
    for fieldset in page.locator("fieldset.scale").all():
        fieldset.get_by_label("4 — Agree").check()
    page.get_by_role("button", name="Save my self-check").click()
    expect(page.get_by_text("Self-check saved. Only you can see it.")).to_be_visible()
    expect(page.locator("svg.trend-svg .series-mine circle")).to_have_count(1)
    _shot(page, "30-integrity")

    entry = Reflection.objects.get()
    other = browser.new_context().new_page()
    _sign_in(other, live_server.url, coachee.email)
    other.goto(f"{live_server.url}/journal/")
    expect(other.get_by_text("As the manager who moved their team.")).to_have_count(0)
    assert other.goto(f"{live_server.url}/journal/{entry.public_id}/edit/").status == 404
    other.goto(f"{live_server.url}/integrity/")
    expect(other.get_by_text("Nothing to show yet.")).to_be_visible()
