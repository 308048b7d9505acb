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
