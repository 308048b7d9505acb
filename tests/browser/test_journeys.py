"""The three journeys of Rapport, each in real Chromium four ways: with and without
JavaScript, on a desktop and on a phone-sized screen (390×844). Every page a journey
reaches is checked as it is reached: axe-core finds no serious or critical
accessibility violation; on the phone and at three desktop widths (1024, 1280 and
1440 px) nothing runs off the side of the screen or out of its card, lies on top of
another control, or covers a control's centre; and the browser's console shows no
error and no Content Security Policy violation. Screenshots land in
test-artifacts/screenshots/."""

import json
import re
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import generate_totp_secret
from axe_playwright_python.sync_playwright import Axe
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from accounts.models import AuditEvent, Invitation, Team, User
from reflections.dimensions import DIMENSION_KEYS
from reflections.models import CheckInResponse, Reflection
from relationships import services as relationship_services
from relationships.models import ActionItem, CoachingRelationship, Note
from tests.browser.test_signup_journey import _shot
from tests.factories import (
    TEST_PASSWORD,
    ActionItemFactory,
    CheckInResponseFactory,
    CheckInRoundFactory,
    IntegrityCheckFactory,
    MembershipFactory,
    NoteFactory,
    OrganisationFactory,
    RelationshipFactory,
    SessionFactory,
)
from tests.helpers import totp_code

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
# A desktop page is also laid out at these widths (by resizing it, not walking again).
DESKTOP_WIDTHS = (1024, 1280, 1440)
VARIANTS = [
    pytest.param(True, DESKTOP, id="js-desktop"),
    pytest.param(False, DESKTOP, id="nojs-desktop"),
    pytest.param(True, PHONE, id="js-phone"),
    pytest.param(False, PHONE, id="nojs-phone"),
]
SERIOUS = {"serious", "critical"}
SCRIPT = re.compile(r"<script\b[^>]*>.*?</script>", re.DOTALL | re.IGNORECASE)

# Horizontal scrolling, boxes cut off at the screen's edge, controls on top of each other.
LAYOUT_PROBLEMS = (Path(__file__).parent / "layout_problems.js").read_text()


@dataclass
class Person:
    """Someone in their own browser. `look` checks the page they are on."""

    page: Page
    variant: str
    name: str
    phone: bool
    javascript: bool
    seen: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)

    def __post_init__(self):
        self.page.on("console", self._heard)
        self.page.on("pageerror", lambda error: self.console.append(f"script error: {error}"))

    def _heard(self, message) -> None:
        # Errors and CSP violations; a CSP report can come as a warning, so both count.
        if message.type == "error" or "Content Security Policy" in message.text:
            self.console.append(f"console {message.type}: {message.text}")

    def listen(self, step: str) -> None:
        """What the console said since the last look, as problems of this step."""
        self.problems += [f"{step}: {said}" for said in self.console]
        self.console.clear()

    def look(self, step: str) -> None:
        self.seen.append(step)
        self.listen(step)
        audit = self.page if self.javascript else self._scripted_copy()
        for violation in Axe().run(audit).response["violations"]:
            if violation["impact"] in SERIOUS:
                targets = [node["target"] for node in violation["nodes"]][:3]
                self.problems.append(f"{step}: axe {violation['id']} on {targets}")
        if audit is not self.page:
            audit.context.close()
        # A plain evaluate works even with the page's own scripts off.
        if self.phone:
            self.problems += [f"{step}: {p}" for p in self.page.evaluate(LAYOUT_PROBLEMS)]
        else:
            for width in DESKTOP_WIDTHS:
                self.page.set_viewport_size({**DESKTOP, "width": width})
                layout = self.page.evaluate(LAYOUT_PROBLEMS)
                self.problems += [f"{step} at {width}px: {p}" for p in layout]
            self.page.set_viewport_size(DESKTOP)
        self.listen(step)
        _shot(self.page, f"journey-{self.name}-{self.variant}-{len(self.seen):02d}-{step}")

    def _scripted_copy(self) -> Page:
        """axe runs asynchronously, which needs scripting on. So the page as it stands
        without JavaScript (its exact DOM, scripts removed, same styles and screen) is
        audited in a page that allows scripts."""
        origin = re.match(r"https?://[^/]+", self.page.url).group(0)
        html = SCRIPT.sub("", self.page.content())
        html = html.replace("<head>", f'<head><base href="{origin}/">', 1)
        context = self.page.context.browser.new_context(viewport=self.page.viewport_size)
        copy = context.new_page()
        copy.set_content(html, wait_until="load")
        styled = "getComputedStyle(document.documentElement).getPropertyValue('--accent')"
        assert copy.evaluate(styled), "the copy has Rapport's stylesheet"
        return copy


