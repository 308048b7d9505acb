"""CPU per request, in process, through Django's real WSGI handler.

The primary figure of the harness (bench/README.md): Python's CPU time
(`time.process_time`) plus the CPU the PostgreSQL backend serving this process spent
(`/proc/<backend pid>/stat`), for a number of requests through `WSGIHandler` with the
real middleware, the real connection handling (`CONN_MAX_AGE`, health checks) and the
real transactions. CPU time does not count the time spent waiting for the other core, so
it is stable on a shared machine where throughput moves by half from run to run.

Targets are measured in interleaved rounds, and within a round in short passes over
every target in turn (`measure_round`), so that each ratio compares figures taken over the
same seconds, and its range over the rounds says whether a verdict can be trusted
(`judge`).

Run as a script (`python bench/cpu.py`, working directory = a Rapport tree), this file is
the measuring child of the harness: it serves the tree it is started in, so `--compare`
can measure other revisions with this meter. It imports nothing of the tree but Django's
settings, and speaks JSON lines (see `child`).
"""

import json
import math
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from statistics import median

TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")
QUERY_COUNT_HEADER = "X-Bench-Queries"
# A PostgreSQL backend's CPU is counted in ticks of 10 ms: a sample needs enough requests
# (and CPU) that one tick is small against it.
MIN_REQUESTS = 100
MIN_SAMPLE_SECONDS = 1.0
# A round measures every target in this many short passes, in turn (measure_round).
SLICES = 10
PROTOCOL_PREFIX = "BENCH_CPU "
# A CSRF cookie as Django makes them (32 letters and digits), fixed for the whole run.
BROWSER_CSRF_COOKIE = "benchCsrfCookie0123456789abcdefg"


def judge(low: float, high: float, limit: float) -> str:
    """The verdict on a budget "at most `limit`" for a figure measured as a range over
    rounds: it counts only when the whole range is on one side of the limit."""
    if high <= limit:
        return "met"
    if low > limit:
        return "missed"
    return "undecided"


@dataclass
class Target:
    name: str
    path: str
    session_key: str
    body: str = ""  # a POST form (search's query); empty for a GET


@dataclass
class Samples:
    """One target's CPU per request in each round, in milliseconds."""

    python_ms: list[float] = field(default_factory=list)
    database_ms: list[float] = field(default_factory=list)

    @property
    def total_ms(self) -> list[float]:
        return [p + d for p, d in zip(self.python_ms, self.database_ms, strict=True)]

    @property
    def median_ms(self) -> float:
        return median(self.total_ms)


def _backend_cpu() -> tuple[int | None, float]:
    """The PostgreSQL backend of the default connection and the CPU seconds it has used,
    or (None, 0) on another database (SQLite runs inside this process, so process_time
    counts it) or while no connection is open."""
    from django.db import connection

    if connection.vendor != "postgresql" or connection.connection is None:
        return None, 0.0
    pid = connection.connection.info.backend_pid
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:  # the server runs elsewhere: only Python's share can be measured
        return None, 0.0
    # After the command name: state is field 3, utime field 14 and stime field 15.
    return pid, (int(fields[11]) + int(fields[12])) / TICKS_PER_SECOND


def _backend_cpu_seconds() -> float:
    return _backend_cpu()[1]


@dataclass
class Response:
    status: int
    headers: dict
    body: bytes

    @property
    def queries(self) -> int | None:
        value = self.headers.get(QUERY_COUNT_HEADER)
        return int(value) if value is not None else None


class InProcessClient:
    """Requests through the production WSGI handler, as gunicorn makes them."""

    def __init__(self):
        from django.core.handlers.wsgi import WSGIHandler

        self.handler = WSGIHandler()

    def request(self, path: str, session_key: str, body: str = "") -> Response:
        from django.test.client import FakePayload

        payload = body.encode()
        environ = {
            "REQUEST_METHOD": "POST" if body else "GET",
            "PATH_INFO": path,
            "QUERY_STRING": "",
            "SCRIPT_NAME": "",
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "80",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "HTTP_HOST": "127.0.0.1",
            # As a signed-in browser sends them: the session and the CSRF cookie it was
            # given with its first form (without it, every page would mint a new CSRF
            # secret and set the cookie again).
            "HTTP_COOKIE": f"sessionid={session_key}; csrftoken={BROWSER_CSRF_COOKIE}",
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.input": FakePayload(payload),
            "wsgi.errors": open(os.devnull, "w"),  # noqa: SIM115 - closed with the request
            "wsgi.multiprocess": True,
            "wsgi.multithread": False,
            "wsgi.run_once": False,
        }
        if body:
            # A form posted by that browser: its CSRF token is the cookie's.
            environ["CONTENT_TYPE"] = "application/x-www-form-urlencoded"
            environ["CONTENT_LENGTH"] = str(len(payload))
            environ["HTTP_X_CSRFTOKEN"] = BROWSER_CSRF_COOKIE
        started = []

        def start_response(line, headers, exc_info=None):
            started.append((int(line.split()[0]), dict(headers)))

        response = self.handler(environ, start_response)
        try:
            body = b"".join(response)
        finally:
            response.close()  # request_finished: what closes or keeps the connection
            environ["wsgi.errors"].close()
        status, headers = started[0]
        return Response(status, headers, body)

    def get(self, path: str, session_key: str, body: str = "") -> tuple[int, bytes]:
        response = self.request(path, session_key, body)
        return response.status, response.body


