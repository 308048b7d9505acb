"""The anonymity of HR's numbers, under attack: property-based and concrete. Counted in
people who are not HR admins (HR knows its own answers), never in cells."""

from hypothesis import given
from hypothesis import strategies as st

from insights.suppression import WORKED_OUT, Cell, suppress


def _cells(sizes, known=None):
    """Children of the given sizes; `known` of each are HR admins."""
    known = known or [0] * len(sizes)
    children = [
        Cell(f"team {i}", n, n - h) for i, (n, h) in enumerate(zip(sizes, known, strict=True))
    ]
    parent = Cell("org", sum(sizes), sum(c.unknown for c in children))
    return parent, children


@given(
    sizes=st.lists(st.integers(min_value=1, max_value=30), min_size=1, max_size=8),
    known=st.lists(st.integers(min_value=0, max_value=3), min_size=8, max_size=8),
    k=st.integers(min_value=3, max_value=10),
)
def test_every_shown_cell_has_k_people_and_the_hidden_ones_together_hold_k(sizes, known, k):
    known = [min(h, n) for h, n in zip(known, sizes, strict=False)]
    parent, children = _cells(sizes, known)

    suppress(parent, children, k)

    for cell in [parent, *children]:
        assert cell.suppressed or cell.unknown >= k
        assert cell.suppressed == bool(cell.reason)
    hidden = [c for c in children if c.suppressed]
    # What HR can work out as a whole (the parent minus the shown children) is a group
    # of at least k people it does not know, or nothing.
    assert parent.suppressed or not hidden or sum(c.unknown for c in hidden) >= k
    assert parent.suppressed == (parent.unknown < k)


def test_a_team_of_four_beside_a_team_of_six_in_an_organisation_of_ten():
    parent, (four, six) = _cells([4, 6])

    suppress(parent, [four, six], k=5)

    assert four.suppressed and four.reason == "fewer than 5 responses"
    assert six.suppressed and six.reason == WORKED_OUT
    assert not parent.suppressed


def test_attack_two_hidden_cells_of_one_person_each_are_not_enough():
    """The old rule hid a second cell and stopped: two people of 1 and 1, hidden beside
    a shown team of 10, were still worked out together (organisation minus the team)."""
    parent, (one, other_one, ten) = _cells([1, 1, 10])

    suppress(parent, [one, other_one, ten], k=5)

    assert one.suppressed and other_one.suppressed
    assert ten.suppressed, "otherwise organisation − ten = the sum of two people"
    assert not parent.suppressed


def test_attack_hr_answers_do_not_make_up_the_numbers():
    """Target alone in a team; HR's own three answers in "other": hidden together they
    hold four people, but HR knows three of them, so only one is unknown."""
    parent, (target, other, big) = _cells([1, 3, 8], known=[0, 3, 0])

    suppress(parent, [target, other, big], k=3)

    assert target.suppressed and other.suppressed
    assert other.reason == "fewer than 3 responses from people outside HR"
    assert big.suppressed, "organisation − big team − HR's own answers would be the target"


def test_a_small_organisation_shows_nothing():
    parent, children = _cells([2, 1])

    suppress(parent, children, k=5)

    assert parent.suppressed and all(c.suppressed for c in children)