def _person(browser: Browser, name: str, javascript: bool, viewport: dict) -> Person:
    context = browser.new_context(
        java_script_enabled=javascript, viewport=viewport, accept_downloads=True
    )
    context.set_default_timeout(10_000)
    variant = f"{'js' if javascript else 'nojs'}-{'phone' if viewport is PHONE else 'desktop'}"
    return Person(context.new_page(), variant, name, viewport is PHONE, javascript)


def alex_and_sam():
    """Acme Coaching, with Alex who will coach and Sam who will be coached."""
    organisation = OrganisationFactory(name="Acme Coaching")
    coach = MembershipFactory(
        organisation=organisation, user__display_name="Alex Coach", user__email="alex@example.com"
    ).user
    coachee = MembershipFactory(
        organisation=organisation, user__display_name="Sam Lee", user__email="sam@example.com"
    ).user
    return organisation, coach, coachee


def _totp(user) -> str:
    secret = generate_totp_secret()
    Authenticator.objects.create(user=user, type=Authenticator.Type.TOTP, data={"secret": secret})
    return secret


def _sign_in(person: Person, base_url: str, email: str, password: str, totp: str | None = None):
    page = person.page
    page.goto(f"{base_url}/accounts/login/")
    person.look("sign-in")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()
    if totp:
        person.look("two-factor")
        page.get_by_label("Code").fill(totp_code(totp))
        page.get_by_role("button", name="Sign In").click()
    expect(page.get_by_role("heading", name="Hello,")).to_be_visible()
    person.look("home")


def _open_nav(person: Person, name: str) -> None:
    navigation = person.page.get_by_role("navigation", name="Main")
    if person.phone:  # the links fold into a menu on a phone
        navigation.get_by_text("Menu", exact=True).click()
    navigation.get_by_role("link", name=name).click()


def _answer_checkin(person: Person, answers: list[int], share: bool) -> None:
    """The stepper with JavaScript, the one-screen form without it."""
    page = person.page
    labels = {1: "1 — Strongly disagree", 2: "2 — Disagree", 3: "3 — Neither", 4: "4 — Agree"}
    labels[5] = "5 — Strongly agree"
    if person.javascript:
        for step, answer in enumerate(answers):
            # The step's own text, not the screen readers' live region that repeats it.
            expect(page.locator(".step-count")).to_have_text(f"Statement {step + 1} of 6")
            page.get_by_label(labels[answer]).check()
            page.get_by_role("button", name="Next").click()
        expect(page.locator(".step-count")).to_have_text("Last step: anything to add?")
    else:
        statements = page.locator("fieldset.scale")
        expect(statements).to_have_count(6)
        for index, answer in enumerate(answers):
            statements.nth(index).get_by_label(labels[answer]).check()
    person.look("check-in")
    sharing = page.get_by_label("Share this round's answers and comment with", exact=False)
    if share:
        sharing.check()
    else:
        sharing.uncheck()
    # Answers are final: they are reviewed together before they are sent.
    page.get_by_role("button", name="Review my answers").click()
    expect(page.get_by_role("heading", name="Check your answers")).to_be_visible()
    person.look("check-in review")
    page.get_by_role("button", name="Send my answers").click()


