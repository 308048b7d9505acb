import uuid

from django.core.exceptions import ValidationError
from django.forms.renderers import TemplatesSetting


class RapportFormRenderer(TemplatesSetting):
    """Every form, ours and allauth's, renders its fields with our templates."""

    form_template_name = "forms/form.html"
    field_template_name = "forms/field.html"


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
