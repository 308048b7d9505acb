"""The demo as a new user meets it: `manage.py demo` in its own process, with its own
settings (config.settings.local) on its own SQLite file, answering real HTTP requests
from several threads at once. Independent of DATABASE_URL: the demo is always SQLite."""

import http.cookiejar
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from accounts.demo import DEMO_PASSWORD

ROOT = Path(__file__).resolve().parents[1]
# Nothing from the test run leaks into the demo: it starts as `uv run manage.py demo` would.
NOT_INHERITED = {
    "DJANGO_SETTINGS_MODULE",
    "DATABASE_URL",
    "DEBUG",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "RAPPORT_ENCRYPTION_KEYS",
    "DJANGO_ALLOW_ASYNC_UNSAFE",
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _manage(env, *args, timeout=120):
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    folder = tmp_path_factory.mktemp("demo")
    env = {k: v for k, v in os.environ.items() if k not in NOT_INHERITED}
    env["DATABASE_URL"] = f"sqlite:///{folder / 'demo.sqlite3'}"
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    log = (folder / "demo.log").open("w")
    started = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "manage.py", "demo", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        while True:
            assert process.poll() is None, (folder / "demo.log").read_text()
            assert time.monotonic() - started < 180, "the demo did not start within 3 minutes"
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=2):  # noqa: S310 - loopback
                    break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.25)
        yield {"base": base, "env": env, "log": folder / "demo.log"}
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()


def _get(opener, url):
    """(status, body, content type) without raising on 4xx/5xx."""
    try:
        with opener.open(url, timeout=60) as response:
            return response.status, response.read().decode(), response.headers["Content-Type"]
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(errors="replace"), error.headers["Content-Type"]


def _signed_in(base, email):
    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
    )
    status, page, _ = _get(opener, f"{base}/accounts/login/")
    assert status == 200
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    form = urllib.parse.urlencode(
        {"csrfmiddlewaretoken": token, "login": email, "password": DEMO_PASSWORD}
    ).encode()
    with opener.open(f"{base}/accounts/login/", data=form, timeout=60) as response:
        assert "/accounts/login/" not in response.url, f"{email} could not sign in"
    return opener


def test_a_mistyped_link_in_the_demo_shows_rapports_404_not_every_url_pattern(demo):
    opener = urllib.request.build_opener()

    status, page, _ = _get(opener, f"{demo['base']}/relationshps/")

    assert status == 404
    assert "We can't find that page" in page
    assert "URLconf" not in page and "urlpatterns" not in page.lower()
    assert "DEBUG = True" not in page


def test_the_demo_serves_its_static_files_without_debug(demo):
    opener = urllib.request.build_opener()
    _status, page, _ = _get(opener, f"{demo['base']}/no-such-page/")
    stylesheet = re.search(r'<link rel="stylesheet" href="([^"]+)"', page).group(1)

    status, css, content_type = _get(opener, f"{demo['base']}{stylesheet}")
    script_status, _script, _ = _get(opener, f"{demo['base']}/static/js/rapport.js")

    assert status == 200 and content_type.startswith("text/css")
    assert ".card" in css
    assert script_status == 200


def test_attack_concurrent_exports_on_the_sqlite_demo_never_answer_database_is_locked(demo):
    """40 requests over 8 threads by 5 signed-in people, each writing an audit event in
    its request's transaction: exports of one's data, HR's trends and their CSV."""
    base = demo["base"]
    people = ["alex.coach@example.com", "priya.coach@example.com", "sam@example.com"]
    openers = {email: _signed_in(base, email) for email in [*people, "kim@example.com"]}
    hana = _signed_in(base, "hana.hr@example.com")
    work = [(openers[email], "/profile/data/export.json") for email in openers] * 8
    work += [(hana, "/insights/"), (hana, "/insights/export.csv")] * 4

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda job: _get(job[0], base + job[1])[0], work))

    failed = [status for status in answers if status >= 500]
    assert len(answers) == 40
    assert not failed, f"{len(failed)} of 40 answered 5xx:\n" + demo["log"].read_text()[-3000:]
    assert set(answers) == {200}
    # Every request left exactly one event, each chained to the one before it.
    verify = _manage(demo["env"], "verify_audit_log")
    assert verify.returncode == 0, verify.stdout + verify.stderr
    count = _manage(
        demo["env"],
        "shell",
        "-c",
        "from accounts.models import AuditEvent; "
        "print(AuditEvent.objects.filter(action='data.exported').count(), "
        "AuditEvent.objects.filter(action='insights.viewed').count())",
    )
    assert count.stdout.strip().splitlines()[-1].split() == ["32", "4"], count.stderr


def test_the_demo_runs_a_worker_that_prints_queued_email_to_the_console(demo):
    """Email is queued by the request and sent by the worker the demo runs beside the
    server: a password reset asked for in the demo appears in its console."""
    base = demo["base"]
    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
    )
    status, page, _ = _get(opener, f"{base}/accounts/password/reset/")
    assert status == 200
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    form = urllib.parse.urlencode(
        {"csrfmiddlewaretoken": token, "email": "kim@example.com"}
    ).encode()
    with opener.open(f"{base}/accounts/password/reset/", data=form, timeout=60) as response:
        assert response.status == 200
    deadline = time.monotonic() + 30
    while "To: kim@example.com" not in demo["log"].read_text():
        assert time.monotonic() < deadline, demo["log"].read_text()[-3000:]
        time.sleep(0.25)
    assert "/accounts/password/reset/key/" in demo["log"].read_text()
