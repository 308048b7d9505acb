import re
import uuid

from django import forms
from django.core.signals import setting_changed
from django.utils import timezone
from django.utils.html import escape as django_escape
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from markupsafe import escape as jinja_escape

from accounts.models import User
from relationships.models import (
    ActionItem,
    CoachingRelationship,
    CoachingSession,
    Note,
    ScheduledSession,
)

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


class ScheduleForm(forms.Form):
    """When the next session is, in the person's own time zone."""

    day = forms.DateField(
        label="Date", widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})
    )
    start_time = forms.TimeField(
        label="Start time", widget=forms.TimeInput(format="%H:%M", attrs={"type": "time"})
    )
    duration_minutes = forms.TypedChoiceField(
        label="Duration",
        coerce=int,
        initial=45,
        choices=[(m, f"{m} minutes") for m in (15, 30, 45, 60, 90)] + [(120, "2 hours")],
    )
    cadence = forms.ChoiceField(
        label="Repeats",
        choices=ScheduledSession.Cadence.choices,
        initial=ScheduledSession.Cadence.ONCE,
    )

    def __init__(self, *args, time_zone: str = "UTC", **kwargs):
        super().__init__(*args, **kwargs)
        # A hint for the picker; the rule (still to come) is in the service.
        self.fields["day"].widget.attrs["min"] = timezone.localdate().isoformat()
        self.fields["start_time"].help_text = f"Your time zone: {time_zone}."


class RescheduleForm(ScheduleForm):
    """Another time for one session (of a series: this one only)."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["cadence"]


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


class TalkingPointForm(forms.Form):
    text = forms.CharField(
        label="Talking point",
        max_length=500,
        error_messages={"required": "Write the point you want to talk about."},
    )
    visibility = forms.ChoiceField(
        choices=Note.Visibility.choices,
        # Shared by default: an agenda is for both people; private is a reminder to oneself.
        initial=Note.Visibility.SHARED,
        widget=forms.RadioSelect,
        label="Who sees it",
    )
    client_token = forms.UUIDField(widget=forms.HiddenInput, initial=uuid.uuid4)

    def __init__(self, *args, other_party_name: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["visibility"].choices = [
            (Note.Visibility.SHARED, f"Shared — on {other_party_name}'s agenda too"),
            (Note.Visibility.PRIVATE, "Private — a reminder only you see"),
        ]


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


class ActionItemEditForm(ActionItemForm):
    """An item's text, owner and due date, changed by either person."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def __init__(self, *args, relationship: CoachingRelationship, **kwargs):
        super().__init__(*args, relationship=relationship, **kwargs)
        del self.fields["client_token"]
        # An overdue item keeps its past due date unless someone changes it: the picker
        # must not refuse the date it already has (the service checks a new one).
        del self.fields["due_on"].widget.attrs["min"]


class RenderedOnce:
    """An empty form's HTML, rendered once per process rather than on every page that
    shows it: the relationship page's three forms cost about a sixth of its CPU
    (issue 15). `build(**stand_ins)` returns the form; each request's values replace the
    stand-ins in its HTML.

    Names (`names`: text a person typed, such as the other person's name) are escaped
    as the rendering would have escaped them: their stand-ins hold an apostrophe, which
    the form templates (Jinja2: &#39;) and format_html (Django: &#x27;) escape
    differently, so each place says which escaping it needs. `plain` values (a date, a
    UUID) have nothing to escape. A stand-in found in the HTML in any other form (not
    escaped, or escaped another way) refuses to build, rather than guess.

        _blank = RenderedOnce(lambda name, token: NoteForm(...), names=["name"],
                              plain=["token"])
        _blank(name=other_name, token=str(uuid.uuid4()))  # a SafeString
    """

    _MARK = "Qz"

    def __init__(self, build, *, names=(), plain=()):
        self.build, self.names, self.plain = build, tuple(names), tuple(plain)
        self._compiled = None
        _every.append(self)

    def _stand_ins(self) -> dict[str, str]:
        stand_ins = {name: f"{self._MARK}{i}'{name}'zQ" for i, name in enumerate(self.names)}
        stand_ins.update({name: f"{self._MARK}{i}p{name}zQ" for i, name in enumerate(self.plain)})
        return stand_ins

    def _compile(self):
        stand_ins = self._stand_ins()
        html = str(self.build(**stand_ins))
        # Where each value goes: (its name, the escaping it gets there).
        places = {}
        for name in self.names:
            places[str(jinja_escape(stand_ins[name]))] = (name, jinja_escape)
            places[django_escape(stand_ins[name])] = (name, django_escape)
        for name in self.plain:
            places[stand_ins[name]] = (name, None)
        pattern = re.compile("|".join(re.escape(place) for place in places) or "(?!)")
        if self._MARK in pattern.sub("", html):
            raise RuntimeError(f"{self.build!r}: a stand-in is not escaped as expected.")
        return html, pattern, places

    def __call__(self, **values) -> SafeString:
        if values.keys() != {*self.names, *self.plain}:
            raise TypeError(f"Expected {sorted({*self.names, *self.plain})}, got {sorted(values)}.")
        if self._compiled is None:
            self._compiled = self._compile()
        html, pattern, places = self._compiled
        for name in self.plain:
            if django_escape(values[name]) != values[name]:
                raise ValueError(f"{name} has characters to escape: {values[name]!r}")
        filled = {
            place: str(escape(values[name])) if escape else values[name]
            for place, (name, escape) in places.items()
        }
        # Safe to mark: the form's own rendering, with each value escaped as that
        # rendering escapes it in that place (names), or with nothing to escape (plain).
        return mark_safe(pattern.sub(lambda match: filled[match[0]], html))  # noqa: S308


_every: list[RenderedOnce] = []


def _forget_rendered(**kwargs):
    # Tests that change the form renderer or the templates see their own HTML.
    for rendered in _every:
        rendered._compiled = None


setting_changed.connect(_forget_rendered)


def _blank_action_item_form(*, coach, coachee, today, token):
    stand_in = _StandIn(coach=_StandIn(name=coach), coachee_label=coachee)
    form = ActionItemForm(relationship=stand_in, initial={"client_token": token})
    form.fields["due_on"].widget.attrs["min"] = today
    return form


class _StandIn:
    def __init__(self, **attributes):
        self.__dict__.update(attributes)


# The empty "Add an action item" form of the relationship and session pages.
blank_action_item_form = RenderedOnce(
    _blank_action_item_form, names=["coach", "coachee"], plain=["today", "token"]
)


def action_item_form_html(relationship: CoachingRelationship) -> SafeString:
    """`ActionItemForm(relationship=relationship)`'s HTML, from its once-rendered form."""
    return blank_action_item_form(
        coach=relationship.coach.name,
        coachee=relationship.coachee_label,
        today=timezone.localdate().isoformat(),
        token=str(uuid.uuid4()),
    )
