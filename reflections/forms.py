from django import forms

from reflections.dimensions import COMMENT_PROMPT, DIMENSIONS, SCALE
from relationships.models import CoachingRelationship

SCALE_CHOICES = [(value, f"{value} — {label}") for value, label in SCALE]


class CheckInForm(forms.Form):
    comment = forms.CharField(
        label=COMMENT_PROMPT,
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    shared = forms.BooleanField(
        required=False,
        initial=True,
        label="Share this round's answers and comment with {name}",
    )

    def __init__(self, *args, other_name: str, **kwargs):
        super().__init__(*args, **kwargs)
        answers = {
            d.key: forms.TypedChoiceField(
                label=d.about(other_name),
                choices=SCALE_CHOICES,
                coerce=int,
                widget=forms.RadioSelect,
                error_messages={"required": "Choose an answer from 1 to 5."},
            )
            for d in DIMENSIONS
        }
        self.fields = {**answers, **self.fields}
        self.fields["shared"].label = self.fields["shared"].label.format(name=other_name)
        self.fields["shared"].help_text = (
            f"If you don't share, {other_name} never sees these answers. They still count, "
            "anonymously, in your organisation's overall trends."
        )

    def answers(self) -> dict[str, int]:
        return {d.key: self.cleaned_data[d.key] for d in DIMENSIONS}


class CadenceForm(forms.Form):
    cadence = forms.ChoiceField(
        choices=CoachingRelationship.Cadence.choices, label="Check in with each other"
    )
