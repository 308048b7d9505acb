"""Every URL pattern, for every role (18F tock's test_url_auth, grown up).

Our own routes must be listed in EXPECTED with the status each role gets, for GET
and POST; a new route without an entry fails this test. Third-party routes
(allauth, the admin) must never answer 5xx. On every route, organisation data
only its HR admin may see (the canary) must not appear for anyone else.
"""

import re
import uuid
from dataclasses import dataclass

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from accounts.models import Membership
from tests.factories import (
    HRAdminMembershipFactory,
    InvitationFactory,
    MembershipFactory,
    OrganisationFactory,
    TeamFactory,
    UserFactory,
)

CANARY = "canary-7f3a9c"
ROLES = ["anonymous", "member", "other_hr_admin", "superuser", "hr_admin"]
OUR_APPS = ("accounts.", "relationships.", "reflections.", "insights.")


@dataclass
class World:
    users: dict
    invitation_token: str
    invitation_id: uuid.UUID
    member_membership_id: uuid.UUID


def _world() -> World:
    organisation = OrganisationFactory(name="Acme Coaching")
    TeamFactory(organisation=organisation, name=f"Team {CANARY}")
    member = MembershipFactory(organisation=organisation).user
    hr_admin = HRAdminMembershipFactory(organisation=organisation).user
    MembershipFactory(organisation=organisation, user__email=f"{CANARY}@example.com")
    invitation = InvitationFactory(
        organisation=organisation, email=f"invitee-{CANARY}@example.com", token="matrix-token"
    )
    other_hr_admin = HRAdminMembershipFactory(organisation=OrganisationFactory()).user
    superuser = UserFactory(is_staff=True, is_superuser=True)
    return World(
        users={
            "anonymous": None,
            "member": member,
            "hr_admin": hr_admin,
            "other_hr_admin": other_hr_admin,
            "superuser": superuser,
        },
        invitation_token="matrix-token",
        invitation_id=invitation.public_id,
        member_membership_id=Membership.objects.get(user=member).public_id,
    )


def everyone(status):
    return dict.fromkeys(ROLES, status)


def signed_in(status, anonymous=302):
    return {**everyone(status), "anonymous": anonymous}


def hr_only(hr_status, other_hr_status=None):
    """HR admins reach their own organisation's page; anyone else gets a 404."""
    return {
        "anonymous": 302,
        "member": 404,
        "hr_admin": hr_status,
        "other_hr_admin": hr_status if other_hr_status is None else other_hr_status,
        "superuser": 404,
    }


# route name -> (sample kwargs from the world, {method: {role: status}})
EXPECTED = {
    "home": (None, {"GET": signed_in(200), "POST": signed_in(405)}),
    "healthz": (None, {"GET": everyone(200), "POST": everyone(405)}),
    "readyz": (None, {"GET": everyone(200), "POST": everyone(405)}),
    "profile": (None, {"GET": signed_in(200), "POST": signed_in(200)}),
    "account_signup": (
        None,
        # Signed-in people are sent home; the form re-renders with errors otherwise.
        {"GET": {**everyone(302), "anonymous": 200}, "POST": {**everyone(302), "anonymous": 200}},
    ),
    "invitation_accept": (
        lambda w: {"token": w.invitation_token},
        # Signed-in people are told why this invitation is not theirs to accept.
        {"GET": everyone(200), "POST": {**everyone(200), "anonymous": 302}},
    ),
    "organisation": (None, {"GET": hr_only(200), "POST": signed_in(405)}),
    "organisation_settings": (None, {"GET": signed_in(405), "POST": hr_only(200)}),
    "team_create": (None, {"GET": signed_in(405), "POST": hr_only(200)}),
    "invitation_create": (None, {"GET": signed_in(405), "POST": hr_only(200)}),
    "invitation_revoke": (
        lambda w: {"public_id": w.invitation_id},
        {"GET": signed_in(405), "POST": hr_only(302, other_hr_status=404)},
    ),
    "membership_update": (
        lambda w: {"public_id": w.member_membership_id},
        {"GET": signed_in(405), "POST": hr_only(200, other_hr_status=404)},
    ),
}

# Parameters of third-party routes (allauth, admin): any syntactically valid value.
THIRD_PARTY_SAMPLES = {
    "key": "not-a-real-key",
    "uidb36": "1",
    "object_id": "1",
    "id": "1",
    "content_type_id": "1",
    "app_label": "accounts",
    "url": "no-such-admin-page/",
}

PLACEHOLDER = re.compile(r"<(?:\w+:)?(\w+)>|\(\?P<(\w+)>[^)]*\)")


def _patterns(resolvers, prefix="", namespace=None):
    for entry in resolvers:
        if isinstance(entry, URLResolver):
            yield from _patterns(
                entry.url_patterns, prefix + str(entry.pattern), entry.namespace or namespace
            )
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry


def _is_ours(pattern: URLPattern) -> bool:
    module = getattr(pattern.callback, "__module__", "")
    return module.startswith(OUR_APPS) or pattern.name in EXPECTED


ROUTES = sorted(dict(_patterns(get_resolver().url_patterns)).items())


def _path(route: str, kwargs: dict) -> str:
    def fill(match):
        name = match.group(1) or match.group(2)
        if name not in kwargs:
            raise LookupError(name)
        return str(kwargs[name])

    return "/" + PLACEHOLDER.sub(fill, route).replace("^", "").replace("$", "")


def _client(user) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def test_every_route_of_ours_has_expectations():
    missing = [
        f"{route} (name={pattern.name})"
        for route, pattern in ROUTES
        if _is_ours(pattern) and pattern.name not in EXPECTED
    ]
    assert not missing, f"Add these routes to EXPECTED in {__name__}: {missing}"


@pytest.mark.django_db
@pytest.mark.parametrize(("route", "pattern"), ROUTES, ids=[route for route, _ in ROUTES])
def test_route_for_every_role(route, pattern):
    world = _world()
    if _is_ours(pattern):
        sample, expected = EXPECTED[pattern.name]
        kwargs = sample(world) if sample else {}
        methods = expected
    else:
        kwargs, methods = THIRD_PARTY_SAMPLES, {"GET": None}
    try:
        path = _path(route, kwargs)
    except LookupError as missing:
        pytest.fail(f"No sample argument {missing} for {route}: add one to this test.")

    # The HR admin goes last: their POSTs change the world (e.g. revoke the invitation).
    for method, statuses in methods.items():
        for role in ROLES:
            response = getattr(_client(world.users[role]), method.lower())(path)
            body = response.content.decode(errors="replace")
            assert response.status_code < 500, f"{method} {path} as {role}: {response.status_code}"
            if statuses is not None:
                assert response.status_code == statuses[role], (
                    f"{method} {path} as {role}: {response.status_code}, expected {statuses[role]}"
                )
            may_see_canary = role == "hr_admin" or (
                role == "superuser" and path.startswith("/admin/")
            )
            if not may_see_canary:
                assert CANARY not in body, f"{method} {path} leaks to {role}"
