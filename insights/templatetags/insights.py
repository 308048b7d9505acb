"""The dashboard's longer tables, row by row in Python. Built from template tags, each
cell cost more than the figure in it (issue 15): the figures arrive formatted
(insights.selectors.Figure), and _escaped escapes the rest, team names included, as
format_html_join did."""

from html import escape

from django import template
from django.utils.functional import Promise
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


def _escaped(value) -> str:
    """Django's conditional_escape, without its lazy-string wrapper (a few hundred
    calls a page): markup marked safe stays, anything else is escaped."""
    if isinstance(value, Promise):
        value = str(value)
    if hasattr(value, "__html__"):
        return value.__html__()
    return escape(str(value))


def _rows(row_format: str, rows) -> SafeString:
    """format_html_join("\n", row_format, rows), the same escaping and the same markup."""
    return mark_safe(  # noqa: S308 (every value is escaped by _escaped)
        "\n".join(row_format.format(*map(_escaped, row)) for row in rows)
    )


@register.simple_tag
def month_table_rows(months):
    """The month-by-month table's rows, newest first."""
    return _rows(
        '<tr><th scope="row">{}</th><td>{}</td><td>{}</td><td>{}</td>'
        "<td>{}</td><td>{}</td><td>{}</td></tr>",
        (
            (
                month.title,
                *(cell.html for cell in month.trust),
                month.gap_text,
                *month.activity_html,
            )
            for month in reversed(months)
        ),
    )


@register.simple_tag
def team_table_rows(teams):
    """The by-team table's rows: the team's name, then a figure per perspective. The
    hx-disable: a team name is text someone typed (see templates/base.html)."""
    return _rows(
        '<tr><th scope="row" hx-disable>{}</th><td>{}</td><td>{}</td></tr>',
        ((team.label, *(cell.html for cell in team.shown)) for team in teams),
    )
