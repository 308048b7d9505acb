"""Action items, everywhere (issue 17): either person changes an item's text, owner and
due date, both see what changed, and each person has one list of everything they owe."""

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from relationships.models import CoachingRelationship
from tests.factories import ActionItemFactory, RelationshipFactory, SessionFactory
from tests.helpers import text

pytestmark = pytest.mark.django_db


def _edit(client, item, **changes):
    data = {
        "text": item.text,
        "owner": item.owner,
        "due_on": item.due_on.isoformat() if item.due_on else "",
        "version": item.version,
        **changes,
    }
    return client.post(reverse("action_item_edit", args=[item.public_id]), data)


def _page(client, relationship):
    return text(client.get(reverse("relationship_detail", args=[relationship.public_id])))


def test_either_person_edits_and_both_see_what_changed(client, relationship):
    item = ActionItemFactory(relationship=relationship, owner="coach", text="Share the roadmap")
    new_due = timezone.localdate() + timedelta(days=9)
    client.force_login(relationship.coachee)

    form = client.get(reverse("action_item_edit", args=[item.public_id]))
    assert form.status_code == 200
    assert 'value="Share the roadmap"' in form.content.decode()
    response = _edit(client, item, due_on=new_due.isoformat())

    assert response.status_code == 302
    assert response["Location"].endswith(f"/relationships/{relationship.public_id}/#actions")
    item.refresh_from_db()
    assert (item.due_on, item.version, item.changed_by) == (new_due, 2, relationship.coachee)
    moved = f"moved the due date to {new_due.day} {new_due:%b}"
    assert f"You {moved}" in _page(client, relationship)
    client.force_login(relationship.coach)
    assert f"{relationship.coachee.name} {moved}" in _page(client, relationship)


def test_text_and_owner_changes_are_named_without_the_old_text(coach_client, relationship):
    item = ActionItemFactory(relationship=relationship, owner="coach", text="Old words")

    _edit(coach_client, item, text="New words", owner="coachee")

    item.refresh_from_db()
    assert (item.text, item.owner, item.changed_fields) == ("New words", "coachee", "text,owner")
    page = _page(coach_client, relationship)
    assert f"You changed the text and gave it to {relationship.coachee.name}" in page
    assert "Old words" not in page


def test_saving_without_a_change_records_none(coach_client, relationship):
    item = ActionItemFactory(relationship=relationship)

    _edit(coach_client, item)

    item.refresh_from_db()
    assert (item.version, item.changed_by, item.changed_fields) == (1, None, "")


def test_an_overdue_item_keeps_its_date_when_its_text_changes(coach_client, relationship):
    with time_machine.travel(timezone.now() - timedelta(days=20)):
        item = ActionItemFactory(
            relationship=relationship, due_on=timezone.localdate() + timedelta(days=3)
        )
    item.refresh_from_db()
    assert item.is_overdue

    response = _edit(coach_client, item, text="Still to do")

    assert response.status_code == 302
    item.refresh_from_db()
    assert item.text == "Still to do"


def test_a_new_past_due_date_is_explained_beside_the_field(coach_client, relationship):
    item = ActionItemFactory(relationship=relationship)
    yesterday = timezone.localdate() - timedelta(days=1)

    response = _edit(coach_client, item, due_on=yesterday.isoformat())

    assert response.status_code == 200
    assert "Choose a due date from today" in text(response)
    item.refresh_from_db()
    assert (item.due_on, item.version) == (None, 1)


def test_two_people_editing_at_once_lose_nothing(client, relationship):
    item = ActionItemFactory(relationship=relationship, text="Plan the offsite")
    client.force_login(relationship.coach)
    opened_at = item.version
    client.force_login(relationship.coachee)
    _edit(client, item, text="Plan the offsite in May")

    client.force_login(relationship.coach)
    response = _edit(client, item, text="Plan the offsite in June", version=opened_at)

    assert response.status_code == 409
    page = text(response)
    assert "was changed since you opened it" in page
    assert "Plan the offsite in May" in page, "the latest saved version is shown"
    assert 'value="Plan the offsite in June"' in response.content.decode(), "their text stays"
    item.refresh_from_db()
    assert item.text == "Plan the offsite in May"


def test_bad_input_is_explained_and_nothing_changes(coach_client, relationship):
    item = ActionItemFactory(relationship=relationship, text="Keep me")

    response = _edit(coach_client, item, text="", owner="boss", due_on="soon", version="x")

    assert response.status_code == 200
    page = text(response)
    assert "This field is required." in page and "Enter a valid date." in page
    item.refresh_from_db()
    assert (item.text, item.version) == ("Keep me", 1)


