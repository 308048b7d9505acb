"""The benchmark's baseline view exists only under bench.settings, never in Rapport."""

import pytest
from django.urls import NoReverseMatch, reverse


def test_the_baseline_view_is_not_served_by_rapport(client, coach):
    client.force_login(coach)

    with pytest.raises(NoReverseMatch):
        reverse("bench_baseline")
    assert client.get("/bench/baseline/").status_code == 404
