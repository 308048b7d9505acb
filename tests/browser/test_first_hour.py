"""What a new user tripped over in their first hour (issue 14), each checked in real
Chromium: answers hidden under a chart, a table running out of its card, CSP
violations after htmx saves, banners piling up, an 11,000 px page for one long note,
a phone menu on two lines, and charts with 5 px text."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from reflections.dimensions import DIMENSION_KEYS
from tests.browser.test_journeys import (
    DESKTOP,
    DESKTOP_WIDTHS,
    LAYOUT_PROBLEMS,
    PHONE,
    _person,
    _sign_in,
    _totp,
    alex_and_sam,
)
from tests.factories import (
    TEST_PASSWORD,
    CheckInResponseFactory,
    CheckInRoundFactory,
    HRAdminMembershipFactory,
    IntegrityCheckFactory,
    InvitationFactory,
    NoteFactory,
    RelationshipFactory,
    SessionFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _signed_in(browser: Browser, live_server, user, javascript=True, viewport=DESKTOP) -> Page:
    context = browser.new_context(java_script_enabled=javascript, viewport=viewport)
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("heading", name="Hello,")).to_be_visible()
    return page


def _session(coach, coachee, organisation):
    relationship = RelationshipFactory(organisation=organisation, coach=coach, coachee=coachee)
    return SessionFactory(relationship=relationship, held_on=timezone.localdate())


def _height(page: Page) -> int:
    return page.evaluate("document.documentElement.scrollHeight")


def test_integrity_answers_are_clickable_beside_the_chart_at_desktop_widths(
    browser: Browser, live_server
):
    _organisation, coach, _coachee = alex_and_sam()
    for months in (3, 2, 1):
        IntegrityCheckFactory(
            author=coach, taken_on=timezone.localdate() - timedelta(days=30 * months)
        )
    page = _signed_in(browser, live_server, coach)
    page.goto(f"{live_server.url}/integrity/")
    expect(page.locator("svg.trend-svg")).to_be_visible()

    for width in DESKTOP_WIDTHS:
        page.set_viewport_size({**DESKTOP, "width": width})
        assert page.evaluate(LAYOUT_PROBLEMS) == [], f"at {width}px"
        for statement in page.locator("fieldset.scale").all():
            # A real click: it fails when something else lies on top of the answer.
            statement.get_by_label("5 — Strongly agree").click(timeout=2_000)
            expect(statement.get_by_label("5 — Strongly agree")).to_be_checked()


def test_invitations_table_fits_its_card_at_1280_with_approve_and_withdraw(
    browser: Browser, live_server
):
    membership = HRAdminMembershipFactory(user__email="hana@example.com", mfa=False)
    hana, organisation = membership.user, membership.organisation
    InvitationFactory(organisation=organisation, email="christopher.montgomery-smythe@example.com")
    InvitationFactory(organisation=organisation, email="ivy@example.com", awaiting_approval=True)
    hr = _person(browser, "hr-invitations", True, DESKTOP)
    _sign_in(hr, live_server.url, hana.email, TEST_PASSWORD, totp=_totp(hana))
    hr.page.goto(f"{live_server.url}/organisation/")
    table = hr.page.locator("#invitations .table-wrap")
    expect(table.get_by_role("button", name="Approve and send")).to_be_visible()

    for width in DESKTOP_WIDTHS:
        hr.page.set_viewport_size({**DESKTOP, "width": width})
        assert hr.page.evaluate(LAYOUT_PROBLEMS) == [], f"at {width}px"
        sizes = table.evaluate("wrap => [wrap.scrollWidth, wrap.clientWidth]")
        assert sizes[0] <= sizes[1], f"the table scrolls inside its card at {width}px: {sizes}"


def test_htmx_save_after_a_textarea_was_resized_applies_no_inline_style(
    browser: Browser, live_server
):
    organisation, coach, coachee = alex_and_sam()
    session = _session(coach, coachee, organisation)
    page = _signed_in(browser, live_server, coach)
    violations = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    page.goto(f"{live_server.url}/sessions/{session.public_id}/")

    # Dragging a textarea's corner gives it a style attribute (allowed: it is set through
    # the CSSOM). htmx used to copy it onto the swapped-in textarea with setAttribute.
    note = page.get_by_role("textbox", name="Note")
    note.evaluate("area => { area.style.height = '240px'; }")
    note.fill("Sam seemed wary; remember the reorg.")
    page.get_by_role("button", name="Save note").click()
    expect(page.locator("#notes").get_by_text("remember the reorg")).to_be_visible()
    page.get_by_label("What will be done").evaluate("field => { field.style.width = '90%'; }")
    page.get_by_label("What will be done").fill("Send Sam the onboarding notes")
    page.get_by_role("button", name="Add", exact=True).click()
    expect(
        page.locator("#actions").get_by_text("Send Sam the onboarding notes", exact=True)
    ).to_be_visible()

    assert violations == []


def test_one_banner_at_a_time_after_htmx_actions_and_dismiss_removes_it(
    browser: Browser, live_server
):
    organisation, coach, coachee = alex_and_sam()
    session = _session(coach, coachee, organisation)
    page = _signed_in(browser, live_server, coach)  # "Successfully signed in" is shown
    page.goto(f"{live_server.url}/sessions/{session.public_id}/")
    messages = page.locator(".message")

    page.get_by_role("textbox", name="Note").fill("First note.")
    page.get_by_role("button", name="Save note").click()
    expect(page.locator("#notes").get_by_text("First note.")).to_be_visible()
    page.get_by_label("What will be done").fill("Book the room")
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.locator("#actions").get_by_text("Book the room", exact=True)).to_be_visible()
    page.get_by_role("textbox", name="Note").fill("Second note.")
    page.get_by_role("button", name="Save note").click()
    expect(page.locator("#notes").get_by_text("Second note.")).to_be_visible()

    expect(messages).to_have_count(1)
    page.get_by_role("link", name="Dismiss this message").click()
    expect(messages).to_have_count(0)


def test_dismissing_a_banner_works_without_javascript(browser: Browser, live_server):
    organisation, coach, coachee = alex_and_sam()
    session = _session(coach, coachee, organisation)
    page = _signed_in(browser, live_server, coach, javascript=False)
    page.goto(f"{live_server.url}/sessions/{session.public_id}/")
    page.get_by_role("textbox", name="Note").fill("A note, the page way.")
    page.get_by_role("button", name="Save note").click()
    expect(page.locator(".message")).to_have_count(1)

    page.get_by_role("link", name="Dismiss this message").click()

    expect(page.locator(".message")).to_have_count(0)
    expect(page.get_by_text("A note, the page way.")).to_be_visible()


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "nojs"])
def test_a_20000_character_note_is_folded_behind_show_more(
    browser: Browser, live_server, javascript
):
    organisation, coach, coachee = alex_and_sam()
    session = _session(coach, coachee, organisation)
    paragraph = "We talked about the reorg and what the team makes of the new priorities. " * 14
    body = "\n\n".join([paragraph] * 20) + "\n\nThe very last line."
    assert len(body) >= 20_000
    NoteFactory(relationship=session.relationship, session=session, author=coach, body=body)
    page = _signed_in(browser, live_server, coach, javascript=javascript, viewport=PHONE)
    page.goto(f"{live_server.url}/sessions/{session.public_id}/")

    folded = _height(page)
    last = page.get_by_text("The very last line.")
    fold = page.locator("details.long-text > summary")
    expect(page.get_by_text("We talked about the reorg").first).to_be_visible()
    # Folded, the note's end lies clipped far below its "Show more".
    assert last.bounding_box()["y"] > fold.bounding_box()["y"] + 1_000
    page.get_by_text("Show more").click()
    expect(last).to_be_visible()
    assert last.bounding_box()["y"] < fold.bounding_box()["y"]
    unfolded = _height(page)
    page.get_by_text("Show less").click()

    assert folded < 4_000 < unfolded, (folded, unfolded)
    assert _height(page) == folded
    assert page.evaluate(LAYOUT_PROBLEMS) == []


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "nojs"])
def test_phone_navigation_fits_one_line_and_opens_without_javascript(
    browser: Browser, live_server, javascript
):
    # An HR admin has the most links (two-factor set-up is not what this is about).
    hana = HRAdminMembershipFactory(user__email="hana@example.com", mfa=False).user
    page = _signed_in(browser, live_server, hana, javascript=javascript, viewport=PHONE)
    navigation = page.get_by_role("navigation", name="Main")
    header = page.locator(".site-header")

    assert header.bounding_box()["height"] < 80, "one line: the brand and a Menu button"
    expect(navigation.get_by_role("button", name="Sign out")).not_to_be_visible()
    navigation.get_by_text("Menu", exact=True).click()
    expect(navigation.get_by_role("button", name="Sign out")).to_be_visible()
    navigation.get_by_role("link", name="Journal").click()
    expect(page.get_by_role("heading", name="My private journal")).to_be_visible()
    assert page.evaluate(LAYOUT_PROBLEMS) == []

    # On a desktop the links are in a row, with no menu to open.
    page.set_viewport_size(DESKTOP)
    expect(navigation.get_by_text("Menu", exact=True)).not_to_be_visible()
    expect(navigation.get_by_role("button", name="Sign out")).to_be_visible()
    assert header.bounding_box()["height"] < 80


def test_trend_chart_fills_its_card_labels_every_month_and_is_legible_on_a_phone(
    browser: Browser, live_server
):
    organisation, coach, coachee = alex_and_sam()
    relationship = RelationshipFactory(organisation=organisation, coach=coach, coachee=coachee)
    today = timezone.localdate()
    for weeks in range(26, 0, -2):  # six months of rounds, every two weeks
        round_ = CheckInRoundFactory(
            relationship=relationship,
            opens_on=today - timedelta(weeks=weeks),
            closes_on=today - timedelta(weeks=weeks) + timedelta(days=6),
            closed_at=timezone.now() - timedelta(weeks=weeks - 1),
        )
        for person, value in ((coach, 3), (coachee, 4)):
            CheckInResponseFactory(
                round=round_, respondent=person, **dict.fromkeys(DIMENSION_KEYS, value)
            )
    page = _signed_in(browser, live_server, coach, viewport=PHONE)
    page.goto(f"{live_server.url}/relationships/{relationship.public_id}/trend/")
    months = {f"{today - timedelta(weeks=w):%b}" for w in range(26, 0, -2)}
    measure = """chart => {
        const card = chart.closest('.card'), style = getComputedStyle(card);
        const inner = card.clientWidth - parseFloat(style.paddingLeft)
            - parseFloat(style.paddingRight);
        const labels = [...chart.querySelectorAll('text.tick')]
            .filter((t) => getComputedStyle(t).display !== 'none');
        return {
            share: chart.getBoundingClientRect().width / inner,
            smallest: Math.min(...labels.map((t) => parseFloat(getComputedStyle(t).fontSize)
                * t.getScreenCTM().a)),
            months: labels.map((t) => t.firstChild.textContent).filter((t) => /^[A-Z]/.test(t)),
        };
    }"""

    for viewport in (PHONE, DESKTOP):
        page.set_viewport_size(viewport)
        seen = page.locator("svg.trend-svg").evaluate(measure)
        assert seen["share"] > 0.98, f"the chart fills its card at {viewport['width']}px"
        assert seen["smallest"] >= 11, f"legible text at {viewport['width']}px: {seen}"
        assert page.evaluate(LAYOUT_PROBLEMS) == [], f"at {viewport['width']}px"
    assert set(seen["months"]) == months, "every month is labelled on a desktop"
