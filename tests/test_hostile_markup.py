"""Attack: text someone typed, rendered as markup, acts for whoever reads it.

A coach set their display name to `<i hx-post=status/ hx-trigger=load ...>`: the coachee's
relationship page rendered it (a help text marked |safe), htmx posted "end" as the coachee.
Here every field a person can type (names of people, the organisation and its teams, an
invitation's email address, a relationship's purpose, agendas, summaries, notes, drafts,
action items, talking points, check-in comments, journal entries) holds hostile markup,
and every page of the URL × role matrix (tests/test_url_matrix.py's route walk), the
admin, the messages, the emails and the exports are read as a browser would: no element
or attribute may come from what a person typed, and wherever their text is shown on a
page that runs htmx, it sits inside an `hx-disable` region, so that even a future
escaping slip could not act.
"""

import contextlib
import csv
import html
import io
import json
import re
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from django.contrib import admin
from django.core import mail
from django.test import Client
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from accounts.models import Invitation, Organisation, Team, User
from reflections.models import CheckInResponse, Reflection
from relationships.models import (
    ActionItem,
    CoachingRelationship,
    CoachingSession,
    Note,
    NoteDraft,
    TalkingPoint,
)
from tests.factories import (
    CheckInResponseFactory,
    CheckInRoundFactory,
    InvitationFactory,
    RelationshipFactory,
)
from tests.helpers import text
from tests.test_url_matrix import (
    EXPECTED,
    ROLES,
    ROUTES,
    THIRD_PARTY_SAMPLES,
    _is_ours,
    _path,
    _world,
)

# What a browser would act on if it were markup: an element htmx processes on load, an
# inline handler, a script. Every injected element carries data-hostile, so it is found.
SHORT = "'\"><i data-hostile hx-post=status/ hx-trigger=load onclick=f()>{}</i>"
LONG = (
    '\'"></textarea></title><i data-hostile hx-post="status/" hx-trigger="load" '
    'hx-vals=\'{{"action":"end"}}\' onmouseover=alert(1)>{}</i>'
    "<script data-hostile>alert(1)</script><svg data-hostile onload=alert(1)></svg>\n"
    "<b data-hostile>second line</b>"
)
# An address Django's EmailField accepts (a quoted local part) that is also a tag.
HOSTILE_EMAIL = '"<i/data-hostile/hx-post=status/>"@example.com'


def hostile_email(n: int) -> str:
    return HOSTILE_EMAIL.replace("status/", f"status{n}/")


MARKER = "data-hostile"
RAW_INJECTIONS = ("<i data-hostile", "<i/data-hostile", "<script data-hostile", "<svg data-hostile")


def short(label: str) -> str:
    value = SHORT.format(label)
    assert len(value) <= 80, f"{label}: the names' fields hold 80 characters"
    return value


def long(label: str) -> str:
    return LONG.format(label)


# --- Reading a page as a browser would ---------------------------------------------------

VOID = {
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
    "track", "wbr",
}  # fmt: skip
# Text in these is never parsed as elements (or, in a <select>, elements are dropped).
INERT_TEXT = {"title", "textarea", "option", "script", "style"}


