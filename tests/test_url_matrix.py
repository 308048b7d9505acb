"""Every URL pattern × method (GET, POST, each with and without HX-Request) × role.

The routes come from walking the resolver, not from a list: a new route of ours
without an entry in EXPECTED, or any route whose parameters have no sample value,
fails this test. Third-party routes (allauth, the admin) must never answer 5xx.
Three canaries are planted: a private note (and draft) only its author may ever see,
a shared note only the two people in the relationship may see, and organisation
data only its HR admin (and a superuser in the admin) may see.
"""

import re
from dataclasses import dataclass

import pytest
from allauth.mfa.models import Authenticator
from django.core import signing
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from accounts.models import Membership
from accounts.services import calendar_feed_set
from notifications.models import Notification
from relationships.calendar import feed_token
from relationships.models import Note
from sso.services import CONNECT_SALT
from tests.factories import (
    ActionItemFactory,
    CheckInResponseFactory,
    CheckInRoundFactory,
    HRAdminMembershipFactory,
    IntegrityCheckFactory,
    InvitationFactory,
    MembershipFactory,
    NoteDraftFactory,
    NoteFactory,
    OrganisationFactory,
    ReflectionFactory,
    RelationshipFactory,
    ScheduledSessionFactory,
    SessionFactory,
    SingleSignOnFactory,
    TalkingPointFactory,
    TeamFactory,
    UserFactory,
)

NOTE_CANARY = "private-canary-4d1e"
SHARED_CANARY = "shared-canary-8b2c"
ORG_CANARY = "org-canary-7f3a"

# The author of the private note goes last, and the HR admin just before: their
# POSTs change the world (delete the note, revoke the invitation).
ROLES = [
    "anonymous",
    "other_party",
    "other_coach",
    "outsider",
    "superuser",
    "hr_admin",
    "author",
]
PARTIES = {"author", "other_party"}
COMBOS = [("GET", False), ("GET", True), ("POST", False), ("POST", True)]
OUR_APPS = (
    "accounts.",
    "relationships.",
    "reflections.",
    "insights.",
    "notifications.",
    "search.",
    "sso.",
)


@dataclass
class World:
    users: dict
    ids: dict


def _with_mfa(user):
    """Superusers have two-factor authentication set up, as the app requires of them."""
    Authenticator.objects.create(user=user, type=Authenticator.Type.TOTP, data={})
    return user