def _assert_no_problems(*people: Person) -> None:
    for person in people:
        person.listen("at the end")
    problems = [f"{p.name} ({p.variant}) {problem}" for p in people for problem in p.problems]
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize(("javascript", "viewport"), VARIANTS)
def test_coach_journey(browser: Browser, live_server, javascript, viewport):
    organisation, coach, coachee = alex_and_sam()
    secret = _totp(coach)
    alex = _person(browser, "coach", javascript, viewport)
    page = alex.page

    # Sign in with two-factor authentication, then invite Sam.
    _sign_in(alex, live_server.url, coach.email, TEST_PASSWORD, totp=secret)
    _open_nav(alex, "Relationships")
    alex.look("relationships-empty")
    expect(page.get_by_text("You don't coach anyone yet.")).to_be_visible()
    page.get_by_role("link", name="Invite a coachee").first.click()
    alex.look("invite")
    page.get_by_label("Colleague").select_option(label="Sam Lee")
    page.get_by_label("Why are we sitting down together?").fill("Help Sam lead the platform team.")
    page.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_text("Waiting for Sam Lee to accept.")).to_be_visible()
    alex.look("invited")

    # Sam accepts (the coachee's journey does this in the browser).
    relationship = CoachingRelationship.objects.get()
    relationship_services.relationship_respond(relationship=relationship, user=coachee, accept=True)
    page.reload()
    expect(page.get_by_text("No sessions yet.")).to_be_visible()
    alex.look("relationship-no-sessions")

    # A "recast the past" session, with its prompts.
    page.get_by_role("link", name="Log your first session").click()
    expect(page.get_by_label("Focus")).to_have_value("recast_the_past")
    expect(page.get_by_label("Agenda")).to_contain_text("Why are we sitting down together?")
    expect(page.get_by_text("How might they see me now?")).to_be_visible()
    alex.look("session-form")
    page.get_by_label("Shared summary").fill("We agreed to meet every two weeks.")
    page.get_by_role("button", name="Log session").click()
    expect(page.get_by_role("heading", name="Session on")).to_be_visible()

    # A private note, a shared note and two action items.
    # Beside each private text, who will read it.
    expect(page.get_by_label("Private — only you can read it")).to_be_checked()
    expect(page.get_by_text("Shared: Alex Coach and Sam Lee both see it.")).to_be_visible()
    notes = page.locator("#notes")
    page.get_by_role("textbox", name="Note").fill("Sam seemed wary; remember the reorg.")
    page.get_by_role("button", name="Save note").click()
    expect(
        notes.locator("article", has_text="remember the reorg").get_by_text(
            "Private — only you", exact=True
        )
    ).to_be_visible()
    page.get_by_role("textbox", name="Note").fill("Thanks for being open today.")
    page.get_by_label("Shared — you and Sam Lee can read it").check()
    page.get_by_role("button", name="Save note").click()
    expect(
        notes.locator("article", has_text="Thanks for being open").get_by_text(
            "Shared with Sam Lee", exact=True
        )
    ).to_be_visible()
    for text, owner in [
        ("Write down what I want from coaching", "Sam Lee (coachee)"),
        ("Send Sam the onboarding notes", "Alex Coach (coach)"),
    ]:
        page.get_by_label("What will be done").fill(text)
        page.get_by_label("Who owns it").select_option(label=owner)
        page.get_by_role("button", name="Add", exact=True).click()
        expect(page.locator("#actions").get_by_text(text, exact=True)).to_be_visible()
    alex.look("session")
    assert Note.objects.filter(author=coach).count() == 2
    assert ActionItem.objects.count() == 2

    # A check-in Sam has already answered: Alex answers, and sees the gap at once.
    round_ = CheckInRoundFactory(relationship=relationship)
    CheckInResponseFactory(
        round=round_, respondent=coachee, **{**dict.fromkeys(DIMENSION_KEYS, 4), "reliability": 2}
    )
    _open_nav(alex, "Home")
    page.get_by_role("link", name="Check in with Sam Lee").click()
    _answer_checkin(alex, [4] * 6, share=True)
    expect(page.get_by_role("heading", name="Side by side")).to_be_visible()
    expect(page.get_by_text("you rated reliability 4; Sam Lee rated it 2")).to_be_visible()
    alex.look("reveal")

    # The relationship page suggests questions about the gap; Alex writes one privately.
    page.goto(f"{live_server.url}/relationships/{relationship.public_id}/")
    expect(page.get_by_text("Your last check-in showed a gap on reliability")).to_be_visible()
    alex.look("relationship")
    page.locator(".prompt-list a").first.click()
    alex.look("reflection-form")
    page.get_by_label("Your reflection").fill("I assumed Sam saw my follow-up; I never asked.")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("I assumed Sam saw my follow-up")).to_be_visible()
    alex.look("journal")

    # The integrity self-check, beside the chart of earlier ones: every answer, "5 —
    # Strongly agree" included, takes a click (the chart once covered it at 1024-1440 px).
    for months in (3, 2, 1):
        IntegrityCheckFactory(
            author=coach, taken_on=timezone.localdate() - timedelta(days=30 * months)
        )
    page.get_by_role("link", name="Integrity self-check").click()
    expect(page.locator("svg.trend-svg")).to_be_visible()
    alex.look("integrity")
    for statement in page.locator("fieldset.scale").all():
        statement.get_by_label("5 — Strongly agree").click(timeout=3_000)
    page.get_by_role("button", name="Save my self-check").click()
    expect(page.get_by_text("Self-check saved. Only you can see it.")).to_be_visible()
    alex.look("integrity-saved")
    reflection = Reflection.objects.get()
    assert reflection.author == coach and reflection.prompt

    _assert_no_problems(alex)


