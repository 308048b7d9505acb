from django.forms.renderers import TemplatesSetting


class RapportFormRenderer(TemplatesSetting):
    """Every form, ours and allauth's, renders its fields with our templates."""

    form_template_name = "forms/form.html"
    field_template_name = "forms/field.html"
