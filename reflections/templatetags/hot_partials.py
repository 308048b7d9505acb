"""`{% jinja_partial "name.html" %}`: a Django template's hot region, rendered by the
Jinja2 engine (jinja2/, config/jinja2.py) with the same context.

One template per page stays the rule. This is for the few regions whose loops cost
a page its budget with the Django engine (issue 15): the trend chart and its table
draw a hundred rounds, and the Django engine spent ~25 ms of CPU per page on them;
the relationship and session pages' notes and action items (a form per item) cost
them ~5 ms. The region stays a `{% partialdef %}` of its page, so htmx requests and
other pages reach it by the same name as before.
"""

from django import template
from django.template import engines
from django.template.defaultfilters import linebreaks_filter
from django.utils.html import format_html
from django.utils.safestring import mark_safe

register = template.Library()


@register.simple_tag(takes_context=True)
def jinja_partial(context, template_name: str):
    jinja = engines["jinja2"].env.get_template(template_name)

    def django_include(name: str, **values):
        """`{% include name with values %}` of the Django engine, from the Jinja2
        template: for small shared includes (messages, long text) that keep one source.
        Its output is the Django engine's, autoescaped there."""
        included = context.template.engine.get_template(name)
        with context.push(**values):
            return included.render(context)

    # Safe to mark: this is the Jinja2 engine's output, and that engine autoescapes
    # (config/jinja2.py insists), so text a person typed in it is already escaped.
    return mark_safe(  # noqa: S308
        jinja.render({**context.flatten(), "django_include": django_include})
    )


LONG_TEXT = 1200  # characters from which includes/long_text.html folds a text


@register.filter(needs_autoescape=True)
def long_text(text: str, autoescape=True):
    """`{{ text|long_text }}`: includes/long_text.html as a filter, the same markup, for
    loops (the journal's entries), where an include per row cost more than the row.
    Escaped by Django's linebreaks filter, as in the include; the caller keeps its
    hx-disable around it."""
    body = linebreaks_filter(text, autoescape)
    if len(text) <= LONG_TEXT:
        return body
    return format_html(
        '<details class="long-text">\n  <summary><span class="long-text-more">Show more</span>'
        '<span class="long-text-less">Show less</span></summary>\n'
        '  <div class="long-text-body">{}</div>\n</details>\n',
        body,
    )
