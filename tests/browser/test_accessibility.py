"""Keyboard use, announcements after htmx swaps, print and colour schemes, in real
Chromium; and proof that the journeys' accessibility and layout checks can fail."""

from datetime import timedelta

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from reflections.dimensions import DIMENSION_KEYS
from tests.browser.test_journeys import LAYOUT_PROBLEMS, PHONE, SERIOUS, alex_and_sam
from tests.browser.test_signup_journey import SCREENSHOTS, _shot
from tests.factories import (
    TEST_PASSWORD,
    ActionItemFactory,
    CheckInResponseFactory,
    CheckInRoundFactory,
    RelationshipFactory,
    SessionFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _session_page(browser: Browser, live_server, **context) -> tuple[Page, object]:
    organisation, coach, coachee = alex_and_sam()
    relationship = RelationshipFactory(organisation=organisation, coach=coach, coachee=coachee)
    session = SessionFactory(
        relationship=relationship,
        held_on=timezone.localdate(),
        summary="We agreed on three next steps.",
    )
    ActionItemFactory(relationship=relationship, session=session, owner="coach", text="Book it")
    page = browser.new_context(**context).new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email").fill(coach.email)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.goto(f"{live_server.url}/sessions/{session.public_id}/")
    return page, session


def _tab_to(page: Page, predicate: str, limit: int = 80) -> None:
    """Press Tab until the focused element satisfies `predicate` (a JS expression on
    `el`): proof that a keyboard alone reaches it."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(f"(() => {{ const el = document.activeElement; return {predicate}; }})()"):
            return
    raise AssertionError(f"{predicate} not reached with {limit} presses of Tab")


def _focus_ring(page: Page) -> str:
    return page.evaluate(
        "(() => { const s = getComputedStyle(document.activeElement);"
        " return s.outlineStyle + ' ' + s.outlineWidth; })()"
    )


def test_a_keyboard_alone_writes_a_note_and_ticks_an_item_and_hears_the_result(
    browser: Browser, live_server
):
    page, _session = _session_page(browser, live_server)

    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    assert _focus_ring(page).startswith("solid"), "the focused control shows a ring"

    _tab_to(page, "el.tagName === 'TEXTAREA' && el.name === 'body'")
    assert _focus_ring(page).startswith("solid")
    page.keyboard.type("Typed without a mouse.")
    _tab_to(page, "el.tagName === 'BUTTON' && el.textContent.includes('Save note')")
    page.keyboard.press("Enter")

    # htmx swapped the notes in place: the result is announced, focus stays in the region.
    expect(page.locator("#announcer")).to_have_text("Note saved.")
    expect(page.locator("#notes article", has_text="Typed without a mouse.")).to_be_visible()
    assert page.evaluate("document.getElementById('notes').contains(document.activeElement)")

    _tab_to(page, "el.tagName === 'BUTTON' && el.textContent.includes('Mark done')")
    page.keyboard.press("Enter")
    expect(page.locator("#announcer")).to_have_text("Marked done.")
    expect(page.get_by_text("Done (1)")).to_be_visible()
    assert page.evaluate("document.getElementById('actions').contains(document.activeElement)")


def test_a_session_prints_as_a_plain_document(browser: Browser, live_server):
    page, _session = _session_page(browser, live_server)

    page.emulate_media(media="print")

    expect(page.get_by_text("We agreed on three next steps.")).to_be_visible()
    expect(page.locator(".site-header")).to_be_hidden()
    expect(page.get_by_role("button", name="Save note")).to_be_hidden()
    expect(page.get_by_role("textbox", name="Note")).to_be_hidden()
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(255, 255, 255)"
    page.pdf(path=str(SCREENSHOTS / "session-print.pdf"))


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_colours_follow_the_system_setting_and_stay_accessible(
    browser: Browser, live_server, scheme
):
    page, _session = _session_page(browser, live_server, color_scheme=scheme)

    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    violations = [v["id"] for v in Axe().run(page).response["violations"] if v["impact"] in SERIOUS]

    dark = sum(int(x) for x in background[4:-1].split(",")) < 3 * 128
    assert dark == (scheme == "dark"), background
    assert violations == []
    _shot(page, f"session-{scheme}")


def test_the_accessibility_and_layout_checks_catch_what_they_look_for(browser: Browser):
    page = browser.new_context(viewport=PHONE).new_page()
    page.set_content(
        "<main><img src='x.png'><input type='text'>"
        "<div style='width: 600px'>too wide</div>"
        "<button style='position: absolute; top: 0; left: 0'>One</button>"
        "<button style='position: absolute; top: 0; left: 0'>Two</button>"
        "<div class='card' style='width: 200px'><div style='width: 300px'>too wide</div></div>"
        "<button style='position: absolute; top: 100px; left: 0'>Hidden</button>"
        "<p style='position: absolute; top: 95px; left: 0; width: 150px; height: 60px;"
        " background: white'>a chart on top</p></main>"
    )

    violations = {v["id"] for v in Axe().run(page).response["violations"] if v["impact"] in SERIOUS}
    problems = page.evaluate(LAYOUT_PROBLEMS)

    assert {"image-alt", "label"} <= violations
    assert any("scrolls sideways" in p for p in problems)
    assert any(p.startswith("cut off: <div") for p in problems)
    assert any(p.startswith('overlap: "One" and "Two"') for p in problems)
    assert any(p.startswith("out of its card: <div") for p in problems)
    assert any(
        p.startswith('not clickable at its centre: <button class=""> Hidden (covered by <p')
        for p in problems
    )


def test_the_trend_chart_reads_without_colour_and_has_a_table(browser: Browser, live_server):
    page, session = _session_page(browser, live_server)
    relationship = session.relationship
    for weeks, (coach_value, coachee_value) in enumerate([(3, 4), (4, 2)], start=2):
        round_ = CheckInRoundFactory(
            relationship=relationship,
            opens_on=timezone.localdate() - timedelta(weeks=weeks),
            closed_at=timezone.now() - timedelta(weeks=weeks - 1),
        )
        CheckInResponseFactory(
            round=round_,
            respondent=relationship.coach,
            **dict.fromkeys(DIMENSION_KEYS, coach_value),
        )
        CheckInResponseFactory(
            round=round_,
            respondent=relationship.coachee,
            **dict.fromkeys(DIMENSION_KEYS, coachee_value),
        )

    page.goto(f"{live_server.url}/relationships/{relationship.public_id}/trend/")
    chart = page.locator("svg.trend-svg")
    dashes = [
        chart.locator(f".series-{key} path").evaluate("p => getComputedStyle(p).strokeDasharray")
        for key in ("mine", "theirs")
    ]

    assert dashes[0] != dashes[1], "the two lines differ by more than colour"
    expect(chart.locator(".series-mine circle")).to_have_count(2)
    expect(chart.locator(".series-theirs rect")).to_have_count(2)
    expect(chart.get_by_role("img")).to_have_count(0)  # the svg itself is the one image
    assert "The table below has every value" in chart.locator("desc").text_content()
    page.get_by_text("Show as a table").click()
    expect(page.get_by_role("row")).to_have_count(3)


@pytest.mark.parametrize("javascript", [True, False])
def test_the_relationship_page_brings_in_its_chart_or_links_to_it(
    browser: Browser, live_server, javascript
):
    page, session = _session_page(browser, live_server, java_script_enabled=javascript)
    relationship = session.relationship
    for weeks in (2, 3):
        round_ = CheckInRoundFactory(
            relationship=relationship,
            opens_on=timezone.localdate() - timedelta(weeks=weeks),
            closed_at=timezone.now() - timedelta(weeks=weeks - 1),
        )
        CheckInResponseFactory(round=round_, respondent=relationship.coach)

    page.goto(f"{live_server.url}/relationships/{relationship.public_id}/")
    region = page.locator("#trend")
    region.scroll_into_view_if_needed()

    if javascript:  # htmx draws it in place once it scrolls into view
        expect(region.locator("svg.trend-svg .series-mine circle")).to_have_count(2)
        page.get_by_role("link", name="Reliability").click()  # and switches it in place
        expect(page.get_by_role("heading", name="Trust bucket: reliability")).to_be_visible()
        assert page.url.endswith(f"/relationships/{relationship.public_id}/")
    else:
        expect(region.locator("svg")).to_have_count(0)
        region.get_by_role("link", name="See how trust has moved over time").click()
        expect(page.locator("svg.trend-svg .series-mine circle")).to_have_count(2)


def test_the_check_in_stepper_keeps_keyboard_focus_and_says_where_you_are(
    browser: Browser, live_server
):
    page, session = _session_page(browser, live_server)
    round_ = CheckInRoundFactory(relationship=session.relationship)
    page.goto(f"{live_server.url}/checkins/{round_.public_id}/")
    # The step count, not the screen reader's copy of it in #announcer.
    expect(page.locator(".step-count")).to_have_text("Statement 1 of 6")
    # With JavaScript the stepper replaces the page's form once loaded (hx-trigger="load")
    # and announces its first step: answers given before then go with the old form.
    expect(page.locator("#announcer")).to_have_text("Statement 1 of 6")

    page.get_by_label("4 — Agree").focus()
    page.keyboard.press("Space")
    page.get_by_role("button", name="Next").focus()
    page.keyboard.press("Enter")

    expect(page.locator("#announcer")).to_have_text("Statement 2 of 6")
    assert page.evaluate("document.activeElement.matches('#checkin-form fieldset input')"), (
        "focus moves to the next statement's answers"
    )
