"""The six trust dimensions and their check-in statements (DESIGN.md, "Words we use")."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Dimension:
    key: str
    label: str
    statement: str  # with {name}: the other person

    def about(self, name: str) -> str:
        return self.statement.format(name=name)


DIMENSIONS = [
    Dimension("reliability", "Reliability", "I can rely on {name} to do what they say they will."),
    Dimension(
        "competence", "Competence", "{name} has the skills and knowledge our work together needs."
    ),
    Dimension("honesty", "Honesty", "{name} is honest with me, even when it is uncomfortable."),
    Dimension("integrity", "Integrity", "{name} keeps what I share in confidence private."),
    Dimension(
        "positive_intentions", "Positive intentions", "{name} has my best interests at heart."
    ),
    Dimension(
        "freedom_to_be_real",
        "Freedom to be real",
        "I can be myself with {name} without being judged.",
    ),
]
DIMENSION_KEYS = [d.key for d in DIMENSIONS]
BY_KEY = {d.key: d for d in DIMENSIONS}

SCALE = [
    (1, "Strongly disagree"),
    (2, "Disagree"),
    (3, "Neither agree nor disagree"),
    (4, "Agree"),
    (5, "Strongly agree"),
]

COMMENT_PROMPT = "What would add a drop to our trust bucket before next time?"