def measure_once(client: InProcessClient, target: Target, requests: int) -> tuple[float, float]:
    """Python and database CPU per request, in ms, over `requests` requests."""
    python_started = time.process_time()
    backend, database_started = _backend_cpu()
    database_used = 0.0
    for _ in range(requests):
        status, _body = client.get(target.path, target.session_key, target.body)
        if status != 200:
            raise RuntimeError(f"{target.name}: {target.path} answered {status}")
        # The connection is replaced when it is older than CONN_MAX_AGE: a new backend
        # counts from its start (its connection set-up is part of the cost).
        now_backend, now = _backend_cpu()
        if now_backend is not None:
            database_used += now - database_started if now_backend == backend else now
        backend, database_started = now_backend, now
    python_used = time.process_time() - python_started
    return python_used / requests * 1000, database_used / requests * 1000


def requests_for(cpu_ms_per_request: float) -> int:
    """Requests per sample: at least MIN_REQUESTS and at least MIN_SAMPLE_SECONDS of CPU."""
    if cpu_ms_per_request <= 0:
        return MIN_REQUESTS
    return max(MIN_REQUESTS, math.ceil(MIN_SAMPLE_SECONDS * 1000 / cpu_ms_per_request))


def warm_up(client: InProcessClient, target: Target, requests: int) -> Response:
    """`requests` requests (compiling templates, filling caches); the last response."""
    response = client.request(target.path, target.session_key, target.body)
    for _ in range(requests - 1):
        if response.status != 200:
            break
        response = client.request(target.path, target.session_key, target.body)
    return response


def measure_round(
    client: InProcessClient, targets: list[Target], counts: dict[str, int], slices: int = SLICES
) -> dict[str, tuple[float, float]]:
    """One round: each target's Python and database CPU per request, in ms, over its
    `counts[name]` requests, taken in `slices` short passes over all the targets in turn.
    Each target's figure then covers the same seconds as every other's, so a change in
    the machine's load in the middle of a round falls on the baselines and the pages
    alike instead of on whichever was measured then."""
    spent = {name: [0.0, 0.0, 0] for name in counts}
    for number in range(slices):
        for target in targets:
            if target.name not in counts:
                continue
            whole, extra = divmod(counts[target.name], slices)
            requests = whole + (number < extra)
            if requests:
                python_ms, database_ms = measure_once(client, target, requests)
                figures = spent[target.name]
                figures[0] += python_ms * requests
                figures[1] += database_ms * requests
                figures[2] += requests
    return {name: (python / n, database / n) for name, (python, database, n) in spent.items()}


def child() -> None:
    """The measuring child. Reads one JSON line: {"targets": [{"name", "path",
    "session_key"}], "requests": N or null, "warmup": N, "collectstatic": bool}; warms
    each target up and answers {"ready": {name: {"status", "queries", "requests"}}}
    (a target that does not answer 200, such as a view this revision lacks, is left out
    of the rounds). Then, for each line "round", measures every target once, in order,
    and answers {"round": {name: [python_ms, database_ms]}}. Answers are single lines
    starting with PROTOCOL_PREFIX; anything else on stdout is not the protocol's."""
    spec = json.loads(sys.stdin.readline())
    import django

    django.setup()
    if spec.get("collectstatic"):
        from django.core.management import call_command

        call_command("collectstatic", interactive=False, verbosity=0)
    client = InProcessClient()
    ready, counts = {}, {}
    targets = [Target(**target) for target in spec["targets"]]
    for target in targets:
        try:
            response = warm_up(client, target, spec.get("warmup", 20))
        except Exception as error:  # noqa: BLE001 - reported to the parent, which decides
            ready[target.name] = {"status": None, "error": repr(error)}
            continue
        entry = {"status": response.status, "queries": response.queries}
        if response.status == 200:
            counts[target.name] = spec.get("requests") or requests_for(
                sum(measure_once(client, target, 10))
            )
            entry["requests"] = counts[target.name]
        ready[target.name] = entry
    _answer({"ready": ready})
    for line in sys.stdin:
        if line.strip() != "round":
            break
        figures = measure_round(client, targets, counts)
        _answer(
            {
                "round": {
                    name: [round(python_ms, 3), round(database_ms, 3)]
                    for name, (python_ms, database_ms) in figures.items()
                }
            }
        )


def _answer(message: dict) -> None:
    sys.stdout.write(PROTOCOL_PREFIX + json.dumps(message) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    # Run by path, so this directory (bench/) is first on sys.path: serve the tree in the
    # working directory instead, whichever revision it is.
    sys.path[0] = os.getcwd()
    child()
