"""Private reflection prompts (DESIGN.md): the unconscious-bias questions, the
"step into their shoes" questions of recast the past, and the integrity behaviours."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Prompt:
    key: str
    text: str  # may hold {name}: the other person

    def for_name(self, name: str | None) -> str:
        return self.text.format(name=name or "this person")


BIAS_PROMPTS = [
    Prompt("bias_positive_intentions", "Who do I assume has positive intentions, and why?"),
    Prompt(
        "bias_objective",
        "How much is objective information about competence and attitude, and how much is "
        "liking them?",
    ),
    Prompt(
        "bias_availability",
        "Do I support, listen to, or make myself available to some people more than others?",
    ),
    Prompt("bias_who_i_trust", "Who do I trust, with what, and why?"),
    Prompt("bias_who_i_dont_trust", "Who don't I trust, and why?"),
    Prompt(
        "bias_knowing",
        "If I don't know people well, is it easy or hard to trust them?",
    ),
    Prompt(
        "bias_source",
        "Is my view of {name} based on past experiences with them, on what others have told "
        "me, or on not knowing them well enough?",
    ),
]

SHOES_PROMPTS = [
    Prompt("shoes_past", "What past experiences could be getting in the way of trust?"),
    Prompt("shoes_now", "How might {name} see me now?"),
    Prompt("shoes_landscape", "How can I change the trust landscape for both of us?"),
]

ALL_PROMPTS = {p.key: p for p in BIAS_PROMPTS + SHOES_PROMPTS}
PROMPT_CHOICES = [("", "No prompt: just write")] + [
    (p.key, p.for_name(None)) for p in ALL_PROMPTS.values()
]

# The coach's integrity behaviours, rated 1-5 in a self-check.
INTEGRITY_BEHAVIOURS = [
    ("expectations", "I make expectations clear and live them out."),
    ("as_if_present", "I speak about people as though they were present."),
    ("respect_and_concern", "I show genuine respect and concern."),
    ("confidentiality", "I don't disclose private conversations."),
    ("respect_all", "I respect all, not just those who can do something for me."),
    ("speak_up", "I speak up when others don't meet this standard."),
]
