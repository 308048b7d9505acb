import uuid

from django import forms
from django.utils.html import format_html

from reflections.dimensions import COMMENT_PROMPT, DIMENSIONS, SCALE, TRUST_BUCKET_PLAIN
from reflections.models import JournalSettings
from reflections.prompts import INTEGRITY_BEHAVIOURS, PROMPT_CHOICES
from relationships.models import CoachingRelationship

SCALE_CHOICES = [(value, f"{value} — {label}") for value, label in SCALE]


class CheckInForm(forms.Form):
    comment = forms.CharField(
        label=COMMENT_PROMPT,
        help_text=TRUST_BUCKET_PLAIN,
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
        # The other person's name is text they typed: format_html escapes it.
        self.fields["shared"].help_text = format_html(
            "If you don't share, {} never sees these answers. They still count, "
            "anonymously, in your organisation's overall trends.",
            other_name,
        )

    def answers(self) -> dict[str, int]:
        return {d.key: self.cleaned_data[d.key] for d in DIMENSIONS}


class CadenceForm(forms.Form):
    cadence = forms.ChoiceField(
        choices=CoachingRelationship.Cadence.choices, label="Check in with each other"
    )


class ReflectionForm(forms.Form):
    prompt = forms.ChoiceField(choices=PROMPT_CHOICES, required=False, label="Prompt")
    relationship = forms.ModelChoiceField(
        queryset=CoachingRelationship.objects.none(),
        required=False,
        to_field_name="public_id",
        empty_label="Not about one relationship",
        label="About",
    )
    body = forms.CharField(
        label="Your reflection",
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text="Only you can ever read this: not the other person, not HR, not an "
        "administrator.",
    )
    client_token = forms.UUIDField(widget=forms.HiddenInput, initial=uuid.uuid4, required=False)

    def __init__(self, *args, author, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["relationship"].queryset = CoachingRelationship.objects.started_for(
            author
        ).select_related("coach", "coachee")
        self.fields["relationship"].label_from_instance = lambda r: (
            f"Coaching {r.coachee_label}"
            if r.coach_id == author.pk
            else f"Coached by {r.coach.name}"
        )


class ReflectionEditForm(ReflectionForm):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class RetentionForm(forms.Form):
    retention_days = forms.TypedChoiceField(
        choices=[("", "Keep my entries")] + list(JournalSettings.Retention.choices),
        coerce=int,
        empty_value=None,
        required=False,
        label="How long to keep entries",
    )


class IntegrityCheckForm(forms.Form):
    client_token = forms.UUIDField(widget=forms.HiddenInput, initial=uuid.uuid4, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for key, statement in INTEGRITY_BEHAVIOURS:
            self.fields[key] = forms.TypedChoiceField(
                label=statement,
                choices=SCALE_CHOICES,
                coerce=int,
                widget=forms.RadioSelect,
                error_messages={"required": "Choose a rating from 1 to 5."},
            )

    def ratings(self) -> dict[str, int]:
        return {key: self.cleaned_data[key] for key, _ in INTEGRITY_BEHAVIOURS}