class Page(HTMLParser):
    """Injected elements and attributes, and the user text shown outside hx-disable."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, bool]] = []
        self.injected: list[str] = []
        self.unguarded: list[str] = []
        self.texts: list[str] = []
        self.loads_htmx = False
        self.is_document = False

    def handle_starttag(self, tag, attrs):
        self.is_document |= tag == "html"
        names = {name for name, _ in attrs}
        values = dict(attrs)
        if MARKER in names or any(name.startswith("on") for name in names):
            self.injected.append(f"<{tag} {' '.join(sorted(names))}>")
        if tag == "script":
            # Only our files run (CSP); a JSON data block (allauth's) is not a script.
            if not values.get("src") and values.get("type") != "application/json":
                self.injected.append("<script> without src")
            elif "htmx" in (values.get("src") or ""):
                self.loads_htmx = True
        if tag not in VOID:
            self.stack.append((tag, "hx-disable" in names or "data-hx-disable" in names))

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.stack.pop()

    def handle_endtag(self, tag):
        for depth in range(len(self.stack) - 1, -1, -1):
            if self.stack[depth][0] == tag:
                del self.stack[depth:]
                return

    def handle_data(self, data):
        if MARKER not in data:
            return
        self.texts.append(data)
        tags = {tag for tag, _ in self.stack}
        if not tags & INERT_TEXT and not any(disabled for _, disabled in self.stack):
            where = " > ".join(tag for tag, _ in self.stack[-4:])
            self.unguarded.append(f"{where}: {data.strip()[:60]!r}")


HELP = re.compile(r'id="(\w+_helptext)" hx-disable>([^<]*)<')


def read(body: str) -> Page:
    page = Page()
    page.feed(body)
    page.close()
    return page


class Findings:
    def __init__(self):
        self.injected: list[str] = []
        self.unguarded: list[str] = []
        self.shown: set[str] = set()
        self.pages = 0

    def check(self, where: str, response, *, hx: bool = False) -> None:
        body = response.content.decode(errors="replace")
        for raw in RAW_INJECTIONS:
            if raw in body:
                self.injected.append(f"{where}: {raw!r} unescaped in the body")
        page = read(body)
        self.pages += 1
        self.injected += [f"{where}: {found}" for found in page.injected]
        # A page that runs htmx, or a fragment htmx swaps into one. (The admin and the
        # downloadable export are whole documents without htmx.)
        if page.loads_htmx or (hx and not page.is_document):
            self.unguarded += [f"{where}: {found}" for found in page.unguarded]
        self.shown |= {label for label in LABELS if any(label in t for t in page.texts)}

    def assert_clean(self) -> None:
        assert not self.injected, "Markup from user text:\n" + "\n".join(self.injected[:30])
        assert not self.unguarded, "User text outside hx-disable:\n" + "\n".join(
            self.unguarded[:30]
        )


# --- The hostile world -------------------------------------------------------------------

LABELS = [
    "NameAuthor", "NameOther", "NameHR", "NameCoach2", "NameOutsider", "NameSuper",
    "OrgName", "TeamName", "Purpose", "Agenda", "Summary", "NoteText", "DraftText",
    "ItemText", "CommentText", "JournalText", "InviterName", "PointText",
]  # fmt: skip


def _hostile_world():
    """The matrix's world, every typed text made hostile, plus what only shows when two
    people have answered a check-in or one person invites another."""
    world = _world()
    users = world.users
    names = {
        "author": "NameAuthor",
        "other_party": "NameOther",
        "hr_admin": "NameHR",
        "other_coach": "NameCoach2",
        "outsider": "NameOutsider",
        "superuser": "NameSuper",
    }
    for role, label in names.items():
        User.objects.filter(pk=users[role].pk).update(display_name=short(label))
        users[role].refresh_from_db()
    Organisation.objects.update(name=short("OrgName"))
    Team.objects.update(name=short("TeamName"))
    Invitation.objects.update(email=HOSTILE_EMAIL)
    relationship = CoachingRelationship.objects.get(public_id=world.ids["relationship"])
    coach, coachee = relationship.coach, relationship.coachee
    # Encrypted fields are bound to their rows: set them through the models.
    for r in CoachingRelationship.objects.all():
        r.purpose = long("Purpose")
        r.save()
    for s in CoachingSession.objects.all():
        s.agenda, s.summary = long("Agenda"), long("Summary")
        s.save()
    for model, field, value in [
        (Note, "body", long("NoteText")),
        # Drafts are listed cut to 80 characters.
        (NoteDraft, "body", short("DraftText")),
        (Reflection, "body", long("JournalText")),
    ]:
        for row in model.objects.all():
            setattr(row, field, value)
            row.save()
    for item in ActionItem.objects.all():
        item.text = long("ItemText")[:500]
        item.save()
    for point in TalkingPoint.objects.all():
        point.text = long("PointText")[:500]
        point.save()
    # Each item last changed by the other party: the names in "NameOther gave it to
    # NameAuthor" are hostile too.
    ActionItem.objects.update(
        changed_by=coachee, changed_at=timezone.now(), changed_fields="text,owner,due_on"
    )
    for response in CheckInResponse.objects.all():
        response.comment = long("CommentText")
        response.save()
    # An earlier round both answered and shared: each sees the other's comment.
    revealed = CheckInRoundFactory(
        relationship=relationship,
        opens_on=timezone.localdate() - timedelta(days=14),
        closes_on=timezone.localdate() - timedelta(days=8),
        closed_at=timezone.now() - timedelta(days=7),
    )
    for person in (coach, coachee):
        CheckInResponseFactory(
            round=revealed, respondent=person, shared=True, comment=long("CommentText")
        )
    # The coachee is invited by another hostile coach; an invitation with an inviter.
    inviter = RelationshipFactory(
        organisation=relationship.organisation,
        coachee=coachee,
        status=CoachingRelationship.Status.INVITED,
        accepted_at=None,
        purpose=long("Purpose"),
    )
    User.objects.filter(pk=inviter.coach_id).update(display_name=short("InviterName"))
    InvitationFactory(
        organisation=relationship.organisation,
        email="second-invitee@example.com",
        invited_by=coach,
        token="hostile",
    )
    world.ids["revealed_round"] = revealed.public_id
    world.ids["invited_relationship"] = inviter.public_id
    return world


def strings(data) -> list[str]:
    """Every string value in decoded JSON."""
    if isinstance(data, dict):
        return [s for value in data.values() for s in strings(value)]
    if isinstance(data, list):
        return [s for value in data for s in strings(value)]
    return [data] if isinstance(data, str) else []


def _client(user, hx=False):
    client = Client(headers={"HX-Request": "true"} if hx else {})
    if user is not None:
        client.force_login(user)
    return client


def _admin_paths():
    """The admin's list, change, history and delete pages of every registered model."""
    paths = []
    for model, _model_admin in admin.site._registry.items():
        prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        try:
            paths.append(reverse(f"{prefix}_changelist"))
        except NoReverseMatch:
            continue
        for pk in model._default_manager.values_list("pk", flat=True)[:3]:
            for view in ("change", "history", "delete"):
                with contextlib.suppress(NoReverseMatch):
                    paths.append(reverse(f"{prefix}_{view}", args=[pk]))
    return paths


