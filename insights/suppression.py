"""Which cells may be shown. A cell with fewer than k distinct respondents is
suppressed (primary); then, because a parent is the sum of its children, further
cells are suppressed until no suppressed cell can be worked out by subtraction
(secondary)."""

from dataclasses import dataclass


@dataclass
class Cell:
    label: str
    respondents: int
    answer_sum: int
    answer_count: int
    suppressed: bool = False
    reason: str = ""

    @property
    def mean(self) -> float | None:
        if self.suppressed or not self.answer_count:
            return None
        return round(self.answer_sum / self.answer_count, 2)


def suppress(parent: Cell, children: list[Cell], k: int) -> None:
    """Mark cells in place. `children` partition `parent` (their sums add up to it)."""
    for cell in [parent, *children]:
        if cell.respondents < k:
            cell.suppressed = True
            cell.reason = f"fewer than {k} responses"
    if parent.suppressed:
        for child in children:
            if not child.suppressed:
                child.suppressed = True
                child.reason = "hidden so a smaller group can't be worked out"
        return
    # The parent is shown: a single hidden child would equal parent minus the others.
    while sum(child.suppressed for child in children) == 1:
        shown = [child for child in children if not child.suppressed]
        if not shown:
            break
        smallest = min(shown, key=lambda child: (child.respondents, child.label))
        smallest.suppressed = True
        smallest.reason = "hidden so a smaller group can't be worked out"
