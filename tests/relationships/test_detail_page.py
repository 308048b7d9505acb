"""The relationship page renders with Jinja2 (jinja2/relationships/detail.html, issue 15),
its sessions' days and links formatted in Python: they must read as Django's `date`
filter and `{% url %}` did, and what is due now stays above the history."""

from datetime import date, timedelta

import pytest
from django.template.defaultfilters import date as date_filter
from django.urls import reverse
from django.utils import timezone

from tests.factories import ActionItemFactory, SessionFactory

pytestmark = pytest.mark.django_db


def test_sessions_read_as_the_date_filter_and_url_tag(coach_client, relationship):
    sessions = [
        SessionFactory(relationship=relationship, held_on=date(2026, month, 9), duration_minutes=50)
        for month in (1, 2, 9)
    ]
    html = coach_client.get(reverse("relationship_detail", args=[relationship.public_id]))
    html = html.content.decode()
    for session in sessions:
        link = reverse("session_detail", args=[session.public_id])
        day = date_filter(session.held_on, "j F Y")
        assert f'<a href="{link}"><strong>{day}</strong></a>' in html
    assert "9 September 2026" in html and "50 min · 0 notes" in html
    # Newest first.
    assert html.index("9 September 2026") < html.index("9 February 2026")


def test_overdue_items_are_due_now_with_their_day(coach_client, relationship):
    due_on = timezone.localdate() - timedelta(days=3)
    ActionItemFactory(
        relationship=relationship, owner="coach", text="Late <b>one</b>", due_on=due_on
    )
    html = coach_client.get(reverse("relationship_detail", args=[relationship.public_id]))
    html = html.content.decode()
    due = html[html.index('<section id="due"') : html.index('<section class="card purpose"')]
    assert "1 of your action items is overdue:" in due
    assert (
        f'Late &lt;b&gt;one&lt;/b&gt; <span class="muted">· due {date_filter(due_on, "j M Y")}'
        in due
    )
    assert "Mark it done" in due and "<b>one" not in html