@pytest.mark.parametrize(("javascript", "viewport"), VARIANTS)
def test_coachee_journey(browser: Browser, live_server, javascript, viewport):
    organisation, coach, coachee = alex_and_sam()
    relationship = RelationshipFactory(
        organisation=organisation,
        coach=coach,
        coachee=coachee,
        status=CoachingRelationship.Status.INVITED,
        accepted_at=None,
        purpose="Help Sam lead the platform team.",
    )
    sam = _person(browser, "coachee", javascript, viewport)
    page = sam.page

    # Sam reads why, and accepts.
    _sign_in(sam, live_server.url, coachee.email, TEST_PASSWORD)
    _open_nav(sam, "Relationships")
    page.get_by_role("link", name="Read and answer").click()
    expect(page.get_by_text("Help Sam lead the platform team.")).to_be_visible()
    sam.look("invitation")
    page.get_by_role("button", name="Accept").click()
    expect(page.get_by_text("You're now working with Alex Coach.")).to_be_visible()

    # Meanwhile Alex logs a session, two notes (one private), an item for Sam, and
    # check-ins open; Sam has a note of their own too.
    today = timezone.localdate()
    session = SessionFactory(relationship=relationship, held_on=today)
    NoteFactory(relationship=relationship, session=session, body="Alex's private thought.")
    NoteFactory(
        relationship=relationship, session=session, visibility="shared", body="Reading list."
    )
    NoteFactory(
        relationship=relationship,
        session=session,
        author=coachee,
        body="My own note, to tidy away.",
    )
    ActionItemFactory(relationship=relationship, session=session, text="Draft the proposal")
    for weeks, (mine, theirs) in [(3, (3, 3)), (2, (4, 3))]:
        earlier = CheckInRoundFactory(
            relationship=relationship,
            opens_on=today - timedelta(weeks=weeks),
            closes_on=today - timedelta(weeks=weeks) + timedelta(days=6),
            closed_at=timezone.now() - timedelta(weeks=weeks - 1),
        )
        CheckInResponseFactory(
            round=earlier, respondent=coachee, **dict.fromkeys(DIMENSION_KEYS, mine)
        )
        CheckInResponseFactory(
            round=earlier, respondent=coach, **dict.fromkeys(DIMENSION_KEYS, theirs)
        )
    open_round = CheckInRoundFactory(relationship=relationship)

    # The session: the shared note is there, the private one is not. Sam ticks the item.
    page.reload()
    sam.look("relationship")
    page.get_by_role("link", name=f"{today:%-d %B %Y}").click()
    expect(page.get_by_text("Reading list.")).to_be_visible()
    expect(page.get_by_text("Alex's private thought.")).to_have_count(0)
    sam.look("session")
    page.locator("#actions").get_by_role("button", name="Mark done").click()
    expect(page.get_by_text("Done (1)")).to_be_visible()
    assert ActionItem.objects.get().done_at is not None

    # A check-in, not shared this time; then the trend.
    _open_nav(sam, "Home")
    page.get_by_role("link", name="Check in with Alex Coach").click()
    _answer_checkin(sam, [2, 3, 3, 3, 3, 3], share=False)
    sam.look("answered")
    assert CheckInResponse.objects.get(round=open_round, respondent=coachee).shared is False
    page.goto(f"{live_server.url}/relationships/{relationship.public_id}/trend/")
    expect(page.locator("svg.trend-svg .series-mine path")).to_have_count(1)
    page.get_by_text("Show as a table").click()
    expect(page.get_by_role("table")).to_be_visible()
    sam.look("trend")

    # Sam takes a copy of their data: it holds the shared note, not Alex's private one.
    _open_nav(sam, "Account")
    page.get_by_role("link", name="Your data").click()
    sam.look("my-data")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download as JSON").click()
    exported = download.value.path().read_text(encoding="utf-8")
    assert "Reading list." in exported and "Alex's private thought." not in exported
    assert json.loads(exported)["profile"]["email"] == coachee.email

    # And deletes a note of their own.
    page.go_back()
    page.goto(f"{live_server.url}/sessions/{session.public_id}/")
    own = page.locator("#notes article", has_text="My own note, to tidy away.")
    own.get_by_role("button", name="Delete").click()
    expect(page.get_by_text("Note deleted.")).to_be_visible()
    expect(page.get_by_text("My own note, to tidy away.")).to_have_count(0)
    sam.look("note-deleted")
    assert not Note.objects.filter(author=coachee).exists()

    _assert_no_problems(sam)


