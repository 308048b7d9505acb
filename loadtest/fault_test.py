"""Fault test: restart PostgreSQL under a steady stream of writes, then check that
every write that got a success is in the database and that the app serves again.

Run it as described in loadtest/README.md (a server from loadtest/serve.sh on
127.0.0.1:8010, against the database in DATABASE_URL). Loopback only, bounded in time.
"""

import http.cookiejar
import re
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

BASE = "http://127.0.0.1:8010"
PASSWORD = "rapport-demo"  # noqa: S105 - the printed demo password
WRITERS = ["alex.coach@example.com", "sam@example.com", "kim@example.com", "ada@example.com"]
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
RELATIONSHIP = re.compile(r'href="(/relationships/[0-9a-f-]{36}/)"')
RUN_SECONDS, RESTART_AFTER = 30, 8


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _opener(follow=True, jar=None):
    jar = jar if jar is not None else http.cookiejar.CookieJar()
    handlers = [urllib.request.HTTPCookieProcessor(jar)]
    if not follow:
        handlers.append(NoRedirect())
    return urllib.request.build_opener(*handlers), jar


def _request(opener, path, data=None):
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    try:
        with opener.open(BASE + path, data=body, timeout=10) as response:  # noqa: S310
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(errors="replace")
    except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
        return 0, str(error)


def sign_in(email):
    """A signed-in session of a demo user: an opener that follows redirects, and its jar."""
    opener, jar = _opener()
    _, page = _request(opener, "/accounts/login/")
    _request(
        opener,
        "/accounts/login/",
        {"login": email, "password": PASSWORD, "csrfmiddlewaretoken": CSRF.search(page).group(1)},
    )
    return opener, jar


class Writer(threading.Thread):
    def __init__(self, email, stop):
        super().__init__(daemon=True)
        self.email, self.stop = email, stop
        self.acknowledged, self.failures, self.successes_at = [], 0, []

    def run(self):
        opener, jar = sign_in(self.email)
        _, listing = _request(opener, "/relationships/")
        relationship = RELATIONSHIP.search(listing).group(1)
        poster, _ = _opener(follow=False, jar=jar)  # the same signed-in session
        while not self.stop.is_set():
            status, page = _request(opener, relationship)
            match = CSRF.search(page) if status == 200 else None
            if not match:
                self.failures += 1
                time.sleep(0.2)
                continue
            token = str(uuid.uuid4())
            status, _ = _request(
                poster,
                f"{relationship}notes/new/",
                {
                    "body": f"Fault test note {token}",
                    "visibility": "private",
                    "client_token": token,
                    "csrfmiddlewaretoken": match.group(1),
                },
            )
            if status == 302:
                self.acknowledged.append(token)
                self.successes_at.append(time.monotonic())
            else:
                self.failures += 1
                time.sleep(0.2)


def main() -> int:
    stop = threading.Event()
    writers = [Writer(email, stop) for email in WRITERS]
    for writer in writers:
        writer.start()
    time.sleep(RESTART_AFTER)
    cluster = sorted(Path("/etc/postgresql").iterdir())[0].name
    restarted_at = time.monotonic()
    subprocess.run(  # noqa: S603
        ["pg_ctlcluster", "--skip-systemctl-redirect", cluster, "main", "restart"],  # noqa: S607
        check=True,
    )
    back_at = time.monotonic()
    time.sleep(max(0, RUN_SECONDS - RESTART_AFTER))
    stop.set()
    for writer in writers:
        writer.join(timeout=15)
    acknowledged = [token for writer in writers for token in writer.acknowledged]
    failures = sum(writer.failures for writer in writers)
    after = [t for writer in writers for t in writer.successes_at if t > back_at]
    recovery = (min(after) - back_at) if after else None
    out = Path(__file__).with_name("acknowledged-fault.txt")
    out.write_text("\n".join(acknowledged) + "\n")
    print(
        f"PostgreSQL restart took {back_at - restarted_at:.1f} s; writes acknowledged: "
        f"{len(acknowledged)}; refused or failed during the outage: {failures}; first "
        f"success {recovery:.2f} s after the database was back"
        if recovery is not None
        else "no success after the restart"
    )
    print(f"Now check them: uv run python loadtest/verify_writes.py {out}")
    return 0 if recovery is not None else 1


if __name__ == "__main__":
    sys.exit(main())
