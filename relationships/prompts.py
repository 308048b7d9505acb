"""The agenda each session focus starts from (DESIGN.md, "Session focus prompts")."""

from relationships.models import CoachingSession

Focus = CoachingSession.Focus

AGENDA_PROMPTS = {
    Focus.RECAST_THE_PAST: [
        "Why are we sitting down together?",
        "What kind of relationship do we have now?",
        "What kind of relationship do we want?",
    ],
    Focus.MASTER_THE_MOMENT: [
        "What is happening for each of us right now?",
        "What am I feeling, and how is it showing?",
        "What does the other person need from me in this conversation?",
    ],
    Focus.CO_CREATE_THE_FUTURE: [
        "What do we each want to know about the other?",
        "Which decisions are yours to make?",
        "What will you own, and how will we both know it happened?",
    ],
    Focus.OTHER: [],
}

# For the coach's eyes only: never part of the shared agenda.
COACH_PRIVATE_PROMPTS = {
    Focus.RECAST_THE_PAST: [
        "What past experiences could be getting in the way of trust?",
        "How might they see me now?",
        "How can I change the trust landscape for both of us?",
    ],
}


def agenda_for(focus: str) -> str:
    return "\n".join(f"- {prompt}" for prompt in AGENDA_PROMPTS.get(focus, []))


def is_template_agenda(text: str) -> bool:
    """Whether this agenda is still one of the untouched templates (or empty), so
    switching focus may replace it without losing anything the person wrote."""
    normalised = text.replace("\r\n", "\n").strip()
    return normalised == "" or normalised in {agenda_for(focus) for focus in AGENDA_PROMPTS}
