import uuid

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
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
