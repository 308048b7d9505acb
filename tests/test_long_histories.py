"""Pages that would grow with years of history show the latest part, with a way to all
of it: the relationship page (sessions, done items; its trend is the trend page's) and
the journal."""

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from tests.factories import (
    ActionItemFactory,
    CheckInResponseFactory,
    CheckInRoundFactory,
    ReflectionFactory,
    SessionFactory,
)
from tests.helpers import text

MARKER = ' r="5"><title>'  # one per round in the chart (the legend has its own)


def test_a_long_relationship_shows_its_latest_sessions_and_links_to_all(coach_client, relationship):
    today = timezone.localdate()
    for weeks in range(12):
        SessionFactory(relationship=relationship, held_on=today - timedelta(weeks=weeks))
    url = reverse("relationship_detail", args=[relationship.public_id])

    page = text(coach_client.get(url))
    everything = text(coach_client.get(url + "?history=all"))

    oldest = f"{today - timedelta(weeks=11):%-d %B %Y}"
    newest = f"{today:%-d %B %Y}"
    assert newest in page and oldest not in page
    assert "The latest 5 of 12. Show all 12 sessions" in page
    assert newest in everything and oldest in everything
    assert "Show all 12 sessions" not in everything


def test_done_action_items_show_the_latest_ten_and_count_them_all(coach_client, relationship):
    # Created newest-done first, so "latest done" and "latest created" differ.
    for days in reversed(range(13)):
        ActionItemFactory(
            relationship=relationship,
            text=f"Done thing {days}",
            done_at=timezone.now() - timedelta(days=30 - days),
        )
    url = reverse("relationship_detail", args=[relationship.public_id])

    page = text(coach_client.get(url))
    everything = text(coach_client.get(url + "?history=all"))

    assert "Done (13)" in page
    assert "Done thing 12" in page and "Done thing 0 " not in page
    assert "Show all 13 done" in page
    assert "Done thing 0 " in everything


def test_the_relationship_page_draws_its_chart_in_a_request_of_its_own(coach_client, relationship):
    today = timezone.localdate()
    for weeks in range(1, 31):
        past = CheckInRoundFactory(
            relationship=relationship,
            opens_on=today - timedelta(weeks=weeks),
            closed_at=timezone.now() - timedelta(weeks=weeks - 1),
        )
        CheckInResponseFactory(round=past, respondent=relationship.coach)
    url = reverse("relationship_detail", args=[relationship.public_id])
    trend_url = reverse("relationship_trend", args=[relationship.public_id])

    page = coach_client.get(url).content.decode()
    region = coach_client.get(trend_url, headers={"HX-Request": "true"}).content.decode()

    # The page reads no round to draw: its region asks the trend page for the chart
    # (htmx, when it scrolls into view), and links to it for a browser without JavaScript.
    assert page.count(MARKER) == 0
    assert f'hx-get="{trend_url}" hx-trigger="revealed" hx-swap="outerHTML"' in page
    assert f'<a href="{trend_url}">See how trust has moved over time</a>' in page
    # What htmx brings in: the region (same id, so it replaces the link), every round.
    assert region.lstrip().startswith('<section id="trend"') and "<html" not in region
    assert region.count(MARKER) == 30
    assert "Casey Coach 30 of 30" in region


def test_the_journal_comes_a_page_at_a_time(client, coach):
    now = timezone.now()
    for n in range(25):
        ReflectionFactory(author=coach, body=f"Entry number {n}.", created_at=now - timedelta(n))
    client.force_login(coach)

    first = text(client.get(reverse("journal")))
    second = text(client.get(reverse("journal") + "?page=2"))

    assert "Entry number 0." in first and "Entry number 19." in first
    assert "Entry number 20." not in first
    assert "Page 1 of 2" in first and "Older entries" in first
    assert "Entry number 24." in second and "Newer entries" in second
    for nonsense, shown in [("abc", 1), ("999", 2), ("-1", 2), ("", 1)]:
        response = client.get(reverse("journal"), {"page": nonsense})
        assert f"Page {shown} of 2" in text(response), nonsense


def test_unanswered_recent_rounds_do_not_empty_the_trend(coach_client, relationship):
    today = timezone.localdate()
    for weeks in range(1, 61):
        past = CheckInRoundFactory(
            relationship=relationship,
            opens_on=today - timedelta(weeks=weeks),
            closed_at=timezone.now() - timedelta(weeks=weeks - 1),
        )
        if weeks > 30:  # the latest thirty rounds went unanswered
            CheckInResponseFactory(round=past, respondent=relationship.coach)
    region = coach_client.get(
        reverse("relationship_trend", args=[relationship.public_id]),
        headers={"HX-Request": "true"},
    ).content.decode()

    assert region.count(MARKER) == 30
    assert "No check-ins yet" not in region
