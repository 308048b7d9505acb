"""The benchmark harness: `uv run python -m bench` (see bench/README.md).

Creates a PostgreSQL database and seeds a large organisation (or reuses one), then
measures every main page against two baselines measured in the same run, the same 20 rows
without and with the page frame:

1. CPU per request (the primary figure): Python plus the PostgreSQL backend, in process
   through Django's real WSGI handler under production settings, in interleaved rounds
   (bench/cpu.py). Each page's ratio to the framed baseline has a range over the rounds,
   and a verdict counts only when the whole range is on one side of the budget.
2. Throughput and latency under load (secondary): gunicorn (2 or 4 sync workers, whichever
   serves this machine better) driven by wrk, the framed baseline right before each page.

Writes bench/results/latest.{md,json}; exits 1 when a budget is missed or undecided.
`--compare REV ...` measures the CPU per request of several git revisions instead.
"""

import argparse
import base64
import json
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from http.cookiejar import CookieJar
from math import prod
from pathlib import Path
from statistics import median
from urllib.error import HTTPError
from urllib.parse import urlencode, urlsplit, urlunsplit
from urllib.request import HTTPCookieProcessor, Request, build_opener

from bench.cpu import SLICES

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/rapport_bench"

# Budgets (issue 15, docs/performance.md), checked on every run.
MAX_FRAMED_RATIO = 2.0  # each page's CPU per request ≤ 2× the framed baseline's
MAX_FRAME_CPU_MS = 1.5  # the frame: framed − frameless baseline CPU per request
MAX_FRAME_QUERIES = 2  # the frame: framed − frameless baseline queries
MAX_TAIL_RATIO = 3.0  # under load, each page's p99 ≤ 3× its own p50
MAX_QUERIES = 12  # per page, whatever the data size
MAX_WORKER_RSS_MB = 150
MAX_SEED_SECONDS = 600
# Search decrypts everything the person may read, in the request (there is no index to
# ask: private text is encrypted at rest), so its cost grows with their history and is
# judged on its own: at most this much CPU for the five-year coach's search.
SEARCH = "search (5 years)"
MAX_SEARCH_CPU_MS = 150
# A person's data export decrypts everything they wrote or may read too (issue 18 seals
# it with their own and their relationships' data keys): the five-year coach's JSON.
EXPORT = "my data export (5 years)"
MAX_EXPORT_CPU_MS = 1000
# One read for each kind of thing a person has (notes, sessions, answers, …), whatever
# how many they have: more than a page's reads, never more with more history.
MAX_EXPORT_QUERIES = 25
# What a target sends as a POST form (the others are GETs); search's query travels in
# the body, never in the URL.
POST_BODIES = {SEARCH: "q=launch"}
OWN_BUDGETS_MS = {SEARCH: MAX_SEARCH_CPU_MS, EXPORT: MAX_EXPORT_CPU_MS}
OWN_QUERY_LIMITS = {EXPORT: MAX_EXPORT_QUERIES}
# Measured for CPU only: a download a person asks for now and then, over half a second of
# CPU, is not a page sixteen people load at once (wrk's two-second timeout takes them all).
NOT_UNDER_LOAD = {EXPORT}

FRAMELESS = "frameless baseline"
FRAMED = "framed baseline"
WORKER_CHOICES = (2, 4)
WORKING_TREE = "."  # in --compare: the working tree as it is, uncommitted changes included


def parse_args(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--scale", choices=["full", "tiny"], default="full")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL),
        help="PostgreSQL database to (re)create; default %(default)s",
    )
    parser.add_argument(
        "--reuse-db", action="store_true", help="keep an already seeded database (no seeding)"
    )
    parser.add_argument("--page", action="append", help="only this page (repeatable)")
    parser.add_argument(
        "--rounds", type=int, default=5, help="interleaved rounds of CPU measurement"
    )
    parser.add_argument(
        "--requests",
        type=int,
        help="requests per target per round (default: at least 100 and at least 1 s of CPU)",
    )
    parser.add_argument(
        "--cpu-warmup", type=int, default=20, help="unmeasured requests per target first"
    )
    parser.add_argument("--duration", type=float, default=8, help="wrk seconds measured per run")
    parser.add_argument("--warmup", type=float, default=2, help="wrk seconds of warm-up per run")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument(
        "--workers",
        type=int,
        help=f"gunicorn sync workers (default: measure {' and '.join(map(str, WORKER_CHOICES))} "
        "and use the better)",
    )
    parser.add_argument("--results", type=Path, default=ROOT / "bench" / "results")
    parser.add_argument(
        "--profile",
        metavar="PAGE",
        help="instead of the run, request PAGE in-process under cProfile and print its "
        "queries and where the time goes",
    )
    parser.add_argument("--profile-requests", type=int, default=200)
    parser.add_argument(
        "--profile-sort", default="cumulative", help="pstats order: cumulative, tottime, ..."
    )
    parser.add_argument(
        "--compare",
        nargs="+",
        metavar="REV",
        help="instead of the run, measure the CPU per request of each git revision "
        f"({WORKING_TREE!r} = the working tree) on the seeded database, interleaved",
    )
    parser.add_argument(
        "--drop-db",
        action="store_true",
        help="drop the database afterwards (by default it stays, for --reuse-db and --profile)",
    )
    args = parser.parse_args(argv)
    if args.compare:
        args.reuse_db = True  # revisions are compared on the same data, never reseeded
    if args.rounds < 1 or (args.requests is not None and args.requests < 1):
        parser.error("--rounds and --requests must be at least 1")
    return args