def _world() -> World:
    organisation = OrganisationFactory(name="Acme Coaching")
    TeamFactory(organisation=organisation, name=f"Team {ORG_CANARY}")
    relationship = RelationshipFactory(organisation=organisation)
    coach, coachee = relationship.coach, relationship.coachee
    session = SessionFactory(relationship=relationship)
    private_note = NoteFactory(
        relationship=relationship, session=session, body=f"Private {NOTE_CANARY}"
    )
    NoteFactory(
        relationship=relationship,
        author=coachee,
        visibility=Note.Visibility.SHARED,
        body=f"Shared {SHARED_CANARY}",
    )
    NoteDraftFactory(relationship=relationship, body=f"Draft {NOTE_CANARY}")
    item = ActionItemFactory(relationship=relationship)
    scheduled = ScheduledSessionFactory(relationship=relationship)
    point = TalkingPointFactory(
        scheduled=scheduled, visibility="private", text=f"Point {NOTE_CANARY}"
    )
    TalkingPointFactory(scheduled=scheduled, author=coachee, text=f"Point {SHARED_CANARY}")
    calendar_feed_set(user=coach, on=True)
    told = Notification.objects.create(
        recipient=coach, actor=coachee, kind="talking_point", verb="added", link="/", key="k"
    )
    round_ = CheckInRoundFactory(relationship=relationship)
    reflection = ReflectionFactory(author=coach, body=f"Journal {NOTE_CANARY}")
    self_check = IntegrityCheckFactory(author=coach)
    CheckInResponseFactory(round=round_, comment=f"Comment {NOTE_CANARY}", shared=False)
    other_coach = RelationshipFactory(organisation=organisation).coach
    invitation = InvitationFactory(
        organisation=organisation, email=f"invitee-{ORG_CANARY}@example.com", token="matrix"
    )
    # Company sign-in, at a provider that is down (nothing listens on port 9); and another
    # organisation's, over SAML 2.0 (allauth's SAML views).
    sign_in = SingleSignOnFactory(organisation=organisation, client_id=f"client-{ORG_CANARY}")
    saml = SingleSignOnFactory(saml=True)
    connect_token = signing.dumps(
        {
            "user": coach.public_id.hex,
            "provider": sign_in.provider_id,
            "identity": sign_in.identity(),
            "uid": "matrix",
        },
        salt=CONNECT_SALT,
    )
    return World(
        users={
            "anonymous": None,
            "author": coach,
            "other_party": coachee,
            "other_coach": other_coach,
            "outsider": MembershipFactory(organisation=OrganisationFactory()).user,
            "hr_admin": HRAdminMembershipFactory(organisation=organisation).user,
            "superuser": _with_mfa(UserFactory(is_staff=True, is_superuser=True)),
        },
        ids={
            "token": "matrix",
            "invitation": invitation.public_id,
            "membership": Membership.objects.get(user=coach).public_id,
            "relationship": relationship.public_id,
            "session": session.public_id,
            "note": private_note.public_id,
            "item": item.public_id,
            "scheduled": scheduled.public_id,
            "point": point.public_id,
            "notification": told.public_id,
            "person": coach.public_id,
            "feed_token": feed_token(coach),
            "round": round_.public_id,
            "reflection": reflection.public_id,
            "self_check": self_check.public_id,
            "provider_id": sign_in.provider_id,
            "connect_token": connect_token,
            "organization_slug": saml.provider_id,
        },
    )


def statuses(default, anonymous=302, **roles):
    return {role: roles.get(role, default) for role in ROLES} | {"anonymous": anonymous}


def parties(status, others=404, **roles):
    """The two people in the relationship get `status`; everyone else a 404."""
    return statuses(others, **(dict.fromkeys(PARTIES, status) | roles))


def hr_only(status, **roles):
    return statuses(404, **({"hr_admin": status} | roles))


def by_id(name):
    return lambda ids: {"public_id": ids[name]}


