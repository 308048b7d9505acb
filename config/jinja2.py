"""The Jinja2 environment: for the few hot partials and form widgets where Django's
template engine costs more than the page can afford (issue 15).

Autoescape is on (Django's Jinja2 backend turns it on by default, and
``environment()`` insists), so text a person typed is escaped exactly as in Django
templates; Django's SafeString (format_html, linebreaks) keeps working because it
has ``__html__``.
"""

from django.template import defaultfilters
from django.templatetags.static import static
from django.urls import reverse
from django.utils.timezone import template_localtime

from jinja2 import Environment


def url(name, *args, **kwargs):
    """``{{ url("app:name", arg) }}``: Django's ``{% url %}``."""
    return reverse(name, args=args or None, kwargs=kwargs or None)


def date(value, arg=None):
    """Django's ``|date``, in the current time zone as the Django engine shows it.

    For long loops, format in Python instead: this filter costs about as much as
    Django's."""
    return defaultfilters.date(template_localtime(value), arg)


def environment(**options):
    options.pop("autoescape", None)
    env = Environment(autoescape=True, **options)
    env.globals.update(static=static, url=url)
    env.filters.update(
        date=date,
        pluralize=defaultfilters.pluralize,
        linebreaks=defaultfilters.linebreaks_filter,
        default_if_none=defaultfilters.default_if_none,
        truncatechars=defaultfilters.truncatechars,
    )
    return env
