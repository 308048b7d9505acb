import uuid
from pathlib import Path

import django.forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.forms.renderers import TemplatesSetting
from django.template.backends.jinja2 import Jinja2
from django.utils.functional import cached_property

import jinja2

WIDGETS = "django/forms/widgets/"
# Rendered with Jinja2: the widgets, and our form and field templates (jinja2/forms/).
JINJA2 = (WIDGETS, "forms/")


class RapportFormRenderer(TemplatesSetting):
    """Every form, ours and allauth's, renders its fields with our templates.

    Widgets (django/forms/widgets/*) render with Jinja2: Django's own Jinja2 widget
    templates, overridden where we override them in jinja2/django/forms/widgets/.
    The Django engine loaded and rendered four templates for every radio option,
    about a third of the check-in form's time (issue 15). The same HTML:
    tests/test_form_rendering.py. Autoescape is on, as in every Django template.

    The form and field templates (jinja2/forms/form.html, field.html) are Jinja2 too:
    after the widgets they were the largest rendering cost of a page with forms. Error
    lists (django/forms/errors/*) stay Django templates; our templates loop over the
    errors themselves and never render one. The admin's widget templates
    (admin/widgets/*, no htmx there) stay too: they include Django's own widget
    templates in the Django engine.
    """

    form_template_name = "forms/form.html"
    field_template_name = "forms/field.html"

    @cached_property
    def jinja2_env(self) -> jinja2.Environment:
        return Jinja2(
            {
                "NAME": "form-templates",
                "DIRS": [
                    settings.BASE_DIR / "jinja2",
                    Path(django.forms.__file__).parent / "jinja2",
                ],
                "APP_DIRS": False,
                "OPTIONS": {"environment": "config.jinja2.environment"},
            }
        ).env

    def render(self, template_name, context, request=None):
        if template_name.startswith(JINJA2):
            try:
                template = self.jinja2_env.get_template(template_name)
            except jinja2.TemplateNotFound:
                pass  # a template only the Django engine has (none today)
            else:
                return template.render(context).strip()
        return super().render(template_name, context, request=request)


def apply_validation_error(form, error: ValidationError) -> None:
    """Show a service's validation errors on the form fields they name (or on the form)."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


def is_uuid(value) -> bool:
    """Whether a value from a form or query string is a well-formed UUID (a public id)."""
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def save_once(instance, same_form):
    """Save a new row made from a form with a one-time token; if the same form was
    saved at the same moment (a double submit racing on the unique constraint),
    return that row instead of failing."""
    try:
        with transaction.atomic():
            instance.save()
    except IntegrityError:
        return same_form.get()
    return instance