# route name -> (sample kwargs from the world's ids, {method[_HX]: {role: status}}).
# A "_HX" entry overrides its method for requests with HX-Request.
EXPECTED = {
    "home": (None, {"GET": statuses(200), "POST": statuses(405)}),
    "healthz": (None, {"GET": statuses(200, anonymous=200), "POST": statuses(405, anonymous=405)}),
    "readyz": (None, {"GET": statuses(200, anonymous=200), "POST": statuses(405, anonymous=405)}),
    "profile": (None, {"GET": statuses(200), "POST": statuses(200)}),
    # Signed-in people are sent home; the form re-renders with errors otherwise.
    "account_signup": (
        None,
        {"GET": statuses(302, anonymous=200), "POST": statuses(302, anonymous=200)},
    ),
    "invitation_accept": (
        lambda ids: {"token": ids["token"]},
        # Signed-in people are told why this invitation is not theirs to accept.
        {"GET": statuses(200, anonymous=200), "POST": statuses(200, anonymous=302)},
    ),
    "organisation": (None, {"GET": hr_only(200), "POST": statuses(405)}),
    "organisation_settings": (None, {"GET": statuses(405), "POST": hr_only(200)}),
    "team_create": (None, {"GET": statuses(405), "POST": hr_only(200)}),
    "invitation_create": (None, {"GET": statuses(405), "POST": hr_only(200)}),
    # Many at once: the form, a preview of every line (nothing sent), then the sending.
    "invitations_bulk": (None, {"GET": hr_only(200), "POST": hr_only(200)}),
    "invitations_bulk_send": (None, {"GET": statuses(405), "POST": hr_only(200)}),
    "invitation_revoke": (
        by_id("invitation"),
        {"GET": statuses(405), "POST": hr_only(302), "POST_HX": hr_only(200)},
    ),
    # The world's invitation was sent already: a message saying so, then back.
    "invitation_approve": (
        by_id("invitation"),
        {"GET": statuses(405), "POST": hr_only(302), "POST_HX": hr_only(200)},
    ),
    "membership_update": (by_id("membership"), {"GET": statuses(405), "POST": hr_only(200)}),
    # Nobody sets another person's password through the web, superusers included.
    "accounts_user_password_change": (
        lambda ids: {"id": 1},
        {"GET": statuses(404, anonymous=404), "POST": statuses(404, anonymous=404)},
    ),
    "relationship_list": (None, {"GET": statuses(200), "POST": statuses(405)}),
    # A superuser outside any organisation is sent home to join one first.
    "relationship_invite": (
        None,
        {"GET": statuses(200, superuser=302), "POST": statuses(200, superuser=302)},
    ),
    "relationship_detail": (
        by_id("relationship"),
        {"GET": parties(200), "POST": statuses(405)},
    ),
    # Answering an answered invitation, or an unknown status change: a message, then back.
    "relationship_respond": (
        by_id("relationship"),
        {"GET": statuses(405), "POST": parties(302)},
    ),
    "relationship_transition": (
        by_id("relationship"),
        {"GET": statuses(405), "POST": parties(302)},
    ),
    "session_create": (by_id("relationship"), {"GET": parties(200), "POST": parties(200)}),
    "note_create": (by_id("relationship"), {"GET": parties(200), "POST": parties(200)}),
    # Autosave without the form's token: refused, nothing saved.
    "note_draft": (by_id("relationship"), {"GET": statuses(405), "POST": parties(400)}),
    "action_item_create": (
        by_id("relationship"),
        {"GET": statuses(405), "POST": parties(302), "POST_HX": parties(200)},
    ),
    # Scheduling: the coach (the author) schedules; the coachee (the other party) is told
    # the coach does, unless the coach allows them. An empty POST re-renders with errors.
    "session_schedule": (
        by_id("relationship"),
        {"GET": parties(200, other_party=302), "POST": parties(200, other_party=302)},
    ),
    "schedule_permission": (by_id("relationship"), {"GET": statuses(405), "POST": parties(302)}),
    "scheduled_detail": (by_id("scheduled"), {"GET": parties(200), "POST": statuses(405)}),
    "scheduled_move": (
        by_id("scheduled"),
        {"GET": statuses(405), "POST": parties(200, other_party=302)},
    ),
    "scheduled_cancel": (by_id("scheduled"), {"GET": statuses(405), "POST": parties(302)}),
    "scheduled_calendar": (by_id("scheduled"), {"GET": parties(200), "POST": statuses(405)}),
    # An empty talking point: the agenda again, asking for the words (its region for htmx).
    "talking_point_add": (by_id("scheduled"), {"GET": statuses(405), "POST": parties(200)}),
    # Everyone searches what they may read; an empty POST asks for a word.
    "search": (None, {"GET": statuses(200), "POST": statuses(200)}),
    # Each person's own notifications; the author's one is theirs alone.
    "notification_list": (None, {"GET": statuses(200), "POST": statuses(405)}),
    "notification_open": (
        by_id("notification"),
        {"GET": statuses(404, author=302), "POST": statuses(405)},
    ),
    "notifications_mark_read": (None, {"GET": statuses(405), "POST": statuses(302)}),
    # An empty POST: a message asking to choose, then back to the profile.
    "digest_settings": (None, {"GET": statuses(405), "POST": statuses(302)}),
    # The author's private talking point: to anyone else it does not exist.
    "talking_point_discussed": (
        by_id("point"),
        {
            "GET": statuses(405),
            "POST": statuses(404, author=302),
            "POST_HX": statuses(404, author=200),
        },
    ),
    "talking_point_move": (
        by_id("point"),
        {
            "GET": statuses(405),
            "POST": statuses(404, author=302),
            "POST_HX": statuses(404, author=200),
        },
    ),
    "talking_point_delete": (
        by_id("point"),
        {
            "GET": statuses(405),
            "POST": statuses(404, author=302),
            "POST_HX": statuses(404, author=200),
        },
    ),
    # The author's calendar feed: its address is the key (calendar apps cannot sign in),
    # so whoever holds it reads times and names, and nothing else (the canaries).
    "calendar_feed": (
        lambda ids: {"person": ids["person"], "token": ids["feed_token"]},
        {"GET": statuses(200, anonymous=200), "POST": statuses(405, anonymous=405)},
    ),
    # An empty POST: a message asking to choose, then back to the profile.
    "calendar_feed_settings": (None, {"GET": statuses(405), "POST": statuses(302)}),
    "session_detail": (by_id("session"), {"GET": parties(200), "POST": statuses(405)}),
    "session_edit": (by_id("session"), {"GET": parties(200), "POST": parties(200)}),
    # The private note: its author edits and deletes it; to anyone else it does not exist.
    "note_edit": (
        by_id("note"),
        {"GET": statuses(404, author=200), "POST": statuses(404, author=200)},
    ),
    "note_delete": (by_id("note"), {"GET": statuses(405), "POST": statuses(404, author=302)}),
    "action_item_done": (
        by_id("item"),
        {"GET": statuses(405), "POST": parties(302), "POST_HX": parties(200)},
    ),
    # Either person edits a shared item; an empty POST re-renders the form with errors.
    "action_item_edit": (by_id("item"), {"GET": parties(200), "POST": parties(200)}),
    # Everyone signed in has their own list (empty for those who owe nothing).
    "my_action_items": (None, {"GET": statuses(200), "POST": statuses(405)}),
    # The round: the author (coach) has answered with an unshared comment (a canary);
    # the other party has not. An empty POST re-renders the form with its messages.
    "checkin_detail": (by_id("round"), {"GET": parties(200), "POST": parties(200)}),
    # The stepper is for those who can still answer; the author is sent to the round.
    "checkin_step": (
        by_id("round"),
        {"GET": parties(200, author=302), "POST": parties(200, author=302)},
    ),
    "checkin_cadence": (by_id("relationship"), {"GET": statuses(405), "POST": parties(302)}),
    "relationship_trend": (by_id("relationship"), {"GET": parties(200), "POST": statuses(405)}),
    # The private journal: everyone signed in has their own; the author's entry and
    # self-check (with the canary) exist for the author alone.
    "journal": (None, {"GET": statuses(200), "POST": statuses(405)}),
    "reflection_create": (None, {"GET": statuses(200), "POST": statuses(200)}),
    "journal_export": (None, {"GET": statuses(200), "POST": statuses(405)}),
    "journal_retention": (None, {"GET": statuses(405), "POST": statuses(302)}),
    "reflection_edit": (
        by_id("reflection"),
        {"GET": statuses(404, author=200), "POST": statuses(404, author=200)},
    ),
    "reflection_delete": (
        by_id("reflection"),
        {"GET": statuses(405), "POST": statuses(404, author=302)},
    ),
    "integrity": (None, {"GET": statuses(200), "POST": statuses(200)}),
    "integrity_check_delete": (
        by_id("self_check"),
        {"GET": statuses(405), "POST": statuses(404, author=302)},
    ),
    # HR's anonymous trends and the audit log: their own organisation's, HR admins only.
    "insights_dashboard": (None, {"GET": hr_only(200), "POST": statuses(405)}),
    "insights_export": (None, {"GET": hr_only(200), "POST": statuses(405)}),
    "organisation_audit": (None, {"GET": hr_only(200), "POST": statuses(405)}),
    "my_activity": (None, {"GET": statuses(200), "POST": statuses(405)}),
    # The HR admin (just before the author in ROLES) deactivates the author, who is then
    # signed out: a deactivated person is sent to the sign-in page.
    "member_active": (
        by_id("membership"),
        {"GET": statuses(405), "POST": hr_only(302, author=302)},
    ),
    # Company sign-in. Anyone may start it; an empty form is a 400.
    "sso_start": (
        None,
        {"GET": statuses(200, anonymous=200), "POST": statuses(400, anonymous=400)},
    ),
    # The emailed link joins its account, whoever opens it (the mailbox is the proof).
    "sso_connect": (
        lambda ids: {"token": ids["connect_token"]},
        {"GET": statuses(200, anonymous=200), "POST": statuses(302, anonymous=302)},
    ),
    # allauth asks before leaving for the provider; this one is down: a page saying so.
    "company_oidc_login": (
        lambda ids: {"provider_id": ids["provider_id"]},
        {"GET": statuses(200, anonymous=200), "POST": statuses(200, anonymous=200)},
    ),
    # A callback with no sign-in under way: allauth's error page.
    "company_oidc_callback": (
        lambda ids: {"provider_id": ids["provider_id"]},
        {"GET": statuses(401, anonymous=401), "POST": statuses(401, anonymous=401)},
    ),
    # allauth's SAML views (sso/saml/urls.py wraps them): the page that asks before leaving for
    # the provider, then the AuthnRequest's redirect; the ACS keeps what was posted and
    # moves on; finishing with nothing posted, and logging out with no request, fail
    # politely; the metadata is public.
    "saml_login": (
        lambda ids: {"organization_slug": ids["organization_slug"]},
        {"GET": statuses(200, anonymous=200), "POST": statuses(302, anonymous=302)},
    ),
    "saml_acs": (
        lambda ids: {"organization_slug": ids["organization_slug"]},
        {"GET": statuses(302, anonymous=302), "POST": statuses(302, anonymous=302)},
    ),
    "saml_finish_acs": (
        lambda ids: {"organization_slug": ids["organization_slug"]},
        {"GET": statuses(401, anonymous=401), "POST": statuses(401, anonymous=401)},
    ),
    "saml_sls": (
        lambda ids: {"organization_slug": ids["organization_slug"]},
        {"GET": statuses(400, anonymous=400), "POST": statuses(400, anonymous=400)},
    ),
    "saml_metadata": (
        lambda ids: {"organization_slug": ids["organization_slug"]},
        {"GET": statuses(200, anonymous=200), "POST": statuses(200, anonymous=200)},
    ),
    "sso_settings": (None, {"GET": hr_only(200), "POST": hr_only(400)}),
    "sso_only": (None, {"GET": statuses(405), "POST": hr_only(302)}),
    # HR publishes Rapport's SAML metadata before the provider's is saved.
    "sso_saml_prepare": (None, {"GET": statuses(405), "POST": hr_only(302)}),
    "sso_remove": (None, {"GET": statuses(405), "POST": hr_only(302)}),
    # Data rights: everyone's own. Deleting asks for the password again first.
    "my_data": (None, {"GET": statuses(200), "POST": statuses(405)}),
    "export_json": (None, {"GET": statuses(200), "POST": statuses(405)}),
    "export_html": (None, {"GET": statuses(200), "POST": statuses(405)}),
    "delete_account": (None, {"GET": statuses(302), "POST": statuses(302)}),
    "prompt_dismiss": (
        by_id("relationship"),
        {"GET": statuses(405), "POST": parties(302), "POST_HX": parties(200)},
    ),
}

