import pytest


@pytest.fixture(autouse=True)
def _close_browser_contexts(request):
    """Close every browser context a test opened. Chromium keeps its connections to the
    live server alive, and each one holds a server thread with its own database
    connection: left open, a long browser suite ran PostgreSQL out of connections."""
    yield
    if "browser" in request.fixturenames:
        for context in request.getfixturevalue("browser").contexts:
            context.close()


@pytest.fixture(autouse=True)
def _fresh_rate_limits(request):
    """Each journey starts with allauth's rate limits unspent. They count in the database
    cache, whose table a test's flush leaves alone, and every browser signs in from the
    same address: a long suite's sign-ins added up to a 429 for whichever journey came
    next. The limits themselves are tested in tests/accounts/test_rate_limits.py."""
    if "live_server" in request.fixturenames:
        from django.core.cache import cache

        cache.clear()
    yield
