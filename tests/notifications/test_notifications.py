"""Notifications (issue 17): each person is told in Rapport what the other did that
concerns them, and what is due; by email, the day before a session and (if they ask) in
a morning digest. Never the words themselves: names, dates and a link."""

import uuid
from datetime import UTC, date, datetime, timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.urls import reverse

from notifications.models import Notification
from outbox.models import OutgoingEmail
from relationships.models import ScheduledSession
from tests.factories import (
    ActionItemFactory,
    CheckInRoundFactory,
    RelationshipFactory,
    ScheduledSessionFactory,
    SessionFactory,
    TalkingPointFactory,
    UserFactory,
)
from tests.helpers import text

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)  # a Monday


def _told(person) -> list[str]:
    return [n.message for n in Notification.objects.filter(recipient=person)]


def _emails(template) -> list[dict]:
    return [
        e.message | {"to": e.recipients} for e in OutgoingEmail.objects.filter(template=template)
    ]


@pytest.mark.travel(NOW)
def test_a_shared_talking_point_is_told_with_a_counter_and_opening_it_marks_it_read(
    client, relationship
):
    coach, coachee = relationship.coach, relationship.coachee
    scheduled = ScheduledSessionFactory(relationship=relationship)
    client.force_login(coach)
    for words, visibility in (("Secret shared words", "shared"), ("Private words", "private")):
        client.post(
            reverse("talking_point_add", args=[scheduled.public_id]),
            {"text": words, "visibility": visibility, "client_token": str(uuid.uuid4())},
        )

    assert _told(coach) == []
    assert _told(coachee) == [
        f"{coach.name} added a talking point for your session on Wednesday 2 December"
    ]
    client.force_login(coachee)
    home = text(client.get(reverse("home")))
    assert "Notifications 1 unread" in home
    page = client.get(reverse("notification_list"))
    assert "Secret shared words" not in page.content.decode()
    assert "Unread" in text(page)
    notification = Notification.objects.get()
    opened = client.get(reverse("notification_open", args=[notification.public_id]))
    assert opened["Location"] == reverse("scheduled_detail", args=[scheduled.public_id]) + "#agenda"
    notification.refresh_from_db()
    assert notification.read_at == NOW
    assert "Notifications 1 unread" not in text(client.get(reverse("home")))


@pytest.mark.travel(NOW)
def test_a_note_is_told_when_it_is_shared_once_and_a_private_one_never(client, relationship):
    coach, coachee = relationship.coach, relationship.coachee
    client.force_login(coach)
    create = reverse("note_create", args=[relationship.public_id])
    client.post(
        create, {"body": "Mine", "visibility": "private", "client_token": str(uuid.uuid4())}
    )
    assert _told(coachee) == []
    client.post(create, {"body": "Ours", "visibility": "shared", "client_token": str(uuid.uuid4())})
    assert _told(coachee) == [f"{coach.name} shared a note with you"]

    private = coach.notes.get(visibility="private")
    for _ in range(2):  # made shared, and edited again: told once for this note
        private.refresh_from_db()
        client.post(
            reverse("note_edit", args=[private.public_id]),
            {
                "body": "Now ours",
                "visibility": "shared",
                "version": private.version,
                "client_token": str(uuid.uuid4()),
            },
        )
    assert len(_told(coachee)) == 2


@pytest.mark.travel(NOW)
def test_an_item_given_or_changed_is_told_to_the_other_person_without_its_text(
    client, relationship
):
    coach, coachee = relationship.coach, relationship.coachee
    client.force_login(coach)
    client.post(
        reverse("action_item_create", args=[relationship.public_id]),
        {"text": "Hidden item words", "owner": "coachee", "client_token": str(uuid.uuid4())},
    )
    item = relationship.action_items.get()
    client.post(
        reverse("action_item_edit", args=[item.public_id]),
        {"text": "Hidden item words", "owner": "coachee", "due_on": "2026-12-12", "version": 1},
    )

    assert _told(coachee) == [
        f"{coach.name} changed an action item: its due date",
        f"{coach.name} gave you an action item",
    ]
    assert not any("Hidden" in m for m in _told(coachee))
    assert _told(coach) == []


@pytest.mark.travel(NOW)
def test_scheduling_moving_and_cancelling_are_told_to_the_other_person(client, relationship):
    coach, coachee = relationship.coach, relationship.coachee
    client.force_login(coach)
    client.post(
        reverse("session_schedule", args=[relationship.public_id]),
        {"day": "2026-12-03", "start_time": "10:00", "duration_minutes": "45", "cadence": "once"},
    )
    scheduled = ScheduledSession.objects.get()
    client.post(
        reverse("scheduled_move", args=[scheduled.public_id]),
        {"day": "2026-12-04", "start_time": "11:00", "duration_minutes": "45", "version": 1},
    )
    client.post(reverse("scheduled_cancel", args=[scheduled.public_id]))

    assert _told(coachee) == [
        f"{coach.name} cancelled a session with you: Friday 4 December 2026, 11:00–11:45 (UTC)",
        f"{coach.name} moved a session with you: Friday 4 December 2026, 11:00–11:45 (UTC)",
        f"{coach.name} scheduled a session with you: Thursday 3 December 2026, 10:00–10:45 (UTC)",
    ]
    assert _told(coach) == []


def test_an_invitation_and_an_open_check_in_are_told(client, coach, coachee):
    client.force_login(coach)
    client.post(
        reverse("relationship_invite"),
        {"coachee": str(coachee.public_id), "purpose": "Grow", "email": ""},
    )
    assert _told(coachee) == [
        f"{coach.name} would like to coach you: accept or decline the invitation"
    ]
    relationship = RelationshipFactory()
    CheckInRoundFactory(relationship=relationship)
    call_command("run_checkins", stdout=StringIO())
    call_command("run_checkins", stdout=StringIO())
    assert "A check-in is open: how is it going?" in _told(relationship.coachee)
    assert len([m for m in _told(relationship.coachee) if "check-in" in m]) == 1


