"""The benchmark harness: `uv run python -m bench` (see bench/README.md).

Creates a PostgreSQL database, seeds a large organisation, serves it with gunicorn
under production settings, signs in as a coach, a coachee and an HR admin, drives
each main page with wrk at a fixed concurrency after a warm-up, and compares it with
a baseline view measured in the same run. Writes bench/results/latest.{md,json}.
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
import time
from datetime import UTC, datetime
from http.cookiejar import CookieJar
from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit
from urllib.request import HTTPCookieProcessor, Request, build_opener

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/rapport_bench"

# Budgets from issue 8, checked on every full run.
MIN_BASELINE_RATIO = 0.5
MAX_P99_MS = 50
MAX_QUERIES = 12
MAX_WORKER_RSS_MB = 150
MAX_SEED_SECONDS = 600


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
    parser.add_argument("--duration", type=float, default=20, help="seconds measured per page")
    parser.add_argument("--warmup", type=float, default=5, help="seconds of warm-up per page")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument("--page", action="append", help="only this page (repeatable)")
    parser.add_argument("--results", type=Path, default=ROOT / "bench" / "results")
    parser.add_argument(
        "--profile",
        metavar="PAGE",
        help="instead of the load run, request PAGE in-process under cProfile and print "
        "where the time goes",
    )
    parser.add_argument("--profile-requests", type=int, default=200)
    parser.add_argument(
        "--profile-sort", default="cumulative", help="pstats order: cumulative, tottime, ..."
    )
    parser.add_argument(
        "--drop-db",
        action="store_true",
        help="drop the database afterwards (by default it stays, for --reuse-db and --profile)",
    )
    return parser.parse_args(argv)


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
    import psycopg

    parts = urlsplit(database_url)
    name = parts.path.lstrip("/")
    # It is dropped and created again: never let a mistyped URL point this at real data.
    if not re.fullmatch(r"[a-z0-9_]*bench[a-z0-9_]*", name):
        sys.exit(
            "The benchmark database's name must contain 'bench' and only lowercase letters, "
            f"digits or _ (it is dropped and created again): {name!r}"
        )
    server = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(server, autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        connection.execute(f"CREATE DATABASE {name}")


def drop_database(database_url: str) -> None:
    import psycopg

    parts = urlsplit(database_url)
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


def run_wrk(url: str, cookie: str, seconds: float, connections: int) -> dict:
    wrk = shutil.which("wrk")
    if wrk is None:
        sys.exit("wrk is not installed: apt-get install wrk")
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
            f"Cookie: sessionid={cookie}",
            "--script",
            str(ROOT / "bench" / "report.lua"),
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
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


def pages_to_measure():
    """(name, who, path) for each page, the baseline first. Needs Django set up."""
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
    rid = relationship.public_id
    assert isinstance(session, CoachingSession) and open_round is not None  # noqa: S101
    return [
        ("baseline", "coach", reverse("bench_baseline")),
        ("home", "coach", reverse("home")),
        ("my relationships", "coach", reverse("relationship_list")),
        ("relationship (2 years)", "coach", reverse("relationship_detail", args=[rid])),
        ("session", "coach", reverse("session_detail", args=[session.public_id])),
        ("check-in form", "coachee", reverse("checkin_detail", args=[open_round.public_id])),
        ("trend chart", "coachee", reverse("relationship_trend", args=[rid])),
        ("reflection journal", "coach", reverse("journal")),
        ("HR dashboard", "hr", reverse("insights_dashboard")),
        ("HR CSV export", "hr", reverse("insights_export")),
    ]


def profile(args) -> None:
    import cProfile
    import pstats

    from django.db import connection
    from django.test import Client

    from accounts.models import User
    from bench.seed import COACH_EMAIL, COACHEE_EMAIL, HR_EMAIL

    emails = {"coach": COACH_EMAIL, "coachee": COACHEE_EMAIL, "hr": HR_EMAIL}
    pages = {name: (who, path) for name, who, path in pages_to_measure()}
    if args.profile not in pages:
        sys.exit(f"No page {args.profile!r}; choose from: {', '.join(pages)}")
    who, path = pages[args.profile]
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(User.objects.get(email=emails[who]))
    assert client.get(path).status_code == 200  # noqa: S101 - warm up and check
    queries = []

    def timed(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            queries.append(((time.perf_counter() - started) * 1000, sql))

    with connection.execute_wrapper(timed):
        client.get(path)
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    for _ in range(args.profile_requests):
        client.get(path)
    profiler.disable()
    each = (time.perf_counter() - started) / args.profile_requests * 1000
    print(
        f"{args.profile}: {each:.2f} ms per request in-process under the profiler, "
        f"{len(queries)} queries"
    )
    for took, sql in queries:
        print(f"  {took:7.2f} ms  {sql[:300]}")
    pstats.Stats(profiler).sort_stats(args.profile_sort).print_stats(40)


def seed_database(args) -> dict | None:
    from django.core.management import call_command

    from bench.seed import SCALES, seed

    print(f"Seeding the {args.scale} data set into {urlsplit(args.database_url).path[1:]} ...")
    started = time.monotonic()
    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    seeded = seed(SCALES[args.scale], progress=sys.stderr.isatty())
    total = round(time.monotonic() - started, 1)
    print(f"Seeded in {total}s (data {seeded.seconds}s, the rest migrations): {seeded.counts}")
    return {"seconds": total, "data_seconds": seeded.seconds, "rows": seeded.counts}


def measure(args, seeding: dict | None) -> dict:
    from allauth.mfa.models import Authenticator
    from django.core.management import call_command

    from bench.middleware import QUERY_COUNT_HEADER
    from bench.seed import BENCH_PASSWORD, COACH_EMAIL, COACHEE_EMAIL, HR_EMAIL

    call_command("collectstatic", interactive=False, verbosity=0)
    pages = pages_to_measure()
    if args.page:
        pages = [p for p in pages if p[0] == "baseline" or p[0] in args.page]
    totp = Authenticator.objects.get(user__email=HR_EMAIL).data["secret"]

    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    server = start_gunicorn(port, args.workers)
    try:
        people = {who: Browser(base_url) for who in ("coach", "coachee", "hr")}
        people["coach"].sign_in(COACH_EMAIL, BENCH_PASSWORD)
        people["coachee"].sign_in(COACHEE_EMAIL, BENCH_PASSWORD)
        people["hr"].sign_in(HR_EMAIL, BENCH_PASSWORD, totp_secret=totp)
        results = []
        for name, who, path in pages:
            response = people[who].get(path)
            queries = int(response.headers[QUERY_COUNT_HEADER])
            size = len(response.read())
            if response.status != 200 or response.url != base_url + path:
                sys.exit(f"{name}: {path} answered {response.status} at {response.url}")
            cookie = people[who].session_cookie
            run_wrk(base_url + path, cookie, args.warmup, args.connections)
            figures = run_wrk(base_url + path, cookie, args.duration, args.connections)
            results.append(
                {
                    "page": name,
                    "who": who,
                    "path": path,
                    "queries": queries,
                    "bytes": size,
                    **figures,
                }
            )
            print(
                f"  {name:<24} {figures['rps']:>8.1f} req/s  p50 {figures['p50_ms']:>6.2f} ms"
                f"  p99 {figures['p99_ms']:>6.2f} ms  {queries:>2} queries",
                flush=True,
            )
        memory = worker_memory(server)
    finally:
        server.terminate()
        server.wait(timeout=30)

    baseline = results[0]["rps"]
    for row in results:
        row["ratio"] = round(row["rps"] / baseline, 2) if baseline else None
    return {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": commit(),
        "machine": machine(),
        "settings": {
            "scale": args.scale,
            "duration_s": args.duration,
            "warmup_s": args.warmup,
            "connections": args.connections,
            "workers": args.workers,
        },
        "seeding": seeding,
        "pages": results,
        "workers_memory": memory,
    }


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


def verdicts(result: dict) -> list[tuple[str, bool, str]]:
    """Each budget, whether it is met, and the figure that says so."""
    checks = []
    for row in result["pages"][1:]:
        checks.append(
            (
                f"{row['page']}: throughput ≥ {MIN_BASELINE_RATIO}× baseline",
                row["ratio"] >= MIN_BASELINE_RATIO,
                f"{row['ratio']}×",
            )
        )
        checks.append(
            (
                f"{row['page']}: p99 < {MAX_P99_MS} ms",
                row["p99_ms"] < MAX_P99_MS,
                f"{row['p99_ms']} ms",
            )
        )
        checks.append(
            (
                f"{row['page']}: ≤ {MAX_QUERIES} queries",
                row["queries"] <= MAX_QUERIES,
                str(row["queries"]),
            )
        )
    for row in result["pages"]:
        checks.append((f"{row['page']}: no errors", row["errors"] == 0, str(row["errors"])))
    largest = max(worker["rss_mb"] for worker in result["workers_memory"])
    checks.append(
        (
            f"worker resident memory after the run < {MAX_WORKER_RSS_MB} MB",
            largest < MAX_WORKER_RSS_MB,
            f"{largest} MB",
        )
    )
    if result["seeding"] and result["settings"]["scale"] == "full":
        seconds = result["seeding"]["seconds"]
        checks.append(
            (
                f"seeding < {MAX_SEED_SECONDS // 60} minutes",
                seconds < MAX_SEED_SECONDS,
                f"{seconds} s",
            )
        )
    return checks


def markdown(result: dict) -> str:
    settings, machine_ = result["settings"], result["machine"]
    lines = [
        "# Benchmark results",
        "",
        f"Run {result['when']} at commit `{result['commit']}` on {machine_['cpus']} CPUs "
        f"({machine_['cpu']}), {machine_['memory_gb']} GiB, Python {machine_['python']}, "
        f"PostgreSQL {machine_['postgresql']}.",
        f"Scale `{settings['scale']}`; gunicorn with {settings['workers']} sync workers and "
        f"production settings; wrk with {settings['connections']} connections, "
        f"{settings['warmup_s']:g} s warm-up then {settings['duration_s']:g} s measured per page, "
        "on the same machine.",
        "",
        "| Page | As | Req/s | p50 ms | p99 ms | Queries | × baseline | Errors |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for row in result["pages"]:
        lines.append(
            f"| {row['page']} | {row['who']} | {row['rps']:.1f} | {row['p50_ms']:.2f} | "
            f"{row['p99_ms']:.2f} | {row['queries']} | {row['ratio']:.2f} | {row['errors']} |"
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
    lines += [f"Gunicorn workers' resident memory after the run: {memory}.", "", "## Budgets", ""]
    for label, met, figure in verdicts(result):
        lines.append(f"- {'met' if met else '**missed**'}: {label} ({figure})")
    return "\n".join(lines) + "\n"


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
    return 0 if all(met for _label, met, _figure in verdicts(result)) else 1


if __name__ == "__main__":
    sys.exit(main())
