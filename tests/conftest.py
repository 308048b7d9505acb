import os
import shutil

# Playwright's sync API runs an event loop in the test thread; Django must still
# allow ordinary database calls there. Set before Django loads.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

import pytest  # noqa: E402
from django.test import Client  # noqa: E402

from tests.factories import (  # noqa: E402
    HRAdminMembershipFactory,
    MembershipFactory,
    OrganisationFactory,
    TeamFactory,
    UserFactory,
)


@pytest.fixture
def organisation(db):
    return OrganisationFactory(name="Acme Coaching")


@pytest.fixture
def team(organisation):
    return TeamFactory(organisation=organisation, name="Platform")


@pytest.fixture
def member(organisation):
    return MembershipFactory(organisation=organisation, user__display_name="Morgan Member").user


@pytest.fixture
def user(member):
    return member


@pytest.fixture
def coach(organisation, team):
    return MembershipFactory(
        organisation=organisation, team=team, user__display_name="Casey Coach"
    ).user


@pytest.fixture
def coachee(organisation, team):
    return MembershipFactory(
        organisation=organisation, team=team, user__display_name="Sam Coachee"
    ).user


@pytest.fixture
def hr_admin(organisation):
    return HRAdminMembershipFactory(organisation=organisation, user__display_name="Harper HR").user


@pytest.fixture
def other_hr_admin(db):
    """An HR admin of a different organisation: must see nothing of `organisation`."""
    return HRAdminMembershipFactory(organisation=OrganisationFactory(name="Elsewhere Ltd")).user


def pytest_collection_modifyitems(items):
    """Every test that uses the database may use the key store too (config.routers):
    writing private text makes a data key there. pytest-django gives a test only
    `default` unless its marker names more, so each gets `databases="__all__"`, its own
    marker's other arguments kept."""
    for item in items:
        marker = item.get_closest_marker("django_db")
        if marker is None and not {"db", "transactional_db", "live_server"} & set(
            getattr(item, "fixturenames", ())
        ):
            continue
        args, kwargs = (marker.args, dict(marker.kwargs)) if marker else ((), {})
        kwargs.setdefault("databases", "__all__")
        item.add_marker(pytest.mark.django_db(*args, **kwargs), append=False)


@pytest.fixture(autouse=True, scope="session")
def _another_day():
    """`RAPPORT_TEST_NOW=2027-01-01T00:03Z uv run pytest` runs the suite as if it were then,
    the clock ticking from there: how to check that no test depends on the day it runs
    (docs/conventions.md, "Tests and the clock"). Partner processes keep the real clock."""
    when = os.environ.get("RAPPORT_TEST_NOW")
    if not when:
        yield
        return
    import time_machine

    with time_machine.travel(when, tick=True):
        yield


@pytest.fixture(autouse=True)
def _pinned_clock(request):
    """`@pytest.mark.travel(when)` pins the clock for the whole test, its fixtures included.

    time_machine's decorator applies only around the test function, after the fixtures
    have made their rows at the real date: a relationship made "today" then postdates a
    session pinned to last week, and the test passes or fails by the day it runs. Autouse
    fixtures run before the ones a test asks for, so everything here is made at `when`.
    """
    marker = request.node.get_closest_marker("travel")
    if marker is None:
        yield
        return
    import time_machine

    with time_machine.travel(*marker.args, **{"tick": False, **marker.kwargs}):
        yield


@pytest.fixture(autouse=True)
def _no_unwrapped_keys_from_earlier_tests():
    """A key unwrapped in one test is not in the next one's key store (rolled back)."""
    from privacy import keys

    keys.forget_all()


def _client_for(client, user):
    """Each signed-in client is a browser of its own, so a test can hold several."""
    own = Client()
    own.force_login(user)
    return own


@pytest.fixture
def member_client(client, member):
    return _client_for(client, member)


@pytest.fixture
def coach_client(client, coach):
    return _client_for(client, coach)


@pytest.fixture
def coachee_client(client, coachee):
    return _client_for(client, coachee)


@pytest.fixture
def hr_client(client, hr_admin):
    return _client_for(client, hr_admin)


@pytest.fixture
def other_hr_client(client, other_hr_admin):
    return _client_for(client, other_hr_admin)


@pytest.fixture
def superuser(db):
    return UserFactory(is_staff=True, is_superuser=True, display_name="Sudo Superuser")


# --- Browser tests -------------------------------------------------------------


def _missing(message: str, *, required_by: str) -> None:
    """A tool the tests need is not installed: skip them, or fail where CI requires them."""
    if os.environ.get(required_by) == "1":
        pytest.fail(f"{message} {required_by}=1 makes this a failure.")
    pytest.skip(message)


def _chromium_path() -> str | None:
    return (
        os.environ.get("RAPPORT_CHROMIUM")
        or shutil.which("chromium")
        or shutil.which("chromium-browser")
    )


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    path = _chromium_path()
    if not path:
        _missing(
            "Chromium not found: install Debian's `chromium` package (or set "
            "RAPPORT_CHROMIUM) to run the browser tests.",
            required_by="RAPPORT_REQUIRE_BROWSER",
        )
    return {
        **browser_type_launch_args,
        "executable_path": path,
        # No network here beyond loopback: keep Chromium from calling home.
        "args": [
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-gpu",
        ],
    }


# --- Relationships -------------------------------------------------------------


@pytest.fixture
def relationship(coach, coachee, organisation):
    from tests.factories import RelationshipFactory

    return RelationshipFactory(organisation=organisation, coach=coach, coachee=coachee)


@pytest.fixture
def other_coach(organisation):
    """A coach in the same organisation with a relationship of their own."""
    from tests.factories import RelationshipFactory

    return RelationshipFactory(organisation=organisation).coach


@pytest.fixture
def other_coach_client(client, other_coach):
    return _client_for(client, other_coach)


@pytest.fixture(scope="session")
def oidc_provider(tmp_path_factory):
    """A real OpenID Connect provider (django-oauth-toolkit) in a process of its own, for
    the company sign-in tests: tests/partners/oidc_provider."""
    from tests.partners import oidc

    provider = oidc.start(tmp_path_factory.mktemp("oidc-provider"))
    yield provider
    provider.process.terminate()
    provider.process.wait(timeout=10)


@pytest.fixture(scope="session")
def simplesamlphp(tmp_path_factory):
    """SimpleSAMLphp, an independent SAML identity provider (PHP), as it ships:
    tests/partners/simplesamlphp.py."""
    from tests.partners import simplesamlphp as ssp

    if not ssp.available():
        _missing(
            "SimpleSAMLphp not found: install Debian's `simplesamlphp`, `php-cli` and "
            "`php-xml` packages to run the tests against it.",
            required_by="RAPPORT_REQUIRE_SAML",
        )
    provider = ssp.start(tmp_path_factory.mktemp("simplesamlphp"))
    yield provider
    provider.process.terminate()
    provider.process.wait(timeout=10)


@pytest.fixture(scope="session")
def saml_provider(tmp_path_factory):
    """A real SAML identity provider (pysaml2, signing with xmlsec1) in a process of its
    own, for the company sign-in tests: tests/partners/saml_idp.py."""
    from tests.partners import saml

    if not shutil.which("xmlsec1"):
        _missing(
            "xmlsec1 not found: install Debian's `xmlsec1` package to run the SAML tests "
            "(the test identity provider signs with it).",
            required_by="RAPPORT_REQUIRE_SAML",
        )
    provider = saml.start(tmp_path_factory.mktemp("saml-provider"))
    yield provider
    provider.process.terminate()
    provider.process.wait(timeout=10)