def test_the_owner_of_an_item_due_tomorrow_is_told_once(relationship):
    ActionItemFactory(relationship=relationship, owner="coachee", due_on=date(2026, 12, 1))
    ActionItemFactory(relationship=relationship, owner="coachee", due_on=date(2026, 12, 5))
    ActionItemFactory(
        relationship=relationship, owner="coachee", due_on=date(2026, 12, 1), done_at=NOW
    )

    with time_machine.travel(NOW, tick=False):
        call_command("run_checkins", stdout=StringIO())
        call_command("run_checkins", stdout=StringIO())

    assert _told(relationship.coachee) == ["An action item you own is due tomorrow"]
    assert Notification.objects.get(kind="item_due").link == reverse("my_action_items")


def test_both_people_get_one_reminder_the_day_before_and_another_if_it_moves(relationship):
    with time_machine.travel(NOW, tick=False):
        scheduled = ScheduledSessionFactory(relationship=relationship)  # Wed 2 Dec, 10:00
        TalkingPointFactory(scheduled=scheduled, text="Reminder-secret point")
        SessionFactory(
            relationship=relationship, held_on=date(2026, 11, 20), agenda="Agenda-secret words"
        )
    with time_machine.travel(NOW + timedelta(hours=12), tick=False):
        call_command("run_checkins", stdout=StringIO())
    assert _emails("notifications/email/reminder.txt") == []  # two days before: not yet

    with time_machine.travel(NOW + timedelta(days=1, hours=2), tick=False):
        call_command("run_checkins", stdout=StringIO())
        call_command("run_checkins", stdout=StringIO())
        reminders = _emails("notifications/email/reminder.txt")
        assert sorted(r["to"][0] for r in reminders) == sorted(
            [relationship.coach.email, relationship.coachee.email]
        )
        assert "Wednesday 2 December 2026, 10:00–10:45 (UTC)" in reminders[0]["body"]
        assert "talking points" in reminders[0]["body"]
        for reminder in reminders:
            assert "secret" not in reminder["body"] + reminder["subject"]
        ScheduledSession.objects.filter(pk=scheduled.pk).update(
            starts_at=scheduled.starts_at - timedelta(hours=1),
            ends_at=scheduled.ends_at - timedelta(hours=1),
        )
        call_command("run_checkins", stdout=StringIO())
    assert len(_emails("notifications/email/reminder.txt")) == 4


def test_the_daily_digest_is_off_by_default_and_once_a_morning_when_on(client, relationship):
    coachee = relationship.coachee
    with time_machine.travel(NOW, tick=False):
        scheduled = ScheduledSessionFactory(relationship=relationship)
        client.force_login(relationship.coach)
        client.post(
            reverse("talking_point_add", args=[scheduled.public_id]),
            {"text": "Digest-secret", "visibility": "shared", "client_token": str(uuid.uuid4())},
        )
    tomorrow_morning = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    with time_machine.travel(tomorrow_morning, tick=False):
        call_command("run_checkins", stdout=StringIO())
        assert _emails("notifications/email/digest.txt") == []

        client.force_login(coachee)
        response = client.post(reverse("digest_settings"), {"digest": "on"}, follow=True)
        assert "The daily digest is on." in text(response)
        call_command("run_checkins", stdout=StringIO())
        call_command("run_checkins", stdout=StringIO())

    (digest,) = _emails("notifications/email/digest.txt")
    assert digest["to"] == [coachee.email]
    assert f"- {relationship.coach.name} added a talking point" in digest["body"]
    assert "Digest-secret" not in digest["body"] and "Digest-secret" not in digest["subject"]


@pytest.mark.travel(NOW)
def test_mark_all_read_and_a_page_past_the_end(client, relationship):
    coachee = relationship.coachee
    for n in range(35):
        Notification.objects.create(
            recipient=coachee, actor=relationship.coach, kind="shared_note",
            verb=f"shared note {n}", link="/", key=f"k{n}",
        )  # fmt: skip
    Notification.objects.create(
        recipient=UserFactory(), kind="checkin_due", verb="someone else's", link="/", key="x"
    )
    client.force_login(coachee)

    assert "Notifications 35 unread" in text(client.get(reverse("home")))
    assert "Page 2 of 2" in text(client.get(reverse("notification_list"), {"page": "99"}))
    assert "Page 1 of 2" in text(client.get(reverse("notification_list"), {"page": "x"}))
    response = client.post(reverse("notifications_mark_read"), follow=True)
    assert "All marked read." in text(response)
    assert "Mark all read" not in text(response)
    assert Notification.objects.filter(read_at__isnull=True).count() == 1  # not theirs


def test_old_notifications_are_deleted_read_ones_sooner(relationship):
    coachee = relationship.coachee

    def told(key, created, read=None):
        return Notification.objects.create(
            recipient=coachee, kind="checkin_due", verb="a check-in is open", link="/",
            key=key, created_at=created, read_at=read,
        )  # fmt: skip

    kept_unread = told("unread", NOW - timedelta(days=200))
    told("read long ago", NOW - timedelta(days=100), read=NOW - timedelta(days=95))
    kept_read = told("read lately", NOW - timedelta(days=100), read=NOW - timedelta(days=10))
    told("a year old", NOW - timedelta(days=400))

    with time_machine.travel(NOW, tick=False):
        call_command("run_checkins", stdout=StringIO())

    assert set(Notification.objects.all()) == {kept_unread, kept_read}
