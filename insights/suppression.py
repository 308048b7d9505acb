"""Which cells of a month may be shown, counted in people and not in cells.

Every HR admin knows their own answers, so only the other respondents ("unknown" to
HR) count towards the organisation's k. A cell is shown only with at least k of them
(primary). A parent is the sum of its children, so whatever is hidden can be worked out
as a whole: the hidden children together must hold at least k unknown people too, or
nothing at all is hidden. More children are hidden, smallest first, until that holds;
if it cannot, the parent is hidden as well (complementary suppression)."""

from dataclasses import dataclass


@dataclass
class Cell:
    label: str
    respondents: int  # everyone who answered
    unknown: int  # those who are not HR admins: only they count towards k
    suppressed: bool = False
    reason: str = ""

    def hide(self, reason: str) -> None:
        if not self.suppressed:
            self.suppressed, self.reason = True, reason


def too_few(k: int) -> str:
    return f"fewer than {k} responses"


WORKED_OUT = "hidden so a smaller group can't be worked out"


def primary_reason(cell: Cell, k: int) -> str:
    if cell.respondents < k:
        return too_few(k)
    return f"fewer than {k} responses from people outside HR"


def suppress(parent: Cell, children: list[Cell], k: int) -> None:
    """Mark cells in place. `children` partition `parent`: every respondent of the
    parent is in exactly one child."""
    for cell in [parent, *children]:
        if cell.unknown < k:
            cell.hide(primary_reason(cell, k))

    def hidden_people() -> int:
        return sum(child.unknown for child in children if child.suppressed)

    while any(c.suppressed for c in children) and hidden_people() < k:
        shown = [child for child in children if not child.suppressed]
        if not shown:
            break
        min(shown, key=lambda child: (child.unknown, child.label)).hide(WORKED_OUT)
    if any(c.suppressed for c in children) and hidden_people() < k:
        parent.hide(WORKED_OUT)  # cannot happen while children partition the parent
    if parent.suppressed:
        for child in children:
            child.hide(WORKED_OUT)