# --- The tests ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_attack_hostile_text_in_every_field_is_never_markup_on_any_page():
    """Every GET (and GET with HX-Request) of every route, as every role; the admin as a
    superuser; the revealed check-in and the invitations people receive."""
    world = _hostile_world()
    findings = Findings()
    extra = {
        "author": [f"/checkins/{world.ids['revealed_round']}/"],
        "other_party": [
            f"/checkins/{world.ids['revealed_round']}/",
            reverse("relationship_detail", args=[world.ids["invited_relationship"]]),
        ],
        "superuser": _admin_paths(),
    }
    for role in ROLES:
        user = world.users[role]
        for hx in (False, True):
            client = _client(user, hx)
            paths = []
            for route, pattern in ROUTES:
                kwargs = THIRD_PARTY_SAMPLES
                if _is_ours(pattern) and pattern.name in EXPECTED:
                    sample, _ = EXPECTED[pattern.name]
                    kwargs = sample(world.ids) if sample else {}
                try:
                    paths.append(_path(route, kwargs))
                except LookupError:
                    continue  # test_url_matrix fails on a route without a sample
            for path in paths + extra.get(role, []):
                response = client.get(path)
                where = f"GET{' (htmx)' if hx else ''} {path} as {role}"
                assert response.status_code < 500, f"{where}: {response.status_code}"
                kind = response.get("Content-Type", "")
                if response.status_code == 200 and kind.startswith("text/html"):
                    findings.check(where, response, hx=hx)
    findings.assert_clean()
    # So the checks above could fail: every hostile text was shown, as text, somewhere.
    assert set(LABELS) <= findings.shown, f"never shown: {set(LABELS) - findings.shown}"
    assert findings.pages > 200


@pytest.mark.django_db
def test_attack_coach_name_in_the_coachees_help_texts_stays_text():
    """The exploit itself: the coach's name in the help texts of the coachee's forms (the
    action item's "Shared: … both see it", the check-in's "If you don't share, …"), and
    the organisation's name in the invitee's sign-up form."""
    world = _hostile_world()
    coachee = _client(world.users["other_party"])
    relationship = coachee.get(reverse("relationship_detail", args=[world.ids["relationship"]]))
    checkin = coachee.get(f"/checkins/{world.ids['round']}/")
    anonymous = Client()
    assert anonymous.post(reverse("invitation_accept", args=["hostile"])).status_code == 302
    signup = anonymous.get(reverse("account_signup"))

    for response, help_id, help_text in [
        (relationship, "id_text_helptext", f"Shared: {short('NameAuthor')} and "),
        (checkin, "id_shared_helptext", f"If you don't share, {short('NameAuthor')} never"),
        (signup, "id_email_helptext", f"Your invitation to {short('OrgName')} was sent"),
    ]:
        body = response.content.decode()
        page = read(body)
        assert not page.injected, page.injected
        # The help text is there, and reads as the text it is, markup and all.
        helps = HELP.findall(body)
        assert help_id in dict(helps), f"no {help_id} on {response.request['PATH_INFO']}"
        assert html.unescape(dict(helps)[help_id]).startswith(help_text)


