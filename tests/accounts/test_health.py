import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

ROOT = Path(__file__).resolve().parents[2]


UNREACHABLE = "postgres://postgres@127.0.0.1:1/unreachable?connect_timeout=2"


def _without_a_database(script: str, **environment) -> str:
    """Run `script` in a fresh process whose PostgreSQL is unreachable (nothing listens
    on port 1), or with `environment` saying what is; return what it printed."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": UNREACHABLE,
        **environment,
    }
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup();" + script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@pytest.mark.django_db
def test_healthz_and_readyz_answer_when_the_database_is_up(client):
    assert client.get(reverse("healthz")).content == b"ok\n"
    response = client.get(reverse("readyz"))
    assert (response.status_code, response.content) == (200, b"ready\n")


def test_readyz_is_503_when_the_database_is_unreachable():
    """A real unreachable PostgreSQL (nothing listens on port 1), in a fresh process."""
    script = (
        "from django.test import Client; c = Client();"
        "r = c.get('/readyz'); h = c.get('/healthz');"
        "print(r.status_code, r.content.decode().strip(), '|', h.status_code)"
    )
    output = _without_a_database(script)
    assert output == "503 database unreachable | 200"
    assert "Traceback" not in output


def test_readyz_is_503_when_the_key_store_is_unreachable(tmp_path):
    """The main database answers, the key store (config.routers) does not."""
    output = _without_a_database(
        "from django.test import Client; r = Client().get('/readyz');"
        "print(r.status_code, r.content.decode().strip())",
        DATABASE_URL=f"sqlite:///{tmp_path / 'main.sqlite3'}",
        RAPPORT_KEYS_DATABASE_URL=UNREACHABLE,
    )

    assert output == "503 key store unreachable"


def test_pages_answer_a_branded_503_when_the_database_is_unreachable():
    script = (
        "from django.test import Client; c = Client(raise_request_exception=False);"
        # Signing in needs the database (a page that only shows a form no longer
        # opens a transaction, so it renders without one: config/transactions.py).
        "r = c.post('/accounts/login/', {'login': 'a@example.com', 'password': 'x'});"
        "body = r.content.decode();"
        "print(r.status_code, r.get('Retry-After'), 'catching its breath' in body,"
        " 'Traceback' in body)"
    )
    assert _without_a_database(script) == "503 30 True False"


@pytest.mark.django_db
def test_other_errors_stay_a_plain_branded_500(client, monkeypatch):
    from accounts import views

    def broken(request):
        raise RuntimeError("boom")

    monkeypatch.setattr(views, "due_checkins", lambda user: broken(None))
    client.raise_request_exception = False
    from tests.factories import UserFactory

    client.force_login(UserFactory())
    response = client.get("/")

    assert response.status_code == 500
    assert "Something went wrong on our side" in response.content.decode()
    assert "boom" not in response.content.decode()