def prepare_environment(database_url: str) -> None:
    """Production settings, loopback only: plain HTTP, so no HTTPS redirect or Secure
    cookies; a throwaway secret key; the development encryption key unless one is set."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    os.environ["DATABASE_URL"] = database_url
    # Fixed, so sessions signed in an earlier run of the same database still read.
    os.environ.setdefault("SECRET_KEY", "bench-only-not-secret-" + "0123456789abcdef" * 3)
    os.environ.setdefault(
        "RAPPORT_ENCRYPTION_KEYS", base64.b64encode(b"development-only-not-secret-key!").decode()
    )
    os.environ["ALLOWED_HOSTS"] = "127.0.0.1,localhost,testserver"
    os.environ["SECURE_SSL_REDIRECT"] = "false"
    os.environ["SECURE_COOKIES"] = "false"


def recreate_database(database_url: str) -> None:
    """The benchmark's database and its key store beside it (config.env.key_store_url)."""
    import psycopg

    from config.env import key_store_url

    for url in (database_url, key_store_url(database_url)):
        parts = urlsplit(url)
        name = parts.path.lstrip("/")
        # It is dropped and created again: never let a mistyped URL point this at real data.
        if not re.fullmatch(r"[a-z0-9_]*bench[a-z0-9_]*", name):
            sys.exit(
                "The benchmark database's name must contain 'bench' and only lowercase "
                f"letters, digits or _ (it is dropped and created again): {name!r}"
            )
        server = urlunsplit(parts._replace(path="/postgres"))
        with psycopg.connect(server, autocommit=True) as connection:
            connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            connection.execute(f"CREATE DATABASE {name}")


