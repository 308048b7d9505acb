"""Every form and htmx endpoint of ours, fed hypothesis-generated input: the answer is
a success or a 4xx with a message, never a 500; stored text renders escaped."""

import pytest
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.factories import NoteFactory, ReflectionFactory, SessionFactory
from tests.test_url_matrix import EXPECTED, ROUTES, _is_ours, _path, _world

# Field names our forms use, so generated input reaches the validation code.
FIELDS = [
    "body",
    "visibility",
    "client_token",
    "session",
    "note",
    "version",
    "summary",
    "agenda",
    "focus",
    "held_on",
    "duration_minutes",
    "text",
    "owner",
    "due_on",
    "done",
    "answer",
    "action",
    "cadence",
    "comment",
    "shared",
    "shared_present",
    "step",
    "direction",
    "reliability",
    "honesty",
    "prompt",
    "relationship",
    "retention_days",
    "kind",
    "round",
    "confirm",
    "coachee",
    "email",
    "purpose",
    "team",
    "role",
    "active",
    "display_name",
    "time_zone",
    "invite-email",
    "invite-team",
    "invite-role",
    "team-name",
    "org-name",
    "org-anonymity_threshold",
    "refresh_agenda",
    "expectations",
    "speak_up",
]
# Text from every plane, control characters included; HTML and script payloads too.
ANY_TEXT = st.one_of(
    st.text(st.characters(codec="utf-8"), max_size=200),
    st.sampled_from(
        ["", " ", "<script>alert(1)</script>", "' OR 1=1 --", "\x00", "\u202e", "9" * 400]
    ),
    st.integers(min_value=-(10**12), max_value=10**12).map(str),
    st.uuids().map(str),
)
POST_ROUTES = [
    (route, pattern)
    for route, pattern in ROUTES
    if _is_ours(pattern)
    and "POST" in EXPECTED[pattern.name][1]
    and pattern.name not in {"healthz", "readyz"}
]


@pytest.mark.django_db
@pytest.mark.parametrize(("route", "pattern"), POST_ROUTES, ids=[r for r, _ in POST_ROUTES])
def test_our_endpoints_never_answer_500(route, pattern):
    world = _world()
    sample, _ = EXPECTED[pattern.name]
    path = _path(route, sample(world.ids) if sample else {})
    people = [world.users[role] for role in ("author", "other_party", "hr_admin")]

    @settings(
        max_examples=12,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    @given(
        data=st.dictionaries(st.sampled_from(FIELDS), ANY_TEXT, max_size=8),
        who=st.sampled_from(range(len(people))),
        htmx=st.booleans(),
    )
    def post_anything(data, who, htmx):
        client = Client(headers={"HX-Request": "true"} if htmx else {})
        client.force_login(people[who])
        response = client.post(path, data)
        assert response.status_code < 500, (path, data, response.status_code)

    post_anything()


PAYLOAD = '<script>alert("x")</script><img src=x onerror=alert(1)>'


@pytest.mark.django_db
def test_stored_text_renders_escaped(client, relationship):
    session = SessionFactory(relationship=relationship, summary=PAYLOAD, agenda=PAYLOAD)
    NoteFactory(relationship=relationship, body=PAYLOAD, visibility="shared")
    ReflectionFactory(author=relationship.coach, body=PAYLOAD)
    relationship.purpose = PAYLOAD
    relationship.save()
    client.force_login(relationship.coach)

    for url in [
        reverse("relationship_detail", args=[relationship.public_id]),
        reverse("session_detail", args=[session.public_id]),
        reverse("journal"),
    ]:
        html = client.get(url).content.decode()
        assert "<script>alert" not in html and "<img src=x" not in html, url
        assert "&lt;script&gt;alert" in html, url