# Parameters of third-party routes (allauth, admin): any syntactically valid value.
THIRD_PARTY_SAMPLES = {
    "key": "not-a-real-key",
    "uidb36": "1",
    "object_id": "1",
    "id": "1",
    "pk": "1",
    "organization_slug": "no-such-organisation",
    "content_type_id": "1",
    "app_label": "accounts",
    "url": "no-such-admin-page/",
}

PLACEHOLDER = re.compile(r"<(?:\w+:)?(\w+)>|\(\?P<(\w+)>[^)]*\)")


def _patterns(resolvers, prefix=""):
    for entry in resolvers:
        if isinstance(entry, URLResolver):
            yield from _patterns(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry


def _is_ours(pattern: URLPattern) -> bool:
    module = getattr(pattern.callback, "__module__", "")
    return module.startswith(OUR_APPS) or pattern.name in EXPECTED


ROUTES = sorted(dict(_patterns(get_resolver().url_patterns)).items())
CASES = [(route, pattern, method, hx) for route, pattern in ROUTES for method, hx in COMBOS]


def _path(route: str, kwargs: dict) -> str:
    def fill(match):
        name = match.group(1) or match.group(2)
        if name not in kwargs:
            raise LookupError(name)
        return str(kwargs[name])

    return "/" + PLACEHOLDER.sub(fill, route).replace("^", "").replace("$", "")


def _may_see(role: str, path: str) -> set[str]:
    visible = set()
    if role == "author":
        visible |= {NOTE_CANARY, SHARED_CANARY}
    if role == "other_party":
        visible.add(SHARED_CANARY)
    if role == "hr_admin" or (role == "superuser" and path.startswith("/admin/")):
        visible.add(ORG_CANARY)
    return visible


def test_every_route_of_ours_has_expectations():
    missing = [
        f"{route} (name={pattern.name})"
        for route, pattern in ROUTES
        if _is_ours(pattern) and pattern.name not in EXPECTED
    ]
    assert not missing, f"Add these routes to EXPECTED in {__name__}: {missing}"


def test_the_matrix_covers_every_route_method_and_role():
    assert len(CASES) == 4 * len(ROUTES)
    assert len(ROUTES) > 100  # ours, allauth's and the admin's


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("route", "pattern", "method", "hx"),
    CASES,
    ids=[f"{method}{'+hx' if hx else ''} {route}" for route, _, method, hx in CASES],
)
def test_route_for_every_role(route, pattern, method, hx):
    world = _world()
    if _is_ours(pattern):
        sample, expected = EXPECTED[pattern.name]
        kwargs = sample(world.ids) if sample else {}
        statuses_for = expected.get(f"{method}_HX" if hx else method) or expected[method]
    else:
        kwargs, statuses_for = THIRD_PARTY_SAMPLES, None
    try:
        path = _path(route, kwargs)
    except LookupError as missing:
        pytest.fail(f"No sample argument {missing} for {route}: add one to this test.")

    headers = {"HX-Request": "true"} if hx else {}
    for role in ROLES:
        client = Client(headers=headers)
        if world.users[role] is not None:
            client.force_login(world.users[role])
        response = client.get(path) if method == "GET" else client.post(path)
        where = f"{method}{' (htmx)' if hx else ''} {path} as {role}"
        assert response.status_code < 500, f"{where}: {response.status_code}"
        if statuses_for is not None:
            assert response.status_code == statuses_for[role], (
                f"{where}: {response.status_code}, expected {statuses_for[role]}"
            )
        body = response.content.decode(errors="replace")
        for canary in {NOTE_CANARY, SHARED_CANARY, ORG_CANARY} - _may_see(role, path):
            assert canary not in body, f"{where} shows {canary}"


@pytest.mark.django_db
def test_the_canaries_are_visible_to_those_who_may_see_them():
    """So the matrix's absence checks could fail: the canaries do render."""
    world = _world()
    author, other = Client(), Client()
    author.force_login(world.users["author"])
    other.force_login(world.users["other_party"])
    session_page = f"/sessions/{world.ids['session']}/"
    relationship_page = f"/relationships/{world.ids['relationship']}/"

    assert NOTE_CANARY in author.get(session_page).content.decode()
    assert SHARED_CANARY in other.get(relationship_page).content.decode()
    assert NOTE_CANARY not in other.get(session_page).content.decode()
    agenda = f"/scheduled/{world.ids['scheduled']}/"
    assert NOTE_CANARY in author.get(agenda).content.decode()
    assert SHARED_CANARY in author.get(agenda).content.decode()
    assert NOTE_CANARY not in other.get(agenda).content.decode()
    hr = Client()
    hr.force_login(world.users["hr_admin"])
    assert ORG_CANARY in hr.get("/organisation/").content.decode()
