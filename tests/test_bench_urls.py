"""The benchmark harness keeps to its own: its baseline view exists only under
bench.settings, and it drops no database but its own."""

import pytest
from django.urls import NoReverseMatch, reverse


def test_the_baseline_view_is_not_served_by_rapport(client, coach):
    client.force_login(coach)

    with pytest.raises(NoReverseMatch):
        reverse("bench_baseline")
    assert client.get("/bench/baseline/").status_code == 404


def test_the_harness_refuses_to_recreate_a_database_not_named_for_it():
    from bench.__main__ import recreate_database

    with pytest.raises(SystemExit, match="must contain 'bench'"):
        recreate_database("postgres://postgres@127.0.0.1:5432/rapport")
