import uuid
from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from relationships.models import ActionItem
from tests.factories import ActionItemFactory, SessionFactory
from tests.helpers import text

pytestmark = pytest.mark.django_db


def _add(client, relationship, headers=None, **data):
    return client.post(
        reverse("action_item_create", args=[relationship.public_id]),
        {"text": "Share the roadmap", "owner": "coach", "client_token": uuid.uuid4(), **data},
        headers=headers,
    )


def test_either_party_adds_action_items_for_either_owner(client, relationship):
    client.force_login(relationship.coachee)
    due = timezone.localdate() + timedelta(days=4)
    _add(client, relationship, text="Draft my goals", owner="coachee", due_on=due.isoformat())
    _add(client, relationship, text="Book the training", owner="coach")

    items = {i.text: i for i in ActionItem.objects.all()}
    assert items["Draft my goals"].owner == "coachee"
    assert items["Draft my goals"].due_on == due
    assert items["Book the training"].owner == "coach"
    client.force_login(relationship.coach)
    page = text(client.get(reverse("relationship_detail", args=[relationship.public_id])))
    assert "Draft my goals" in page and "Book the training" in page


def test_double_submit_adds_one_item(coach_client, relationship):
    token = uuid.uuid4()
    _add(coach_client, relationship, client_token=token)
    _add(coach_client, relationship, client_token=token)

    assert ActionItem.objects.count() == 1


def test_the_owner_marks_an_item_done_inline_with_htmx(client, relationship):
    item = ActionItemFactory(relationship=relationship, owner="coachee", text="Read the book")
    client.force_login(relationship.coachee)

    response = client.post(
        reverse("action_item_done", args=[item.public_id]),
        {"done": "1"},
        headers={"HX-Request": "true"},
    )

    html = response.content.decode()
    assert html.lstrip().startswith('<section id="actions"')
    assert "Done (1)" in text(response)
    item.refresh_from_db()
    assert item.is_done

    client.post(reverse("action_item_done", args=[item.public_id]), {"done": "0"})
    item.refresh_from_db()
    assert not item.is_done


def test_only_the_owner_can_tick_an_item(coach_client, relationship):
    item = ActionItemFactory(relationship=relationship, owner="coachee")

    response = coach_client.post(
        reverse("action_item_done", args=[item.public_id]), {"done": "1"}, follow=True
    )

    assert "Only the person who owns this item can mark it done." in text(response)
    item.refresh_from_db()
    assert not item.is_done


def test_another_pairs_item_is_a_404_and_unchanged(other_coach_client, relationship):
    item = ActionItemFactory(relationship=relationship)

    response = other_coach_client.post(
        reverse("action_item_done", args=[item.public_id]), {"done": "1"}
    )
    added = _add(other_coach_client, relationship)

    assert (response.status_code, added.status_code) == (404, 404)
    item.refresh_from_db()
    assert item.done_at is None
    assert ActionItem.objects.count() == 1


def test_bad_input_is_explained_without_losing_the_page(coach_client, relationship):
    response = _add(coach_client, relationship, text="", owner="boss", due_on="soon")

    page = text(coach_client.get(response["Location"]))
    assert "The action item wasn't added" in page
    assert "Enter a valid date." in page
    assert not ActionItem.objects.exists()


def test_htmx_bad_input_shows_errors_in_the_region(coach_client, relationship):
    response = _add(
        coach_client, relationship, text="", owner="coach", headers={"HX-Request": "true"}
    )

    assert response.status_code == 200
    assert "This field is required." in text(response)


def test_follow_through_counts_the_coachs_items_done_by_their_due_date(coach_client, relationship):
    today = timezone.localdate()
    on_time = ActionItemFactory(
        relationship=relationship, owner="coach", due_on=today - timedelta(days=3)
    )
    on_time.done_at = timezone.now() - timedelta(days=5)
    on_time.save()
    late = ActionItemFactory(
        relationship=relationship, owner="coach", due_on=today - timedelta(days=10)
    )
    late.done_at = timezone.now() - timedelta(days=2)
    late.save()
    ActionItemFactory(relationship=relationship, owner="coach", due_on=today - timedelta(days=1))
    ActionItemFactory(relationship=relationship, owner="coach", due_on=today + timedelta(days=7))
    ActionItemFactory(relationship=relationship, owner="coachee", due_on=today - timedelta(days=1))

    page = text(coach_client.get(reverse("relationship_detail", args=[relationship.public_id])))

    assert "33% 1 of 3 commitments that came due were done on time." in page


def test_the_coachee_sees_the_coachs_follow_through(client, relationship):
    ActionItemFactory(
        relationship=relationship, owner="coach", due_on=timezone.localdate() - timedelta(days=1)
    )
    client.force_login(relationship.coachee)

    page = text(client.get(reverse("relationship_detail", args=[relationship.public_id])))

    assert "Casey Coach's follow-through" in page
    assert "0% 0 of 1 commitment that came due was done on time." in page


def test_an_item_becomes_overdue_after_its_due_date(coach_client, relationship):
    ActionItemFactory(relationship=relationship, text="Call Sam", due_on=timezone.localdate())

    with time_machine.travel(timezone.now() + timedelta(days=2)):
        page = text(coach_client.get(reverse("relationship_detail", args=[relationship.public_id])))

    assert "(overdue)" in page


def test_items_logged_on_a_session_show_on_it(coach_client, relationship):
    session = SessionFactory(relationship=relationship)
    _add(coach_client, relationship, text="From the session", session=session.public_id)

    page = text(coach_client.get(reverse("session_detail", args=[session.public_id])))

    assert ActionItem.objects.get().session == session
    assert "From the session" in page


# --- Dates that cannot be right (issue 14, bug 4) ------------------------------------


def test_attack_a_due_date_in_1999_lowers_the_coachs_follow_through(coach_client, relationship):
    response = _add(coach_client, relationship, text="Back-dated", due_on="1999-01-01")

    page = text(coach_client.get(response["Location"]))
    assert "The action item wasn't added" in page
    assert f"Choose a due date from today ({timezone.localdate():%-d %B %Y}) on" in page
    assert not ActionItem.objects.exists()
    assert "commitments that came due" not in page and "commitment that came due" not in page


def test_a_past_due_date_is_explained_beside_the_field_with_htmx(coach_client, relationship):
    yesterday = timezone.localdate() - timedelta(days=1)

    response = _add(
        coach_client, relationship, due_on=yesterday.isoformat(), headers={"HX-Request": "true"}
    )

    assert response.status_code == 200
    assert "Choose a due date from today" in text(response)
    assert not ActionItem.objects.exists()


def test_a_due_date_today_or_soon_is_fine_and_2999_is_not(coach_client, relationship):
    _add(coach_client, relationship, text="Today", due_on=timezone.localdate().isoformat())
    response = _add(coach_client, relationship, text="Far", due_on="2999-01-01")

    assert [item.text for item in ActionItem.objects.all()] == ["Today"]
    assert "Choose a due date within the next 5 years." in text(
        coach_client.get(response["Location"])
    )


def test_existing_items_with_past_due_dates_still_show_and_can_be_ticked(
    coach_client, relationship
):
    item = ActionItemFactory(
        relationship=relationship, owner="coach", due_on=timezone.localdate() - timedelta(days=30)
    )

    response = coach_client.post(reverse("action_item_done", args=[item.public_id]), {"done": "1"})

    assert response.status_code in (200, 302)
    item.refresh_from_db()
    assert item.done_at is not None
