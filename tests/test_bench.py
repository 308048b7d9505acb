"""The benchmark harness, run end to end on a tiny data set so it cannot rot: its own
PostgreSQL database, the seeder, gunicorn, sign-in (with TOTP for HR), wrk and the
report. The figures are not judged here; the full run's are, in docs/performance.md."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent
PAGES = [
    "baseline",
    "home",
    "my relationships",
    "relationship (2 years)",
    "session",
    "check-in form",
    "trend chart",
    "reflection journal",
    "HR dashboard",
    "HR CSV export",
]

database = settings.DATABASES["default"]
pytestmark = pytest.mark.skipif(
    database["ENGINE"] != "django.db.backends.postgresql",
    reason="the harness measures PostgreSQL; the PostgreSQL run of the suite runs it",
)


def test_the_harness_runs_on_a_tiny_data_set(tmp_path):
    if shutil.which("wrk") is None:
        if os.environ.get("RAPPORT_REQUIRE_BENCH"):
            pytest.fail("wrk is required here (RAPPORT_REQUIRE_BENCH): apt-get install wrk")
        pytest.skip("wrk is not installed (apt-get install wrk)")
    server = f"{database['USER']}@{database['HOST'] or '127.0.0.1'}:{database['PORT'] or 5432}"
    url = f"postgres://{server}/rapport_bench_smoke_{os.getpid()}"
    environment = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}

    run = subprocess.run(
        [
            sys.executable, "-m", "bench", "--scale", "tiny", "--database-url", url,
            "--duration", "1", "--warmup", "1", "--workers", "2", "--drop-db",
            "--results", str(tmp_path),
        ],
        cwd=ROOT, env=environment, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip

    # 0: every budget met; 1: a budget missed (likely in one-second runs on a busy
    # machine). Anything else is the harness failing.
    assert run.returncode in (0, 1), run.stdout + run.stderr
    result = json.loads((tmp_path / "latest.json").read_text())
    assert [row["page"] for row in result["pages"]] == PAGES
    for row in result["pages"]:
        assert row["requests"] > 0 and row["errors"] == 0, row
        assert 0 < row["queries"] <= 12, row
    assert result["seeding"]["rows"]["sessions"] > 0
    assert all(worker["rss_mb"] > 0 for worker in result["workers_memory"])
    report = (tmp_path / "latest.md").read_text()
    assert "| HR CSV export | hr |" in report and "## Budgets" in report