@pytest.mark.django_db
def test_attack_hostile_text_in_messages_stays_text(django_capture_on_commit_callbacks):
    """What people type comes back in the messages after they act: a team's name, an
    invitation's address, a member's name, the coach a coachee accepts."""
    world = _hostile_world()
    findings = Findings()
    hr, coachee = world.users["hr_admin"], world.users["other_party"]
    team = Team.objects.first()
    membership = world.ids["membership"]
    with django_capture_on_commit_callbacks(execute=True):
        for hx in (False, True):
            client = _client(hr, hx)
            for path, data in [
                (reverse("team_create"), {"team-name": short(f"TeamName{hx}")[:80]}),
                (
                    reverse("invitation_create"),
                    {
                        "invite-email": hostile_email(int(hx)),
                        "invite-team": str(team.public_id),
                        "invite-role": "member",
                    },
                ),
                (
                    reverse("membership_update", args=[membership]),
                    {"team": str(team.public_id), "role": "member"},
                ),
            ]:
                response = client.post(path, data, follow=True)
                assert response.status_code == 200, path
                findings.check(f"POST {path} (hx={hx})", response, hx=hx)
        invited = world.ids["invited_relationship"]
        response = _client(coachee).post(
            reverse("relationship_respond", args=[invited]), {"answer": "accept"}, follow=True
        )
        findings.check("accepting the hostile coach", response)
        coach = _client(world.users["author"])
        response = coach.post(
            reverse("relationship_invite"),
            {"email": "new-person@example.com", "purpose": long("Purpose")},
            follow=True,
        )
        findings.check("inviting a coachee", response)
    findings.assert_clean()
    assert {"TeamName", "NameAuthor", "InviterName"} <= findings.shown
    bodies = " ".join(m.body for m in mail.outbox)
    assert "<i/data-hostile" in " ".join(",".join(m.to) for m in mail.outbox)
    # The emails are plain text: no HTML part a mail client could render.
    assert mail.outbox and all(
        m.content_subtype == "plain" and not getattr(m, "alternatives", None) for m in mail.outbox
    ), [(m.subject, m.content_subtype) for m in mail.outbox]
    assert "data-hostile" in bodies  # the inviter's name and purpose, as text


@pytest.mark.django_db
def test_exports_carry_hostile_text_as_data_never_as_a_page():
    """The JSON exports hold exactly what was typed and are downloads, never pages; the
    readable HTML export escapes it; HR's CSV is a CSV download."""
    world = _hostile_world()
    author = _client(world.users["author"])
    for name in ("export_json", "journal_export"):
        response = author.get(reverse(name))
        assert response["Content-Type"] == "application/json"
        assert response["Content-Disposition"].startswith("attachment")
        assert response["X-Content-Type-Options"] == "nosniff"
        assert long("JournalText") in strings(json.loads(response.content))
    exported = json.loads(author.get(reverse("export_json")).content)
    assert exported["profile"]["display_name"] == short("NameAuthor")
    assert long("NoteText") in [n["body"] for n in exported["notes"]]

    findings = Findings()
    response = author.get(reverse("export_html"))
    assert response["Content-Disposition"].startswith("attachment")
    findings.check("export_html", response)
    findings.assert_clean()
    assert {"NameAuthor", "NoteText", "JournalText", "Purpose"} <= findings.shown

    hr = _client(world.users["hr_admin"])
    response = hr.get(reverse("insights_export"))
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith("attachment")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows and all(
        MARKER not in cell or cell == short("TeamName") for row in rows for cell in row
    )


@pytest.mark.django_db
def test_htmx_is_configured_to_run_nothing_injected(client, member):
    """Defence in depth: no eval (hx-on, js: values, filters), no scripts from swaps, no
    requests to other origins."""
    client.force_login(member)
    body = client.get(reverse("home")).content.decode()

    class Meta(HTMLParser):
        config = None

        def handle_starttag(self, tag, attrs):
            values = dict(attrs)
            if tag == "meta" and values.get("name") == "htmx-config":
                Meta.config = json.loads(values["content"])

    Meta().feed(body)
    wanted = {
        "allowEval": False,
        "allowScriptTags": False,
        "selfRequestsOnly": True,
        "includeIndicatorStyles": False,
    }
    assert Meta.config is not None
    assert {key: Meta.config.get(key) for key in wanted} == wanted


@pytest.mark.django_db
def test_attack_a_name_with_a_line_break_is_refused_before_it_reaches_an_email(
    coach_client, coach, hr_client, organisation
):
    """Names go into email subjects ("Casey would like to coach you"). A line break there
    made the mail library refuse the email, so inviting anyone failed with an error page."""
    before = coach.display_name
    response = coach_client.post(
        reverse("profile"), {"display_name": "Casey\nBcc: x@evil.test", "time_zone": "UTC"}
    )
    assert response.status_code == 200
    assert "Write the name on one line" in text(response)
    coach.refresh_from_db()
    assert coach.display_name == before

    response = hr_client.post(reverse("team_create"), {"team-name": "Ops\r\nBcc: x@evil.test"})
    assert "Write the name on one line" in text(response)
    assert not Team.objects.filter(name__contains="Bcc").exists()

    response = hr_client.post(
        reverse("organisation_settings"),
        {"org-name": "Acme\nBcc: x@evil.test", "org-anonymity_threshold": 5},
    )
    assert "Write the name on one line" in text(response)
    organisation.refresh_from_db()
    assert organisation.name == "Acme Coaching"