@pytest.mark.parametrize(("javascript", "viewport"), VARIANTS)
def test_hr_journey(browser: Browser, live_server, javascript, viewport):
    call_command("demo", no_serve=True)  # months of anonymous answers to read
    hana = User.objects.get(email="hana.hr@example.com")
    secret = _totp(hana)
    hr = _person(browser, "hr", javascript, viewport)
    page = hr.page

    _sign_in(hr, live_server.url, hana.email, "rapport-demo", totp=secret)

    # Make a team and invite a member into it.
    _open_nav(hr, "Organisation")
    hr.look("organisation")
    page.get_by_label("Team name").fill("Research")
    page.get_by_role("button", name="Add team").click()
    # In the page, not the screen reader's copy in #announcer.
    expect(page.get_by_role("main").get_by_text("Team “Research” created.")).to_be_visible()
    page.get_by_label("Email address").fill("ivy@example.com")
    page.locator("#invitations").get_by_label("Team").select_option(label="Research")
    page.get_by_role("button", name="Send invitation").click()
    expect(
        page.get_by_role("main").get_by_text("Invitation sent to ivy@example.com.")
    ).to_be_visible()
    hr.look("invited")
    invitation = Invitation.objects.get(email="ivy@example.com")
    assert invitation.team == Team.objects.get(name="Research")

    # The dashboard explains the cells it hides.
    _open_nav(hr, "Insights")
    expect(page.get_by_role("heading", name="Trust across Northwind (demo)")).to_be_visible()
    expect(page.get_by_text("Not shown: fewer than 5 responses").first).to_be_visible()
    hr.look("dashboard")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download as CSV").click()
    csv = download.value.path().read_text(encoding="utf-8")
    assert "fewer than 5 responses" in csv and "Sam" not in csv

    # The audit log shows what was just done.
    _open_nav(hr, "Organisation")
    page.get_by_role("link", name="Audit log").click()
    expect(page.get_by_role("heading", name="Audit log")).to_be_visible()
    expect(page.get_by_text("You sent an invitation to join").first).to_be_visible()
    expect(
        page.get_by_text("You downloaded the anonymous trends as a spreadsheet").first
    ).to_be_visible()
    hr.look("audit-log")
    assert AuditEvent.objects.filter(action="insights.exported").exists()

    _assert_no_problems(hr)
