"""Form widgets, and our form and field templates, render with Jinja2
(config.forms.RapportFormRenderer, issue 15): the same HTML, as a browser reads it, as
Django's own widget templates and our former Django form and field templates (kept below
as the reference) in the Django engine, for every widget Django has and every form of
ours and of allauth's, blank and with errors, with hostile text in every value, label and
attribute; every radio or checkbox option's label (which can name the other person) sits
inside hx-disable, and so does every label, help text and error."""

import importlib
import inspect
from html.parser import HTMLParser

import pytest
from django import forms
from django.forms import widgets
from django.forms.renderers import DjangoTemplates, TemplatesSetting
from django.template import engines

from accounts import forms as account_forms
from accounts.models import Team
from config.forms import RapportFormRenderer
from reflections import forms as reflection_forms
from relationships import forms as relationship_forms

HOSTILE = "'\"><i data-hostile hx-post=status/ hx-trigger=load onclick=f()>x</i>&amp;"


# templates/forms/form.html and field.html as Django templates, before they moved to
# jinja2/forms/ (issue 15): the reference the Jinja2 templates must render the same as.
DJANGO_FORM_TEMPLATES = {
    "forms/form.html": """\
{% if form.non_field_errors %}
<div class="form-errors" role="alert" hx-disable>
  {% for error in form.non_field_errors %}<p>{{ error }}</p>{% endfor %}
</div>
{% endif %}
{% for field, errors in fields %}{{ field.as_field_group }}{% endfor %}
{% for field in hidden_fields %}{{ field }}{% endfor %}
""",
    "forms/field.html": """\
{% if field.widget_type == 'checkbox' %}
<div class="field field-checkbox{% if field.errors %} has-error{% endif %}">
  {{ field }}
  <label for="{{ field.id_for_label }}" hx-disable>{{ field.label }}</label>
  {% if field.help_text %}<p class="help" id="{{ field.auto_id }}_helptext" hx-disable>\
{{ field.help_text }}</p>{% endif %}
  {% if field.errors %}<div class="field-errors" id="{{ field.auto_id }}_error" hx-disable>\
{% for error in field.errors %}<p>{{ error }}</p>{% endfor %}</div>{% endif %}
</div>
{% else %}
<div class="field{% if field.errors %} has-error{% endif %}">
  <label for="{{ field.id_for_label }}" hx-disable>{{ field.label }}</label>
  {% if field.errors %}<div class="field-errors" id="{{ field.auto_id }}_error" hx-disable>\
{% for error in field.errors %}<p>{{ error }}</p>{% endfor %}</div>{% endif %}
  {{ field }}
  {% if field.help_text %}<div class="help" id="{{ field.auto_id }}_helptext" hx-disable>\
{{ field.help_text }}</div>{% endif %}
</div>
{% endif %}
""",
}


class DjangoEngineRenderer(RapportFormRenderer):
    """What RapportFormRenderer rendered before: our form and field templates (the
    reference above), and every widget template, in the Django engine (Django's own
    widget templates)."""

    def render(self, template_name, context, request=None):
        if template_name in DJANGO_FORM_TEMPLATES:
            source = DJANGO_FORM_TEMPLATES[template_name]
            return engines["django"].from_string(source).render(context).strip()
        return TemplatesSetting.render(self, template_name, context, request=request)


