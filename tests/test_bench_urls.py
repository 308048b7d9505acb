"""The benchmark harness keeps to its own: its baseline views exist only under
bench.settings, and it drops no database but its own."""

import pytest
from django.urls import NoReverseMatch, reverse


@pytest.mark.parametrize(
    ("name", "path"),
    [
        ("bench_baseline", "/bench/baseline/"),
        ("bench_framed_baseline", "/bench/framed-baseline/"),
    ],
)
def test_the_baseline_views_are_not_served_by_rapport(client, coach, name, path):
    client.force_login(coach)

    with pytest.raises(NoReverseMatch):
        reverse(name)
    assert client.get(path).status_code == 404


def test_the_harness_refuses_to_recreate_a_database_not_named_for_it():
    from bench.__main__ import recreate_database

    with pytest.raises(SystemExit, match="must contain 'bench'"):
        recreate_database("postgres://postgres@127.0.0.1:5432/rapport")