def test_a_done_item_or_an_ended_relationship_cannot_change(coach_client, relationship):
    done = ActionItemFactory(relationship=relationship, done_at=timezone.now(), text="Done thing")

    response = coach_client.post(
        reverse("action_item_edit", args=[done.public_id]),
        {"text": "Rewritten", "owner": "coach", "version": 1},
        follow=True,
    )

    assert "mark it not done yet to change it" in text(response)
    relationship.status = CoachingRelationship.Status.ENDED
    relationship.save()
    item = ActionItemFactory(relationship=relationship)
    response = coach_client.get(reverse("action_item_edit", args=[item.public_id]), follow=True)
    assert "its action items can no longer change" in text(response)
    done.refresh_from_db()
    assert done.text == "Done thing"


def test_another_pairs_item_is_a_404_to_edit(other_coach_client, relationship):
    item = ActionItemFactory(relationship=relationship, text="Not yours")

    assert (
        other_coach_client.get(reverse("action_item_edit", args=[item.public_id])).status_code
        == 404
    )
    assert _edit(other_coach_client, item, text="Hijacked").status_code == 404
    item.refresh_from_db()
    assert item.text == "Not yours"


def test_an_edit_from_the_session_page_returns_there(coach_client, relationship):
    session = SessionFactory(relationship=relationship)
    item = ActionItemFactory(relationship=relationship, session=session)

    page = coach_client.get(reverse("session_detail", args=[session.public_id]))
    assert f"/actions/{item.public_id}/edit/?back=session" in page.content.decode()
    response = coach_client.post(
        reverse("action_item_edit", args=[item.public_id]),
        {"text": "Changed", "owner": item.owner, "version": 1, "back": "session"},
    )

    assert response["Location"] == reverse("session_detail", args=[session.public_id]) + "#actions"


# --- My action items ----------------------------------------------------------------


def test_my_action_items_lists_what_i_owe_everywhere_overdue_first(client, relationship):
    coachee = relationship.coachee
    # coachee coaches someone else too: what they owe there as coach counts.
    second = RelationshipFactory(organisation=relationship.organisation, coach=coachee)
    today = timezone.localdate()
    with time_machine.travel(timezone.now() - timedelta(days=10)):
        overdue = ActionItemFactory(
            relationship=relationship, owner="coachee", text="Late one", due_on=today
        )
    overdue.due_on = today - timedelta(days=2)
    overdue.save()
    ActionItemFactory(
        relationship=second, owner="coach", text="Soon one", due_on=today + timedelta(days=1)
    )
    ActionItemFactory(relationship=relationship, owner="coachee", text="Someday one")
    ActionItemFactory(relationship=relationship, owner="coach", text="The coach owes this")
    ActionItemFactory(relationship=second, owner="coachee", text="Their coachee owes this")
    ActionItemFactory(
        relationship=relationship, owner="coachee", text="Already done", done_at=timezone.now()
    )
    ended = RelationshipFactory(
        organisation=relationship.organisation, coachee=coachee, status="ended"
    )
    ActionItemFactory(relationship=ended, owner="coachee", text="From an ended one")
    client.force_login(coachee)

    page = text(client.get(reverse("my_action_items")))

    assert page.index("Late one") < page.index("Soon one") < page.index("Someday one")
    assert "Overdue (1)" in page and "Coming up (1)" in page and "No due date (1)" in page
    for absent in (
        "The coach owes this",
        "Their coachee owes this",
        "Already done",
        "From an ended one",
    ):
        assert absent not in page
    assert f"Coached by {relationship.coach.name}" in page
    assert f"Coaching {second.coachee.name}" in page


def test_marking_done_from_my_action_items_returns_there(coachee_client, relationship):
    item = ActionItemFactory(relationship=relationship, owner="coachee", text="Tick me")

    response = coachee_client.post(
        reverse("action_item_done", args=[item.public_id]), {"done": "1", "back": "mine"}
    )

    assert response["Location"] == reverse("my_action_items")
    page = text(coachee_client.get(response["Location"]))
    assert "Marked done." in page and "Tick me" not in page
    assert "you have no open action items" in page


def test_my_action_items_is_in_the_navigation(coachee_client):
    page = coachee_client.get(reverse("my_action_items")).content.decode()

    assert '<a href="/actions/" aria-current="page">Action items</a>' in page