class Tree(HTMLParser):
    """A page as a browser builds it: elements with their attributes (in any order) and
    text with its runs of whitespace folded."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.nodes = []
        self.option_labels = []  # (has hx-disable) for each <label> holding an <input>
        self._label = None
        self._open = []  # (tag, has hx-disable) of the elements the parser is inside
        self.texts_outside_hx_disable = []  # label, help and error texts not inside one

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        typed = tag == "label" or attrs.get("class") in ("help", "field-errors", "form-errors")
        if tag not in VOID:
            self._open.append((tag, "hx-disable" in attrs, typed))
        if tag == "label":
            self._label = "hx-disable" in attrs
            # Only our option labels carry it; Django's templates have none.
            attrs.pop("hx-disable", None)
        if tag == "input" and self._label is not None:
            self.option_labels.append(self._label)
        if attrs.get("name") in ("csrfmiddlewaretoken", "client_token"):
            attrs["value"] = "(random)"
        self.nodes.append(("<", tag, sorted(attrs.items())))

    def handle_endtag(self, tag):
        while self._open and self._open.pop()[0] != tag:
            pass
        if tag == "label":
            self._label = None
        self.nodes.append((">", tag))

    def handle_data(self, data):
        if data := " ".join(data.split()):
            if any(typed for _, _, typed in self._open) and not any(
                disabled for _, disabled, _ in self._open
            ):
                self.texts_outside_hx_disable.append(data)
            self.nodes.append(("text", data))


VOID = {"input", "br", "img", "hr", "meta", "link", "source", "wbr", "col", "area"}


def tree(html: str) -> Tree:
    parsed = Tree()
    parsed.feed(html)
    parsed.close()
    return parsed


def assert_same(ours: str, django_s: str, where: str):
    assert "data-hostile" not in ours.replace("&lt;i data-hostile", ""), where
    mine, theirs = tree(ours), tree(django_s)
    assert mine.nodes == theirs.nodes, f"{where}:\n{ours}\n---\n{django_s}"
    assert all(mine.option_labels), f"{where}: an option's label without hx-disable:\n{ours}"
    return mine


def _widgets():
    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    abstract = {widgets.Input, widgets.ChoiceWidget, widgets.MultiWidget, widgets.DateTimeBaseInput}
    return sorted(
        (
            cls
            for cls in {forms.Widget, *subclasses(forms.Widget)}
            if cls.__module__ == "django.forms.widgets" and cls not in abstract
        ),
        key=lambda cls: cls.__name__,
    )


CHOICES = [
    ("1", f"One {HOSTILE}"),
    (HOSTILE, "Two"),
    (f"Group {HOSTILE}", [("3", "Three"), ("4", f"Four {HOSTILE}")]),
]
VALUES = [None, "", "1", HOSTILE, ["1", "4"], 0, True]


@pytest.mark.parametrize("widget_class", _widgets(), ids=lambda cls: cls.__name__)
def test_every_django_widget_renders_as_djangos_templates_render_it(widget_class):
    kwargs = {}
    if "choices" in inspect.signature(widget_class.__init__).parameters:
        kwargs["choices"] = CHOICES
    attrs = {"id": f"id_{HOSTILE}", "class": HOSTILE, "data-x": HOSTILE, "required": True}
    widget = widget_class(attrs={**attrs, "disabled": False}, **kwargs)
    ours, django_s = RapportFormRenderer(), DjangoTemplates()
    for value in VALUES:
        try:
            expected = widget.render(HOSTILE, value, attrs=attrs, renderer=django_s)
        except (TypeError, ValueError, AttributeError):
            continue  # a value this widget cannot take (e.g. a list for a date)
        actual = widget.render(HOSTILE, value, attrs=attrs, renderer=ours)
        assert_same(actual, expected, f"{widget_class.__name__} with {value!r}")


def _our_forms(coach, relationship, organisation):
    return [
        reflection_forms.CheckInForm(other_name=HOSTILE),
        reflection_forms.CadenceForm(),
        reflection_forms.ReflectionForm(author=coach),
        reflection_forms.ReflectionEditForm(author=coach),
        reflection_forms.RetentionForm(),
        reflection_forms.IntegrityCheckForm(),
        relationship_forms.RelationshipInviteForm(coach=coach),
        relationship_forms.SessionForm(),
        relationship_forms.SessionEditForm(),
        relationship_forms.NoteForm(other_party_name=HOSTILE),
        relationship_forms.NoteEditForm(other_party_name=HOSTILE),
        relationship_forms.ActionItemForm(relationship=relationship),
        account_forms.SignupForm(),
        account_forms.OrganisationForm(instance=organisation),
        account_forms.TeamForm(),
        account_forms.InvitationForm(organisation=organisation),
        account_forms.MembershipForm(organisation=organisation),
        account_forms.ProfileForm(),
        account_forms.MemberFilterForm(teams=Team.objects.all()),
        account_forms.BulkInvitationForm(organisation=organisation),
        account_forms.BulkSendForm(organisation=organisation),
        account_forms.AddPasskeyForm(user=coach),
    ]


ALLAUTH_FORMS = [
    "allauth.account.forms",
    "allauth.mfa.base.forms",
    "allauth.mfa.totp.forms",
    "allauth.mfa.recovery_codes.forms",
    "allauth.mfa.webauthn.forms",
    "allauth.usersessions.forms",
]


def _allauth_forms(user, rf):
    made = []
    for module_name in ALLAUTH_FORMS:
        module = importlib.import_module(module_name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if not issubclass(cls, forms.BaseForm) or not cls.__module__.startswith("allauth"):
                continue
            for kwargs in ({}, {"user": user}, {"request": rf}):
                try:
                    made.append(cls(**kwargs))
                    break
                except (TypeError, KeyError, AttributeError, ValueError):
                    continue
    return made


def _rendered_both_ways(form):
    """The form as the page shows it, blank and after an empty submit (with its errors)."""
    states = [form]
    bound = type(form).__new__(type(form))
    bound.__dict__.update(form.__dict__)
    bound.data, bound.is_bound, bound._errors = {}, True, None
    bound.full_clean()
    states.append(bound)
    for state in states:
        state.renderer = RapportFormRenderer()
        ours = str(state)
        state.renderer = DjangoEngineRenderer()
        yield ours, str(state), f"{type(form).__name__} ({'bound' if state.is_bound else 'blank'})"


@pytest.mark.django_db
def test_every_form_renders_as_with_django_templates(coach, relationship, organisation, rf):
    request = rf.get("/")
    request.user = coach
    request.session = {}
    ours = _our_forms(coach, relationship, organisation)
    theirs = _allauth_forms(coach, request)
    assert len(theirs) >= 10, [type(f).__name__ for f in theirs]
    option_labels = 0
    for form in ours + theirs:
        for actual, expected, where in _rendered_both_ways(form):
            parsed = assert_same(actual, expected, where)
            option_labels += len(parsed.option_labels)
            assert not parsed.texts_outside_hx_disable, f"{where}: typed text outside hx-disable"
            # The Jinja2 form and field templates: labels, help texts and errors there.
            # (A form of hidden fields only, like allauth's passkey forms, shows no text.)
            visible = [f for f in form.fields.values() if not f.widget.is_hidden]
            assert "hx-disable>" in actual or not visible, where
            if form.is_bound and form.errors:
                assert 'class="field-errors"' in actual or 'class="form-errors"' in actual, where
    assert option_labels > 50  # the radios of the check-in and the integrity self-check


def test_form_and_field_templates_are_jinja2_and_keep_djangos_safe_html():
    """Django's lazy SafeString help text (the password rules, a <ul>) stays markup; a
    hostile label, help text and error are escaped, inside hx-disable."""
    from allauth.account.forms import SetPasswordForm

    html = str(SetPasswordForm(user=None))
    assert '<div class="help" id="id_password1_helptext" hx-disable><ul><li>' in html
    form = reflection_forms.RetentionForm(data={})
    field = next(iter(form.fields))
    form.fields[field].label = HOSTILE
    form.fields[field].help_text = HOSTILE
    form.add_error(None, HOSTILE)
    form.add_error(field, HOSTILE)
    html = str(form)
    assert "<i data-hostile" not in html
    assert html.count("&lt;i data-hostile") == 4
    assert not tree(html).texts_outside_hx_disable
    renderer = RapportFormRenderer()
    assert renderer.jinja2_env.get_template("forms/form.html")
    assert renderer.jinja2_env.get_template("forms/field.html")


def test_typed_text_in_a_choice_label_is_escaped_and_inert():
    form = reflection_forms.CheckInForm(other_name=HOSTILE)
    form.fields["shared"].widget = forms.CheckboxSelectMultiple(choices=[("1", HOSTILE)])
    html = str(form)
    assert "<i data-hostile" not in html
    assert "&lt;i data-hostile" in html
    assert all(tree(html).option_labels)
