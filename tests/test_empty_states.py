"""Before there is anything to show, each page says what the next step is."""

from django.urls import reverse

from tests.helpers import text


def test_a_new_coach_with_no_coachees_is_told_how_to_start(coach_client):
    page = text(coach_client.get(reverse("relationship_list")))

    assert "You don't coach anyone yet. Invite a colleague" in page


def test_a_relationship_with_no_sessions_suggests_the_first(coach_client, relationship):
    page = text(coach_client.get(reverse("relationship_detail", args=[relationship.public_id])))

    assert "No sessions yet. Start with Recast the past" in page
    assert "Log your first session" in page


def test_the_hr_dashboard_before_the_first_closed_month_explains_why_it_is_empty(hr_client):
    page = text(hr_client.get(reverse("insights_dashboard")))

    assert "Nothing to publish yet. Trends appear once a month has closed" in page


def test_an_empty_journal_offers_a_first_question(coach_client):
    page = text(coach_client.get(reverse("journal")))

    assert "No entries yet. Start with a question" in page
