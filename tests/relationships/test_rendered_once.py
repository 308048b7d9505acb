"""Forms rendered once per process and filled per request (issue 15): what a person
sees is exactly what a fresh rendering shows, hostile names included, and a form whose
names would not be escaped is refused rather than filled."""

import uuid

import pytest
from django import forms
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from relationships.forms import ActionItemForm, RenderedOnce, blank_action_item_form
from tests.factories import MembershipFactory, OrganisationFactory, RelationshipFactory

pytestmark = pytest.mark.django_db
HOSTILE = """<img src=x onerror=alert(1)> O'Brien & "Co" hx-post="/x" {{ 7 }}"""


def test_a_once_rendered_form_is_a_fresh_rendering_hostile_names_included():
    organisation = OrganisationFactory()
    coach = MembershipFactory(organisation=organisation, user__display_name=HOSTILE).user
    coachee = MembershipFactory(organisation=organisation, user__display_name="Sam <b>").user
    relationship = RelationshipFactory(organisation=organisation, coach=coach, coachee=coachee)
    token = str(uuid.uuid4())
    today = timezone.localdate().isoformat()

    fresh = str(ActionItemForm(relationship=relationship, initial={"client_token": token}))
    filled = blank_action_item_form(
        coach=relationship.coach.name, coachee=relationship.coachee_label, today=today, token=token
    )

    assert filled == fresh
    assert "<img" not in filled and "<b>" not in filled


class _Greeting(forms.Form):
    text = forms.CharField()

    def __init__(self, *args, name, unsafe=False, **kwargs):
        super().__init__(*args, **kwargs)
        help_text = mark_safe(f"For {name}") if unsafe else format_html("For {}", name)  # noqa: S308
        self.fields["text"].help_text = help_text


def test_a_form_that_would_not_escape_a_name_is_refused():
    escaped = RenderedOnce(lambda name: _Greeting(name=name), names=["name"])
    assert "O&#x27;Brien &lt;b&gt;" in escaped(name="O'Brien <b>")

    unescaped = RenderedOnce(lambda name: _Greeting(name=name, unsafe=True), names=["name"])
    with pytest.raises(RuntimeError, match="not escaped as expected"):
        unescaped(name="O'Brien <b>")
