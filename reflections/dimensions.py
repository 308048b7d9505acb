"""The six trust dimensions and their check-in statements (DESIGN.md, "Words we use")."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Dimension:
    key: str
    label: str
    statement: str  # with {name}: the other person
    # One plain sentence for wherever the label is shown without its statement
    # ("Freedom to be real" means little on its own).
    plain: str

    def about(self, name: str) -> str:
        return self.statement.format(name=name)


DIMENSIONS = [
    Dimension(
        "reliability",
        "Reliability",
        "I can rely on {name} to do what they say they will.",
        "Whether the other person does what they say they will.",
    ),
    Dimension(
        "competence",
        "Competence",
        "{name} has the skills and knowledge our work together needs.",
        "Whether the other person has the skills and knowledge your work together needs.",
    ),
    Dimension(
        "honesty",
        "Honesty",
        "{name} is honest with me, even when it is uncomfortable.",
        "Whether the other person tells you the truth, even when it is uncomfortable.",
    ),
    Dimension(
        "integrity",
        "Integrity",
        "{name} keeps what I share in confidence private.",
        "Whether what you share in confidence stays private.",
    ),
    Dimension(
        "positive_intentions",
        "Positive intentions",
        "{name} has my best interests at heart.",
        "Whether the other person has your best interests at heart.",
    ),
    Dimension(
        "freedom_to_be_real",
        "Freedom to be real",
        "I can be myself with {name} without being judged.",
        "Whether you can be yourself with the other person, mistakes and doubts included, "
        "without being judged.",
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
# The "trust bucket" is the method's picture of trust: it fills a drop at a time.
TRUST_BUCKET_PLAIN = (
    "Trust builds up a drop at a time, with each conversation that goes well: name one "
    "small thing either of you could do."
)
