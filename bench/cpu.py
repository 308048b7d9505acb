"""CPU per request, in process, through Django's real WSGI handler.

The primary figure of the harness (docs/performance.md): Python's CPU time
(`time.process_time`) plus the CPU the PostgreSQL backend serving this process spent
(`/proc/<backend pid>/stat`), for a number of requests through `WSGIHandler` with the
real middleware, the real connection handling (`CONN_MAX_AGE`, health checks) and the
real transactions. CPU time does not count the time spent waiting for the other core, so
it is stable on a shared machine where throughput moves by half from run to run.

Pages are measured in interleaved rounds (baseline, page, baseline, page ...), so that
each ratio compares figures taken in the same minute, and its range over the rounds says
whether the verdict can be trusted.
"""

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from statistics import median

TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")


@dataclass
class Target:
    name: str
    path: str
    session_key: str


@dataclass
class Samples:
    """One page's CPU per request in each round, in milliseconds."""

    python_ms: list[float] = field(default_factory=list)
    database_ms: list[float] = field(default_factory=list)

    @property
    def total_ms(self) -> list[float]:
        return [p + d for p, d in zip(self.python_ms, self.database_ms, strict=True)]

    @property
    def median_ms(self) -> float:
        return median(self.total_ms)


def _backend_cpu_seconds() -> float:
    """CPU seconds the PostgreSQL backend of the default connection has used, or 0 on
    another database (SQLite runs inside this process, so process_time counts it)."""
    from django.db import connection

    if connection.vendor != "postgresql" or connection.connection is None:
        return 0.0
    pid = connection.connection.info.backend_pid
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:  # the server runs elsewhere: only Python's share can be measured
        return 0.0
    # After the command name: state is field 3, utime field 14 and stime field 15.
    return (int(fields[11]) + int(fields[12])) / TICKS_PER_SECOND


class InProcessClient:
    """Requests through the production WSGI handler, as gunicorn makes them."""

    def __init__(self):
        from django.core.handlers.wsgi import WSGIHandler

        self.handler = WSGIHandler()

    def get(self, path: str, session_key: str) -> tuple[int, bytes]:
        from django.test.client import FakePayload

        environ = {
            "REQUEST_METHOD": "GET",
            "PATH_INFO": path,
            "QUERY_STRING": "",
            "SCRIPT_NAME": "",
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "80",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "HTTP_HOST": "127.0.0.1",
            "HTTP_COOKIE": f"sessionid={session_key}",
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.input": FakePayload(b""),
            "wsgi.errors": open(os.devnull, "w"),  # noqa: SIM115 - closed with the request
            "wsgi.multiprocess": True,
            "wsgi.multithread": False,
            "wsgi.run_once": False,
        }
        status = []

        def start_response(line, headers, exc_info=None):
            status.append(int(line.split()[0]))

        response = self.handler(environ, start_response)
        try:
            body = b"".join(response)
        finally:
            response.close()  # request_finished: what closes or keeps the connection
            environ["wsgi.errors"].close()
        return status[0], body


def measure_once(client: InProcessClient, target: Target, requests: int) -> tuple[float, float]:
    """Python and database CPU per request, in ms, over `requests` requests."""
    python_started = time.process_time()
    database_started = _backend_cpu_seconds()
    database_used = 0.0
    for _ in range(requests):
        status, _body = client.get(target.path, target.session_key)
        if status != 200:
            raise RuntimeError(f"{target.name}: {target.path} answered {status}")
        # The connection may be replaced (CONN_MAX_AGE): count each backend's share.
        now = _backend_cpu_seconds()
        if now >= database_started:
            database_used += now - database_started
        database_started = now
    python_used = time.process_time() - python_started
    return python_used / requests * 1000, database_used / requests * 1000


def interleaved(
    targets: list[Target],
    *,
    rounds: int = 5,
    requests: int = 50,
    warmup: int = 20,
    progress=None,
) -> dict[str, Samples]:
    """Each target's CPU per request in each of `rounds` rounds; within a round every
    target is measured once, in turn, so the baselines sit between the pages."""
    client = InProcessClient()
    for target in targets:
        for _ in range(warmup):
            status, _ = client.get(target.path, target.session_key)
            if status != 200:
                raise RuntimeError(f"{target.name}: {target.path} answered {status}")
    samples = {target.name: Samples() for target in targets}
    for number in range(rounds):
        for target in targets:
            python_ms, database_ms = measure_once(client, target, requests)
            samples[target.name].python_ms.append(round(python_ms, 3))
            samples[target.name].database_ms.append(round(database_ms, 3))
        if progress:
            progress(number + 1, rounds)
    return samples
