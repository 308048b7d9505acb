import uuid

from django import forms
from django.utils import timezone
from django.utils.html import format_html

from accounts.models import User
from relationships.models import ActionItem, CoachingRelationship, CoachingSession, Note

MAX_NOTE_LENGTH = 20_000
MAX_SUMMARY_LENGTH = 20_000


class RelationshipInviteForm(forms.Form):
    coachee = forms.ModelChoiceField(
        queryset=User.objects.none(),
        required=False,
        to_field_name="public_id",
        empty_label="Choose a colleague…",
        label="Colleague",
    )
    email = forms.EmailField(
        required=False,
        label="…or their email address",
        help_text="Someone not in Rapport yet gets an invitation to your organisation first.",
    )
    purpose = forms.CharField(
        label="Why are we sitting down together?",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Both of you see this. It opens your first conversation.",
    )

    def __init__(self, *args, coach: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["coachee"].queryset = (
            User.objects.filter(membership__organisation__memberships__user=coach, is_active=True)
            .exclude(pk=coach.pk)
            .order_by("display_name", "email")
        )

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("coachee") and not cleaned.get("email") and "email" not in self.errors:
            raise forms.ValidationError("Choose a colleague or enter their email address.")
        return cleaned


class SessionForm(forms.Form):
    held_on = forms.DateField(
        label="Date",
        widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}),
        initial=timezone.localdate,
    )
    duration_minutes = forms.IntegerField(
        label="Duration (minutes)", min_value=5, max_value=600, initial=45
    )
    focus = forms.ChoiceField(choices=CoachingSession.Focus.choices)
    agenda = forms.CharField(
        required=False,
        max_length=MAX_SUMMARY_LENGTH,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="Shared: you both see the agenda.",
    )
    summary = forms.CharField(
        required=False,
        max_length=MAX_SUMMARY_LENGTH,
        widget=forms.Textarea(attrs={"rows": 6}),
        label="Shared summary",
        help_text="Shared: you both can read and edit the summary.",
    )
    client_token = forms.UUIDField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # A hint for the date picker (today in the person's time zone, which the
        # middleware activates); the service has the final word and says why.
        self.fields["held_on"].widget.attrs["max"] = timezone.localdate().isoformat()


class SessionEditForm(SessionForm):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


def visibility_choices(other_party_name: str):
    return [
        (Note.Visibility.PRIVATE, "Private — only you can read it"),
        (Note.Visibility.SHARED, f"Shared — you and {other_party_name} can read it"),
    ]


class NoteForm(forms.Form):
    body = forms.CharField(
        label="Note", max_length=MAX_NOTE_LENGTH, widget=forms.Textarea(attrs={"rows": 5})
    )
    visibility = forms.ChoiceField(
        choices=Note.Visibility.choices,
        initial=Note.Visibility.PRIVATE,
        widget=forms.RadioSelect,
        label="Who can read it",
    )
    # One token per form: a double submit creates one note, and autosave keys the draft.
    client_token = forms.UUIDField(widget=forms.HiddenInput, initial=uuid.uuid4)

    def __init__(self, *args, other_party_name: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["visibility"].choices = visibility_choices(other_party_name)


class NoteEditForm(NoteForm):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class ActionItemForm(forms.Form):
    text = forms.CharField(label="What will be done", max_length=500)
    owner = forms.ChoiceField(choices=ActionItem.Owner.choices, label="Who owns it")
    due_on = forms.DateField(
        required=False,
        label="Due",
        widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}),
    )
    client_token = forms.UUIDField(widget=forms.HiddenInput, initial=uuid.uuid4)

    def __init__(self, *args, relationship: CoachingRelationship, **kwargs):
        super().__init__(*args, **kwargs)
        # As for sessions: a hint for the picker, the rule is in the service.
        self.fields["due_on"].widget.attrs["min"] = timezone.localdate().isoformat()
        self.fields["owner"].choices = [
            (ActionItem.Owner.COACH, f"{relationship.coach.name} (coach)"),
            (ActionItem.Owner.COACHEE, f"{relationship.coachee_label} (coachee)"),
        ]
        # Who will read the text, said beside the field as for every private text. The
        # names are text their owners typed: format_html escapes them.
        self.fields["text"].help_text = format_html(
            "Shared: {} and {} both see it.", relationship.coach.name, relationship.coachee_label
        )
