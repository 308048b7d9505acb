"""The anonymity of HR's numbers, under attack: property-based and concrete."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from insights.suppression import Cell, suppress


def _cells(sizes):
    children = [Cell(f"team {i}", n, 4 * n, n) for i, n in enumerate(sizes)]
    parent = Cell("org", sum(sizes), sum(c.answer_sum for c in children), sum(sizes))
    return parent, children


def _recoverable(parent, children) -> bool:
    """Could a suppressed child's sum be worked out from what is shown?"""
    hidden = [c for c in children if c.suppressed]
    return not parent.suppressed and len(hidden) == 1


@given(
    sizes=st.lists(st.integers(min_value=1, max_value=30), min_size=1, max_size=8),
    k=st.integers(min_value=3, max_value=10),
)
def test_every_shown_cell_has_k_respondents_and_nothing_hidden_can_be_subtracted(sizes, k):
    parent, children = _cells(sizes)

    suppress(parent, children, k)

    for cell in [parent, *children]:
        assert cell.suppressed or cell.respondents >= k
        assert cell.suppressed == (cell.mean is None)
    assert not _recoverable(parent, children)


def test_a_team_of_four_beside_a_team_of_six_in_an_organisation_of_ten():
    parent, (four, six) = _cells([4, 6])

    suppress(parent, [four, six], k=5)

    assert four.suppressed and four.reason == "fewer than 5 responses"
    assert six.suppressed, "otherwise the four would be the organisation minus the six"
    assert not parent.suppressed


def test_a_small_organisation_shows_nothing():
    parent, children = _cells([2, 1])

    suppress(parent, children, k=5)

    assert parent.suppressed and all(c.suppressed for c in children)


# --- The whole dashboard, built from real check-ins ---------------------------------------

pytestmark = pytest.mark.django_db