def drop_database(database_url: str) -> None:
    import psycopg

    from config.env import key_store_url

    for url in (database_url, key_store_url(database_url)):
        parts = urlsplit(url)
        if "bench" not in parts.path:
            sys.exit(f"Not dropping {parts.path[1:]!r}: only a benchmark database is dropped.")
        server = urlunsplit(parts._replace(path="/postgres"))
        with psycopg.connect(server, autocommit=True) as connection:
            connection.execute(f"DROP DATABASE IF EXISTS {parts.path.lstrip('/')} WITH (FORCE)")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Browser:
    """A signed-in person, over plain HTTP: the cookie jar holds their session."""

    def __init__(self, base_url: str):
        self.base_url = base_url
        self.cookies = CookieJar()
        self.opener = build_opener(HTTPCookieProcessor(self.cookies))

    def get(self, path: str):
        return self.opener.open(Request(self.base_url + path), timeout=30)  # noqa: S310 - loopback

    def post_form(self, path: str, fields: dict):
        page = self.get(path).read().decode()
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        body = urlencode({"csrfmiddlewaretoken": token, **fields}).encode()
        request = Request(self.base_url + path, data=body)  # noqa: S310 - loopback http
        return self.opener.open(request, timeout=30)

    def sign_in(self, email: str, password: str, totp_secret: str | None = None) -> None:
        response = self.post_form("/accounts/login/", {"login": email, "password": password})
        if totp_secret:
            from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

            if time.time() % 30 > 27:  # only the current window counts: wait for a fresh code
                time.sleep(30 - time.time() % 30 + 0.1)
            code = format_hotp_value(hotp_value(totp_secret, int(time.time()) // 30))
            response = self.post_form(urlsplit(response.url).path, {"code": code})
        if not self.session_cookie:
            sys.exit(f"Could not sign in as {email} (ended on {response.url}).")

    @property
    def session_cookie(self) -> str | None:
        return next((c.value for c in self.cookies if c.name == "sessionid"), None)

    @property
    def cookie_header(self) -> str:
        """What this browser sends: its session and its CSRF cookie (without the CSRF
        cookie, every page would mint a new CSRF secret and set it again)."""
        return "; ".join(f"{c.name}={c.value}" for c in self.cookies)


def start_gunicorn(port: int, workers: int) -> subprocess.Popen:
    server = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
        [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--access-logfile",
            "/dev/null",
            "--error-logfile",
            "-",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return server
        except OSError:
            if server.poll() is not None:
                sys.exit("gunicorn exited while starting; its log is above.")
            time.sleep(0.2)
    server.terminate()
    sys.exit("gunicorn did not start listening within 30 seconds.")


def worker_memory(server: subprocess.Popen) -> list[dict]:
    """Resident memory of each gunicorn worker now, and its peak, from /proc."""
    children = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()
    workers = []
    for pid in children:
        status = Path(f"/proc/{pid}/status").read_text()
        fields = dict(re.findall(r"^(VmRSS|VmHWM):\s+(\d+) kB", status, re.MULTILINE))
        workers.append(
            {
                "pid": int(pid),
                "rss_mb": round(int(fields["VmRSS"]) / 1024, 1),
                "peak_rss_mb": round(int(fields["VmHWM"]) / 1024, 1),
            }
        )
    return workers


def run_wrk(url: str, cookie: str, seconds: float, connections: int, body: str = "") -> dict:
    """wrk on `url`; with a `body`, as a POST form with the cookie's CSRF token
    (bench/report.lua reads both from the environment)."""
    wrk = shutil.which("wrk")
    if wrk is None:
        sys.exit("wrk is not installed: apt-get install wrk")
    environment = dict(os.environ, BENCH_POST_BODY=body, BENCH_CSRF_TOKEN=_csrf_of(cookie))
    output = subprocess.run(  # noqa: S603
        [
            wrk,
            "--threads",
            "2",
            "--connections",
            str(connections),
            "--duration",
            f"{max(seconds, 1):g}s",
            "--timeout",
            "10s",
            "--header",
            f"Cookie: {cookie}",
            "--script",
            str(ROOT / "bench" / "report.lua"),
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
        env=environment,
    ).stdout
    line = next(line for line in output.splitlines() if line.startswith("BENCH_JSON "))
    raw = json.loads(line.removeprefix("BENCH_JSON "))
    seconds_run = raw["duration_us"] / 1e6
    errors = sum(raw[key] for key in raw if key.endswith("_errors")) + raw["timeouts"]
    return {
        "requests": raw["requests"],
        "rps": round(raw["requests"] / seconds_run, 1),
        "p50_ms": round(raw["p50_us"] / 1000, 2),
        "p90_ms": round(raw["p90_us"] / 1000, 2),
        "p99_ms": round(raw["p99_us"] / 1000, 2),
        "max_ms": round(raw["max_us"] / 1000, 2),
        "errors": errors,
    }


def fetch_page(base_url: str, path: str, cookie: str, body: str = ""):
    """One signed-in GET (or, with a `body`, POST) over HTTP: (queries, bytes); exits if
    it is not a 200 on `path` (a redirect to the sign-in page would measure the wrong
    page)."""
    from bench.middleware import QUERY_COUNT_HEADER

    headers = {"Cookie": cookie}
    if body:
        headers["X-CSRFToken"] = _csrf_of(cookie)
    request = Request(  # noqa: S310
        base_url + path, data=body.encode() if body else None, headers=headers
    )
    try:
        response = build_opener().open(request, timeout=30)
    except HTTPError as error:
        sys.exit(f"{path} answered {error.code}")
    size = len(response.read())
    if response.status != 200 or response.url != base_url + path:
        sys.exit(f"{path} answered {response.status} at {response.url}")
    return int(response.headers[QUERY_COUNT_HEADER]), size


def targets_to_measure(pages: list[str] | None = None) -> list[tuple[str, str, str]]:
    """(name, who, path): both baselines first, then the pages (all, or those named)."""
    from django.urls import reverse

    chosen = pages_to_measure()[1:]
    if pages:
        unknown = set(pages) - {name for name, _who, _path in chosen}
        if unknown:
            names = ", ".join(name for name, _who, _path in chosen)
            sys.exit(f"No page {', '.join(sorted(unknown))}; choose from: {names}")
        chosen = [row for row in chosen if row[0] in pages]
    return [
        (FRAMELESS, "coach", reverse("bench_baseline")),
        (FRAMED, "coach", reverse("bench_framed_baseline")),
        *chosen,
    ]


def pages_to_measure():
    """(name, who, path) for the frameless baseline, then each page (a shape the scratch
    scripts rely on; the harness uses `targets_to_measure`). Needs Django set up."""
    from django.urls import reverse

    from bench.seed import COACH_EMAIL
    from reflections.models import CheckInRound
    from relationships.models import CoachingRelationship, CoachingSession

    relationship = (
        CoachingRelationship.objects.filter(coach__email=COACH_EMAIL)
        .order_by("accepted_at")
        .first()
    )
    session = relationship.sessions.order_by("-held_on").first()
    open_round = CheckInRound.objects.filter(
        relationship=relationship, closed_at__isnull=True
    ).first()
    scheduled = relationship.scheduled_sessions.filter(status="scheduled").first()
    rid = relationship.public_id
    assert isinstance(session, CoachingSession) and open_round is not None  # noqa: S101
    assert scheduled is not None  # noqa: S101
    return [
        ("baseline", "coach", reverse("bench_baseline")),
        ("home", "coach", reverse("home")),
        ("my relationships", "coach", reverse("relationship_list")),
        ("relationship (2 years)", "coach", reverse("relationship_detail", args=[rid])),
        ("session", "coach", reverse("session_detail", args=[session.public_id])),
        ("check-in form", "coachee", reverse("checkin_detail", args=[open_round.public_id])),
        ("trend chart", "coachee", reverse("relationship_trend", args=[rid])),
        ("reflection journal", "coach", reverse("journal")),
        ("my action items", "coach", reverse("my_action_items")),
        ("next session's agenda", "coach", reverse("scheduled_detail", args=[scheduled.public_id])),
        (SEARCH, "historian", reverse("search")),
        (EXPORT, "historian", reverse("export_json")),
        ("HR dashboard", "hr", reverse("insights_dashboard")),
        ("HR CSV export", "hr", reverse("insights_export")),
    ]


def session_keys() -> dict[str, str]:
    """A session for the coach, the coachee and the HR admin, made as force_login makes
    them (in the database, so gunicorn, the measuring children and other revisions all
    read them). Deleted at the end of the run (`end_sessions`)."""
    from django.test import Client

    from accounts.models import User
    from bench.seed import COACH_EMAIL, COACHEE_EMAIL, HISTORIAN_EMAIL, HR_EMAIL

    keys = {}
    for who, email in (
        ("coach", COACH_EMAIL),
        ("coachee", COACHEE_EMAIL),
        ("hr", HR_EMAIL),
        ("historian", HISTORIAN_EMAIL),
    ):
        client = Client(HTTP_HOST="127.0.0.1")
        client.force_login(User.objects.get(email=email))
        keys[who] = client.cookies["sessionid"].value
    return keys


def end_sessions(keys: dict[str, str]) -> None:
    from importlib import import_module

    from django.conf import settings

    store = import_module(settings.SESSION_ENGINE).SessionStore
    for key in keys.values():
        store(session_key=key).delete()


class CpuChild:
    """A measuring process (bench/cpu.py run as a script) serving the Rapport tree in
    `tree`: it warms its targets up on start, then measures one round per `round()`.
    Only one child measures at a time; the others wait on their input, using no CPU."""

    def __init__(self, label: str, tree: Path, targets, keys, args, *, collectstatic: bool):
        self.label = label
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and meter
            [sys.executable, str(ROOT / "bench" / "cpu.py")],
            cwd=tree,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        spec = {
            "targets": [
                {
                    "name": name,
                    "path": path,
                    "session_key": keys[who],
                    "body": POST_BODIES.get(name, ""),
                }
                for name, who, path in targets
            ],
            "requests": args.requests,
            "warmup": args.cpu_warmup,
            "collectstatic": collectstatic,
        }
        self._send(json.dumps(spec))

    def _send(self, line: str) -> None:
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()

    def _receive(self, key: str) -> dict:
        from bench.cpu import PROTOCOL_PREFIX

        for line in self.process.stdout:
            if line.startswith(PROTOCOL_PREFIX):
                return json.loads(line.removeprefix(PROTOCOL_PREFIX))[key]
        raise RuntimeError(f"{self.label}: the measuring process ended early (see above)")

    def ready(self) -> dict:
        return self._receive("ready")

    def round(self) -> dict:
        self._send("round")
        return self._receive("round")

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.stdin.close()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()


def run_rounds(children: list[CpuChild], rounds: int) -> dict[str, dict]:
    """Every child's targets, round by round: in each round every child measures each
    of its targets once (the order of the children turns each round, so none is always
    first). {label: {target: Samples}}."""
    from bench.cpu import Samples

    samples = {child.label: {} for child in children}
    for number in range(rounds):
        started = time.monotonic()
        turn = number % len(children)
        for child in children[turn:] + children[:turn]:
            for name, (python_ms, database_ms) in child.round().items():
                measured = samples[child.label].setdefault(name, Samples())
                measured.python_ms.append(python_ms)
                measured.database_ms.append(database_ms)
        print(
            f"  CPU round {number + 1}/{rounds} in {time.monotonic() - started:.0f} s",
            flush=True,
        )
    return samples


def summarise(samples: dict, ready: dict) -> dict[str, dict]:
    """Per target: median CPU per request (Python / PostgreSQL), each round's figure and
    its ratio to the framed baseline of the same round, with the ratios' range."""
    framed = samples.get(FRAMED)
    rows = {}
    for name, entry in ready.items():
        row = {
            "status": entry.get("status"),
            "queries": entry.get("queries"),
            "requests": entry.get("requests"),
        }
        if name in samples:
            measured = samples[name]
            row |= {
                "median_ms": round(measured.median_ms, 2),
                "python_ms": round(median(measured.python_ms), 2),
                "database_ms": round(median(measured.database_ms), 2),
                "rounds_ms": [round(total, 2) for total in measured.total_ms],
                "range_ms": [round(min(measured.total_ms), 2), round(max(measured.total_ms), 2)],
            }
            if framed is not None:
                ratios = [
                    total / base
                    for total, base in zip(measured.total_ms, framed.total_ms, strict=True)
                ]
                row["ratio"] = round(median(ratios), 2)
                row["ratio_range"] = [round(min(ratios), 2), round(max(ratios), 2)]
        rows[name] = row
    return rows


def frame_cost(samples: dict, ready: dict) -> dict | None:
    """What the page frame costs: framed − frameless baseline, per round."""
    if FRAMED not in samples or FRAMELESS not in samples:
        return None
    differences = [
        framed - frameless
        for framed, frameless in zip(
            samples[FRAMED].total_ms, samples[FRAMELESS].total_ms, strict=True
        )
    ]
    return {
        "median_ms": round(median(differences), 2),
        "range_ms": [round(min(differences), 2), round(max(differences), 2)],
        "queries": ready[FRAMED]["queries"] - ready[FRAMELESS]["queries"],
    }


def measure_cpu(args, targets, keys) -> dict:
    """The CPU phase of a run, in a child process (so a seeding just done in this
    process, and its garbage, weigh on no figure), on the working tree."""
    print(
        f"CPU per request: {args.rounds} interleaved rounds of {len(targets)} targets, "
        f"{args.requests or 'auto'} requests each ...",
        flush=True,
    )
    child = CpuChild("run", ROOT, targets, keys, args, collectstatic=False)
    try:
        ready = child.ready()
        for name, entry in ready.items():
            if entry.get("status") != 200:
                sys.exit(f"{name}: answered {entry.get('status')} in process {entry}")
        samples = run_rounds([child], args.rounds)["run"]
    finally:
        child.close()
    rows = summarise(samples, ready)
    table = []
    for name, who, path in targets:
        table.append({"page": name, "who": who, "path": path, **rows[name]})
        row = rows[name]
        ratio = f"{row['ratio']:.2f}× ({row['ratio_range'][0]:.2f}–{row['ratio_range'][1]:.2f})"
        print(
            f"  {name:<24} {row['median_ms']:>7.2f} ms (Python {row['python_ms']:.2f}, "
            f"PostgreSQL {row['database_ms']:.2f})  {ratio} framed  {row['queries']} queries",
            flush=True,
        )
    return {"targets": table, "frame": frame_cost(samples, ready)}


def sign_in_everyone(base_url: str) -> dict[str, str]:
    """Sign in over HTTP as a real person does (the HR admin through the TOTP step):
    the cookies each then sends (Cookie header)."""
    from allauth.mfa.models import Authenticator

    from bench.seed import (
        BENCH_PASSWORD,
        COACH_EMAIL,
        COACHEE_EMAIL,
        HISTORIAN_EMAIL,
        HR_EMAIL,
    )

    totp = Authenticator.objects.get(user__email=HR_EMAIL).data["secret"]
    people = {who: Browser(base_url) for who in ("coach", "coachee", "hr", "historian")}
    people["coach"].sign_in(COACH_EMAIL, BENCH_PASSWORD)
    people["coachee"].sign_in(COACHEE_EMAIL, BENCH_PASSWORD)
    people["historian"].sign_in(HISTORIAN_EMAIL, BENCH_PASSWORD)
    people["hr"].sign_in(HR_EMAIL, BENCH_PASSWORD, totp_secret=totp)
    return {who: person.cookie_header for who, person in people.items()}


def _csrf_of(cookie: str) -> str:
    match = re.search(r"csrftoken=([^;]+)", cookie)
    return match.group(1) if match else ""


def wrk_target(base_url, path, cookie, args, seconds=None, body="") -> dict:
    if args.warmup > 0:
        run_wrk(base_url + path, cookie, args.warmup, args.connections, body)
    return run_wrk(base_url + path, cookie, seconds or args.duration, args.connections, body)


def choose_workers(servers: dict[int, str], cookies, targets, args) -> dict:
    """A short wrk run of the framed baseline and of the heaviest page on each number of
    workers, in two rounds of turned order (2, 4 then 4, 2), so drift on the machine
    weighs on both alike. The better is the higher geometric mean of median throughput."""
    seconds = max(1.0, args.duration / 2)
    runs = []
    for number, order in enumerate((list(servers), list(servers)[::-1])):
        for name, who, path in targets:
            for workers in order:
                figures = wrk_target(
                    servers[workers], path, cookies[who], args, seconds, POST_BODIES.get(name, "")
                )
                runs.append({"round": number + 1, "workers": workers, "page": name, **figures})
                print(
                    f"  {workers} workers, {name:<24} {figures['rps']:>8.1f} req/s  "
                    f"p50 {figures['p50_ms']:>7.2f} ms  p99 {figures['p99_ms']:>7.2f} ms",
                    flush=True,
                )
    scores = {}
    for workers in servers:
        medians = [
            median(run["rps"] for run in runs if run["workers"] == workers and run["page"] == n)
            for n, _who, _path in targets
        ]
        scores[workers] = round(prod(medians) ** (1 / len(medians)), 1)
    chosen = max(scores, key=lambda workers: (scores[workers], -workers))
    return {
        "pages": [name for name, _who, _path in targets],
        "seconds": seconds,
        "runs": runs,
        "score_rps": {str(workers): score for workers, score in scores.items()},
        "chosen": chosen,
    }


def measure_load(base_url, cookies, targets, args) -> list[dict]:
    """wrk on each target, the framed baseline measured again right before each page,
    so each page's throughput is compared with the frame's in the same minute."""
    frameless, framed, *pages = targets
    plan = [frameless] + [run for page in pages for run in (framed, page)]
    if not pages:
        plan.append(framed)
    rows, last_framed = [], None
    for name, who, path in plan:
        body = POST_BODIES.get(name, "")
        queries, size = fetch_page(base_url, path, cookies[who], body)
        figures = wrk_target(base_url, path, cookies[who], args, body=body)
        row = {"page": name, "who": who, "path": path, "queries": queries, "bytes": size}
        row |= figures
        if name == FRAMED:
            last_framed = figures["rps"]
        elif name != FRAMELESS and last_framed:
            row["framed_rps"] = last_framed
            row["ratio"] = round(figures["rps"] / last_framed, 2)
        rows.append(row)
        print(
            f"  {name:<24} {figures['rps']:>8.1f} req/s  p50 {figures['p50_ms']:>7.2f} ms"
            f"  p99 {figures['p99_ms']:>7.2f} ms  {queries:>2} queries  "
            f"{figures['errors']} errors",
            flush=True,
        )
    return rows


def summarise_load(rows: list[dict]) -> list[dict]:
    """One row per target; the framed baseline's runs become one row of medians, with
    the range of its throughput."""
    framed = [row for row in rows if row["page"] == FRAMED]
    table = [row for row in rows if row["page"] == FRAMELESS]
    if framed:
        rps = [row["rps"] for row in framed]
        table.append(
            {
                **framed[0],
                "runs": len(framed),
                "rps": round(median(rps), 1),
                "rps_range": [min(rps), max(rps)],
                "p50_ms": round(median(row["p50_ms"] for row in framed), 2),
                "p99_ms": round(median(row["p99_ms"] for row in framed), 2),
                "errors": sum(row["errors"] for row in framed),
                "requests": sum(row["requests"] for row in framed),
            }
        )
    table += [row for row in rows if row["page"] not in (FRAMED, FRAMELESS)]
    return table


def under_load(args, targets, cpu: dict) -> tuple[list[dict], dict | None, int, list[dict]]:
    """The wrk phase: choose the number of workers (unless --workers), then the table.
    Returns the runs, the choice, the workers used and their memory after the run."""
    candidates = [args.workers] if args.workers else list(WORKER_CHOICES)
    servers = {}
    try:
        for workers in candidates:
            port = free_port()
            servers[workers] = (start_gunicorn(port, workers), f"http://127.0.0.1:{port}")
        cookies = sign_in_everyone(servers[candidates[0]][1])
        choice = None
        if len(candidates) > 1:
            pages = [
                row
                for row in cpu["targets"]
                if row["page"] not in (FRAMELESS, FRAMED) and row["page"] not in OWN_BUDGETS_MS
            ]
            heaviest = max(pages, key=lambda row: row["median_ms"], default=None)
            chosen_targets = [target for target in targets if target[0] == FRAMED]
            if heaviest:
                chosen_targets += [t for t in targets if t[0] == heaviest["page"]]
            print(f"Gunicorn workers: {' or '.join(map(str, candidates))} ...", flush=True)
            choice = choose_workers(
                {workers: url for workers, (_server, url) in servers.items()},
                cookies,
                chosen_targets,
                args,
            )
            workers = choice["chosen"]
            print(f"  {workers} workers serve this machine better", flush=True)
            for other in candidates:
                if other != workers:
                    stop_gunicorn(servers.pop(other)[0])
        else:
            workers = candidates[0]
        print(f"Under load: wrk, {args.connections} connections, {workers} workers ...")
        loaded = [target for target in targets if target[0] not in NOT_UNDER_LOAD]
        rows = measure_load(servers[workers][1], cookies, loaded, args)
        memory = worker_memory(servers[workers][0])
    finally:
        for server, _url in servers.values():
            stop_gunicorn(server)
    return rows, choice, workers, memory


def stop_gunicorn(server: subprocess.Popen) -> None:
    server.terminate()
    server.wait(timeout=30)


def measure(args, seeding: dict | None) -> dict:
    from django.core.management import call_command

    # Production serves hashed static files from the manifest: bring it up to date.
    call_command("collectstatic", interactive=False, verbosity=0)
    targets = targets_to_measure(args.page)
    keys = session_keys()
    try:
        started = time.monotonic()
        cpu = measure_cpu(args, targets, keys)
        cpu_seconds = round(time.monotonic() - started)
        started = time.monotonic()
        rows, choice, workers, memory = under_load(args, targets, cpu)
        load_seconds = round(time.monotonic() - started)
    finally:
        end_sessions(keys)
    result = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": commit(),
        "machine": machine(),
        "settings": {
            "scale": args.scale,
            "rounds": args.rounds,
            "requests": args.requests,
            "cpu_warmup": args.cpu_warmup,
            "slices": SLICES,
            "duration_s": args.duration,
            "warmup_s": args.warmup,
            "connections": args.connections,
            "workers": workers,
            "workers_chosen": choice is not None,
        },
        "seconds": {"cpu": cpu_seconds, "load": load_seconds},
        "seeding": seeding,
        "cpu": cpu,
        "workers_choice": choice,
        "load_runs": rows,
        "load": summarise_load(rows),
        "workers_memory": memory,
    }
    result["budgets"] = verdicts(result)
    return result


def commit() -> str:
    """The commit measured, marked when the working tree differs from it."""

    def git(*args):
        return subprocess.run(  # noqa: S603
            ["git", *args],  # noqa: S607
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()

    changed = git("status", "--porcelain", "--untracked-files=no")
    return git("rev-parse", "--short", "HEAD") + (" with uncommitted changes" if changed else "")


def machine() -> dict:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    from django.db import connection

    return {
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30),
        "python": platform.python_version(),
        "postgresql": connection.cursor().connection.info.server_version,
    }


def budget(label: str, verdict: str, figure: str) -> dict:
    return {"budget": label, "verdict": verdict, "figure": figure}


def exact(met: bool) -> str:
    """The verdict on a figure without a range (a count, a size)."""
    return "met" if met else "missed"


def verdicts(result: dict) -> list[dict]:
    """Each budget, its verdict (met, missed, or undecided when the range over the rounds
    straddles the limit) and the figure that says so."""
    from bench.cpu import judge

    checks = []
    frame = result["cpu"]["frame"]
    low, high = frame["range_ms"]
    checks.append(
        budget(
            f"the frame (framed − frameless baseline) ≤ {MAX_FRAME_CPU_MS} ms CPU per request",
            judge(low, high, MAX_FRAME_CPU_MS),
            f"{frame['median_ms']} ms, {low}–{high} over the rounds",
        )
    )
    checks.append(
        budget(
            f"the frame ≤ {MAX_FRAME_QUERIES} queries",
            exact(frame["queries"] <= MAX_FRAME_QUERIES),
            str(frame["queries"]),
        )
    )
    pages = [row for row in result["cpu"]["targets"] if row["page"] not in (FRAMED, FRAMELESS)]
    for row in pages:
        if row["page"] in OWN_BUDGETS_MS:
            limit = OWN_BUDGETS_MS[row["page"]]
            low, high = row["range_ms"]
            checks.append(
                budget(
                    f"{row['page']}: CPU per request ≤ {limit:g} ms",
                    judge(low, high, limit),
                    f"{row['median_ms']} ms, {low}–{high} over the rounds",
                )
            )
            continue
        low, high = row["ratio_range"]
        checks.append(
            budget(
                f"{row['page']}: CPU per request ≤ {MAX_FRAMED_RATIO:g}× the framed baseline",
                judge(low, high, MAX_FRAMED_RATIO),
                f"{row['ratio']}×, {low}–{high} over the rounds",
            )
        )
    load = {row["page"]: row for row in result["load"]}
    for row in pages:
        queries = max(row["queries"], load.get(row["page"], {}).get("queries", 0))
        limit = OWN_QUERY_LIMITS.get(row["page"], MAX_QUERIES)
        checks.append(
            budget(
                f"{row['page']}: ≤ {limit} queries",
                exact(queries <= limit),
                str(queries),
            )
        )
    connections = result["settings"]["connections"]
    for row in result["load"]:
        if row["page"] in (FRAMED, FRAMELESS):
            continue
        tail = row["p99_ms"] / row["p50_ms"] if row["p50_ms"] else float("inf")
        checks.append(
            budget(
                f"{row['page']}: p99 ≤ {MAX_TAIL_RATIO:g}× p50 under {connections} connections",
                exact(tail <= MAX_TAIL_RATIO),
                f"{row['p99_ms']} / {row['p50_ms']} ms = {tail:.2f}×",
            )
        )
    for row in result["load"]:
        checks.append(
            budget(
                f"{row['page']}: no errors under load",
                exact(row["errors"] == 0),
                str(row["errors"]),
            )
        )
    largest = max(worker["rss_mb"] for worker in result["workers_memory"])
    checks.append(
        budget(
            f"worker resident memory after the run < {MAX_WORKER_RSS_MB} MB",
            exact(largest < MAX_WORKER_RSS_MB),
            f"{largest} MB",
        )
    )
    if result["seeding"] and result["settings"]["scale"] == "full":
        seconds = result["seeding"]["seconds"]
        checks.append(
            budget(
                f"seeding < {MAX_SEED_SECONDS // 60} minutes",
                exact(seconds < MAX_SEED_SECONDS),
                f"{seconds} s",
            )
        )
    return checks


def format_range(values) -> str:
    return f"{values[0]:.2f}–{values[1]:.2f}"


def markdown(result: dict) -> str:
    settings, machine_ = result["settings"], result["machine"]
    requests = settings["requests"] or "at least 100 (and 1 s of CPU)"
    lines = [
        "# Benchmark results",
        "",
        f"Run {result['when']} at commit `{result['commit']}` on {machine_['cpus']} CPUs "
        f"({machine_['cpu']}), {machine_['memory_gb']} GiB, Python {machine_['python']}, "
        f"PostgreSQL {machine_['postgresql']}; scale `{settings['scale']}`, production "
        "settings.",
        "",
        "## CPU per request",
        "",
        "Python (`process_time`) plus the PostgreSQL backend's CPU, per request, in process "
        "through Django's WSGI handler with the production middleware; "
        f"{settings['rounds']} interleaved rounds (both baselines, then each page, in every "
        f"round, each round taken in {settings.get('slices', 1)} short passes over all of "
        f"them), {requests} "
        f"requests per target per round after {settings['cpu_warmup']} "
        "unmeasured. The ratio is to the framed baseline of the same round; its range is over "
        "the rounds, and a verdict counts only when the whole range is on one side of the "
        "budget.",
        "",
        "| Page | As | CPU ms | Python ms | PostgreSQL ms | Range ms | × framed | Range × | "
        "Queries | Verdict |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    page_verdicts = {
        check["budget"].split(":", 1)[0]: check["verdict"]
        for check in result["budgets"]
        if ": CPU per request ≤" in check["budget"]
    }
    for row in result["cpu"]["targets"]:
        verdict = page_verdicts.get(row["page"], "")
        if verdict and verdict != "met":
            verdict = f"**{verdict}**"
        lines.append(
            f"| {row['page']} | {row['who']} | {row['median_ms']:.2f} | {row['python_ms']:.2f} | "
            f"{row['database_ms']:.2f} | {format_range(row['range_ms'])} | {row['ratio']:.2f} | "
            f"{format_range(row['ratio_range'])} | {row['queries']} | {verdict} |"
        )
    frame = result["cpu"]["frame"]
    lines += [
        "",
        f"The frame (framed − frameless baseline): {frame['median_ms']:.2f} ms of CPU per "
        f"request ({format_range(frame['range_ms'])} over the rounds); queries: "
        f"{frame['queries']}.",
        "",
        "## Under load",
        "",
    ]
    choice = result["workers_choice"]
    if choice:
        scores = ", ".join(f"{w} workers {s} req/s" for w, s in choice["score_rps"].items())
        runs = "; ".join(
            f"{run['workers']} workers {run['page']} {run['rps']} req/s" for run in choice["runs"]
        )
        lines.append(
            f"Gunicorn with **{settings['workers']} sync workers**, the better of "
            f"{' and '.join(choice['score_rps'])} on this machine (geometric mean of the median "
            f"throughput of {' and '.join(choice['pages'])}, {choice['seconds']:g} s runs in "
            f"two rounds: {scores}; runs: {runs})."
        )
    else:
        lines.append(f"Gunicorn with {settings['workers']} sync workers (set by `--workers`).")
    lines += [
        "",
        f"wrk with {settings['connections']} connections, {settings['warmup_s']:g} s warm-up "
        f"then {settings['duration_s']:g} s measured per run, on the same machine; the framed "
        "baseline is run again right before each page, and each page's throughput is compared "
        "with that run (information only: the budget is on CPU per request).",
        "",
        "| Page | As | Req/s | p50 ms | p99 ms | p99 / p50 | Queries | × framed | Errors |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in result["load"]:
        rps = f"{row['rps']:.1f}"
        if "rps_range" in row:
            runs = f"{row['runs']} run" + ("s" if row["runs"] > 1 else "")
            rps += f" ({row['rps_range'][0]:.0f}–{row['rps_range'][1]:.0f}, {runs})"
        ratio = f"{row['ratio']:.2f}" if "ratio" in row else ""
        tail = row["p99_ms"] / row["p50_ms"] if row["p50_ms"] else 0
        lines.append(
            f"| {row['page']} | {row['who']} | {rps} | {row['p50_ms']:.2f} | "
            f"{row['p99_ms']:.2f} | {tail:.2f} | {row['queries']} | {ratio} | {row['errors']} |"
        )
    lines.append("")
    if result["seeding"]:
        rows = ", ".join(f"{count:,} {name}" for name, count in result["seeding"]["rows"].items())
        lines.append(f"Seeding: {result['seeding']['seconds']} s ({rows}).")
    else:
        lines.append("Seeding: not in this run (an already seeded database was reused).")
    memory = ", ".join(
        f"{w['rss_mb']} MB (peak {w['peak_rss_mb']} MB)" for w in result["workers_memory"]
    )
    seconds = result["seconds"]
    lines += [
        f"Gunicorn workers' resident memory after the run: {memory}.",
        f"Time: {seconds['cpu']} s measuring CPU, {seconds['load']} s under load.",
        "",
        "## Budgets",
        "",
    ]
    for check in result["budgets"]:
        verdict = check["verdict"] if check["verdict"] == "met" else f"**{check['verdict']}**"
        lines.append(f"- {verdict}: {check['budget']} ({check['figure']})")
    return "\n".join(lines) + "\n"


def run_git(*args: str) -> str:
    return subprocess.run(  # noqa: S603
        ["git", *args],  # noqa: S607
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def compare(args) -> int:
    """CPU per request of the pages and both baselines at each revision: a measuring child
    per revision (in a temporary `git worktree`, removed afterwards), all on the same
    seeded database with the same sessions, measured round by round in turn."""
    targets = targets_to_measure(args.page)
    keys = session_keys()
    workdir = Path(tempfile.mkdtemp(prefix="rapport-compare-"))
    revisions, children, worktrees = [], [], []
    ready, failed = {}, {}
    try:
        for index, rev in enumerate(args.compare):
            if rev == WORKING_TREE:
                tree, sha = ROOT, commit()
            else:
                try:
                    sha = run_git("rev-parse", "--short", f"{rev}^{{commit}}")
                except subprocess.CalledProcessError:
                    sys.exit(f"No git revision {rev!r}.")
                tree = workdir / f"{index}-{sha}"
                run_git("worktree", "add", "--detach", str(tree), sha)
                worktrees.append(tree)
            label = rev if rev not in {r["label"] for r in revisions} else f"{rev} #{index + 1}"
            revisions.append({"label": label, "rev": rev, "commit": sha})
            children.append(CpuChild(label, tree, targets, keys, args, collectstatic=True))
        measuring = []
        for child in children:
            try:
                ready[child.label] = child.ready()
                measuring.append(child)
            except RuntimeError as error:
                failed[child.label] = str(error)
        print(
            f"CPU per request of {len(measuring)} revisions: {args.rounds} rounds, "
            f"{len(targets)} targets each ...",
            flush=True,
        )
        samples = run_rounds(measuring, args.rounds) if measuring else {}
    finally:
        for child in children:
            child.close()
        for tree in worktrees:
            run_git("worktree", "remove", "--force", str(tree))
        shutil.rmtree(workdir, ignore_errors=True)
        end_sessions(keys)
    result = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "settings": {
            "rounds": args.rounds,
            "requests": args.requests,
            "cpu_warmup": args.cpu_warmup,
            "slices": SLICES,
            "database": urlsplit(args.database_url).path[1:],
        },
        "revisions": revisions,
        "targets": [{"page": name, "who": who, "path": path} for name, who, path in targets],
        "figures": {label: summarise(samples[label], ready[label]) for label in samples},
        "failed": failed,
    }
    args.results.mkdir(parents=True, exist_ok=True)
    (args.results / "compare.json").write_text(json.dumps(result, indent=2) + "\n")
    report = compare_markdown(result)
    (args.results / "compare.md").write_text(report)
    print("\n" + report)
    return 1 if failed else 0


def compare_markdown(result: dict) -> str:
    labels = [revision["label"] for revision in result["revisions"]]
    heading = " | ".join(
        f"{revision['label']} (`{revision['commit']}`)" for revision in result["revisions"]
    )
    settings = result["settings"]
    lines = [
        "# CPU per request by revision",
        "",
        f"Run {result['when']} on {result['machine']['cpus']} CPUs ({result['machine']['cpu']}), "
        f"database `{settings['database']}`; {settings['rounds']} rounds, each measuring every "
        f"revision in turn, {settings['requests'] or 'at least 100 (and 1 s of CPU)'} requests "
        "per target per round. Median CPU ms per request (Python + PostgreSQL), its range over "
        "the rounds, and the change from the first revision.",
        "",
        f"| Page | {heading} |",
        "|---|" + "---:|" * len(labels),
    ]

    def cell(label, name, key="median_ms", first=None):
        figures = result["figures"].get(label, {})
        row = figures.get(name)
        if label in result["failed"]:
            return "failed"
        if row is None or row.get("status") != 200:
            status = row and row.get("status")
            return f"missing ({status})" if status else "missing"
        if key not in row:
            return "no framed baseline"
        text = f"{row[key]:.2f}"
        if key == "median_ms":
            text += f" ({format_range(row['range_ms'])})"
        else:
            text += f" ({format_range(row['ratio_range'])})"
        base = first and result["figures"].get(first, {}).get(name)
        if base and key in base and label != first:
            text += f", {(row[key] / base[key] - 1) * 100:+.0f}%"
        return text

    first = labels[0]
    for target in result["targets"]:
        cells = " | ".join(cell(label, target["page"], first=first) for label in labels)
        lines.append(f"| {target['page']} | {cells} |")
    lines += [
        "",
        "× the framed baseline of the same revision and round (median, range over the rounds):",
        "",
        f"| Page | {heading} |",
        "|---|" + "---:|" * len(labels),
    ]
    for target in result["targets"]:
        if target["page"] == FRAMED:
            continue
        cells = " | ".join(cell(label, target["page"], "ratio") for label in labels)
        lines.append(f"| {target['page']} | {cells} |")
    for label, error in result["failed"].items():
        lines.append(f"\n{label} could not be measured: {error}")
    return "\n".join(lines) + "\n"


def profile(args) -> None:
    import cProfile
    import pstats

    from django.core.management import call_command
    from django.db import connection

    from bench.cpu import InProcessClient, Target, measure_once, warm_up

    # As in a run: production serves hashed static files from the manifest.
    call_command("collectstatic", interactive=False, verbosity=0)
    pages = {name: (who, path) for name, who, path in targets_to_measure()}
    if args.profile not in pages:
        sys.exit(f"No page {args.profile!r}; choose from: {', '.join(pages)}")
    who, path = pages[args.profile]
    keys = session_keys()
    try:
        target = Target(args.profile, path, keys[who], POST_BODIES.get(args.profile, ""))
        # The same handler, middleware, connection health checks and transactions as
        # production and the CPU figures, not the test client.
        client = InProcessClient()
        response = warm_up(client, target, args.cpu_warmup)
        if response.status != 200:
            sys.exit(f"{args.profile}: {path} answered {response.status}")
        queries = []

        def timed(execute, sql, params, many, context):
            started = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                queries.append(((time.perf_counter() - started) * 1000, sql))

        with connection.execute_wrapper(timed):
            client.request(path, target.session_key, target.body)
        python_ms, database_ms = measure_once(client, target, min(args.profile_requests, 100))
        profiler = cProfile.Profile()
        started = time.process_time()
        profiler.enable()
        for _ in range(args.profile_requests):
            client.get(path, target.session_key, target.body)
        profiler.disable()
        profiled = (time.process_time() - started) / args.profile_requests * 1000
    finally:
        end_sessions(keys)
    print(
        f"{args.profile}: {python_ms + database_ms:.2f} ms of CPU per request without the "
        f"profiler (Python {python_ms:.2f}, PostgreSQL {database_ms:.2f}), {profiled:.2f} ms "
        f"of Python under it; {len(queries)} queries (the connection's health check, a "
        "SELECT 1 below Django's query wrappers, is not listed):"
    )
    for took, sql in queries:
        print(f"  {took:7.2f} ms  {sql[:300]}")
    print(
        "\ncProfile inflates code made of many small Python calls, templates above all, "
        "far more than the rest: read the profile for where the time goes, and take CPU "
        "figures from the normal run (`python -m bench`), not from here.\n"
    )
    lines = int(os.environ.get("BENCH_PROFILE_LINES", 40))
    pstats.Stats(profiler).sort_stats(args.profile_sort).print_stats(lines)


def seed_database(args) -> dict | None:
    from django.core.management import call_command

    from bench.seed import SCALES, seed

    print(f"Seeding the {args.scale} data set into {urlsplit(args.database_url).path[1:]} ...")
    started = time.monotonic()
    call_command("migrate", verbosity=0)
    call_command("migrate", database="keys", verbosity=0)
    call_command("createcachetable", verbosity=0)
    seeded = seed(SCALES[args.scale], progress=sys.stderr.isatty())
    total = round(time.monotonic() - started, 1)
    print(f"Seeded in {total}s (data {seeded.seconds}s, the rest migrations): {seeded.counts}")
    return {"seconds": total, "data_seconds": seeded.seconds, "rows": seeded.counts}


def main(argv=None) -> int:
    args = parse_args(argv)
    prepare_environment(args.database_url)
    if not args.reuse_db:
        recreate_database(args.database_url)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    try:
        seeding = None if args.reuse_db else seed_database(args)
        if args.profile:
            profile(args)
            return 0
        if args.compare:
            return compare(args)
        result = measure(args, seeding)
    finally:
        from django.db import connections

        connections.close_all()
        if args.drop_db:
            drop_database(args.database_url)
    args.results.mkdir(parents=True, exist_ok=True)
    (args.results / "latest.json").write_text(json.dumps(result, indent=2) + "\n")
    report = markdown(result)
    (args.results / "latest.md").write_text(report)
    print("\n" + report)
    return 0 if all(check["verdict"] == "met" for check in result["budgets"]) else 1


if __name__ == "__main__":
    sys.exit(main())
