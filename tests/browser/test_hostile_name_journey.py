"""Attack: a coach's display name that acts for the coachee.

The coach names themself `<i hx-post="status/" hx-vals='{"action":"end"}'
hx-trigger="load">Casey</i>`: on the coachee's relationship page that is the
relationship's own status URL, and "end" ends it. Their purpose, agenda, summary, shared
note, action item and check-in comment carry the same. The coachee opens every page they
can reach, in real Chromium with JavaScript on: nothing is posted, the relationship is
still active, and the name is shown as the text it is.
"""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Browser, expect

from accounts.models import AuditEvent
from reflections.dimensions import DIMENSION_KEYS
from relationships.models import ActionItem, CoachingRelationship, Note
from tests.browser.test_coaching_journey import _sign_in
from tests.factories import (
    ActionItemFactory,
    CheckInResponseFactory,
    CheckInRoundFactory,
    MembershipFactory,
    NoteFactory,
    OrganisationFactory,
    RelationshipFactory,
    SessionFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HOSTILE_NAME = """<i hx-post="status/" hx-vals='{"action":"end"}' hx-trigger="load">Casey</i>"""
# The same, for the longer texts, plus what would run without htmx.
HOSTILE_TEXT = (
    HOSTILE_NAME
    + """<img src=x onerror="fetch('status/',{method:'POST'})">"""
    + """<form method=post action="status/"><button name=action value=end>x</button></form>"""
)


def test_attack_a_hostile_coach_name_posts_nothing_as_the_coachee(browser: Browser, live_server):
    organisation = OrganisationFactory(name="Acme Coaching")
    coach = MembershipFactory(
        organisation=organisation, user__display_name=HOSTILE_NAME, user__email="casey@example.com"
    ).user
    coachee = MembershipFactory(
        organisation=organisation, user__display_name="Sam Lee", user__email="sam@example.com"
    ).user
    relationship = RelationshipFactory(
        organisation=organisation, coach=coach, coachee=coachee, purpose=HOSTILE_TEXT
    )
    session = SessionFactory(relationship=relationship, agenda=HOSTILE_TEXT, summary=HOSTILE_TEXT)
    NoteFactory(
        relationship=relationship,
        session=session,
        author=coach,
        visibility=Note.Visibility.SHARED,
        body=HOSTILE_TEXT,
    )
    ActionItemFactory(relationship=relationship, owner=ActionItem.Owner.COACHEE, text=HOSTILE_TEXT)
    earlier = CheckInRoundFactory(
        relationship=relationship,
        opens_on=timezone.localdate() - timedelta(days=14),
        closes_on=timezone.localdate() - timedelta(days=8),
        closed_at=timezone.now(),
    )
    for person in (coach, coachee):
        CheckInResponseFactory(
            round=earlier,
            respondent=person,
            comment=HOSTILE_TEXT,
            **dict.fromkeys(DIMENSION_KEYS, 4),
        )
    open_round = CheckInRoundFactory(relationship=relationship)

    page = browser.new_context(java_script_enabled=True).new_page()
    _sign_in(page, live_server.url, coachee.email)
    posted = []
    page.on("request", lambda r: posted.append(f"{r.method} {r.url}") if r.method != "GET" else 0)
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    ids = {"public_id": relationship.public_id}
    paths = [
        reverse("home"),
        reverse("relationship_list"),
        reverse("relationship_detail", kwargs=ids),
        reverse("session_detail", kwargs={"public_id": session.public_id}),
        reverse("session_edit", kwargs={"public_id": session.public_id}),
        reverse("note_create", kwargs=ids),
        reverse("checkin_detail", kwargs={"public_id": open_round.public_id}),
        reverse("checkin_detail", kwargs={"public_id": earlier.public_id}),
        reverse("relationship_trend", kwargs=ids),
        reverse("journal"),
        reverse("reflection_create") + f"?relationship={relationship.public_id}",
        reverse("profile"),
        reverse("my_activity"),
        reverse("my_data"),
    ]
    for path in paths:
        page.goto(live_server.url + path)
        # Give htmx every chance: hx-trigger="load" fires as the page settles.
        page.wait_for_load_state("networkidle")
        assert posted == [], f"on {path} the coachee's browser sent: {posted}"
        if path == reverse("relationship_detail", kwargs=ids):
            # The name is shown as the text it is, markup and all.
            expect(page.get_by_role("heading", level=1)).to_have_text(f"Coached by {HOSTILE_NAME}")
            expect(page.locator("i[hx-post], img[onerror], form[action='status/']")).to_have_count(
                0
            )
        if path == reverse("checkin_detail", kwargs={"public_id": open_round.public_id}):
            # Our own htmx still works on a page full of the coach's name: the stepper.
            expect(page.locator(".step-count")).to_have_text("Statement 1 of 6")

    assert posted == [], f"the coachee's browser sent: {posted}"
    assert errors == []
    relationship.refresh_from_db()
    assert relationship.status == CoachingRelationship.Status.ACTIVE
    assert not AuditEvent.objects.filter(action__startswith="relationship.ended").exists()
