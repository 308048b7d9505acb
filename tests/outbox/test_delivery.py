"""Email goes out through the outbox to a real SMTP server: queued with the change, sent by
a worker, retried while the server is down, delivered once (issue 16)."""

import time

import pytest
from django.core.management import call_command
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from outbox.models import OutgoingEmail
from reflections.services import reminders_send
from tests.factories import CheckInRoundFactory, NoteFactory, RelationshipFactory
from tests.outbox.conftest import drain

pytestmark = pytest.mark.django_db(transaction=True)
PRIVATE = "drinking-again-canary"


def _invite(hr_client, team, email):
    return hr_client.post(
        reverse("invitation_create"),
        {"invite-email": email, "invite-team": team.public_id, "invite-role": "member"},
    )


def test_an_invitation_a_reminder_and_an_allauth_email_arrive_over_smtp(
    real_outbox, hr_client, team, client, organisation
):
    relationship = RelationshipFactory(organisation=organisation, purpose=PRIVATE)
    NoteFactory(relationship=relationship, body=PRIVATE)
    round_ = CheckInRoundFactory(relationship=relationship)

    assert _invite(hr_client, team, "ivy@example.com").status_code == 302
    assert reminders_send(relationship, "https://rapport.example") == 2
    client.post(reverse("account_reset_password"), {"email": relationship.coach.email})
    assert real_outbox.received == [], "nothing is sent from the request"
    assert OutgoingEmail.objects.filter(status="queued").count() == 4

    drain()

    received = real_outbox.received
    assert sorted(tuple(m["to"]) for m in received) == sorted(
        [
            ("ivy@example.com",),
            (relationship.coach.email,),
            (relationship.coachee.email,),
            (relationship.coach.email,),
        ]
    )
    subjects = {m["subject"] for m in received}
    assert "Harper HR invited you to Acme Coaching on Rapport" in subjects
    assert any("[Rapport] Password Reset" in s or "password" in s.lower() for s in subjects)
    assert sum("Check-in with" in s for s in subjects) >= 1
    reminder = next(m for m in received if "Check-in with" in m["subject"])
    assert f"/checkins/{round_.public_id}/" in reminder["body"]
    for message in received:
        assert PRIVATE not in message["raw"]
    # One Message-ID per intent, and the stored message is erased once sent.
    sent = OutgoingEmail.objects.all()
    assert {f"<{e.public_id}@localhost>" for e in sent} == set(real_outbox.message_ids())
    assert all(e.status == "sent" and e.message_ciphertext == "" for e in sent)
    # The task table holds ids only.
    for task in DBTaskResult.objects.all():
        assert task.args_kwargs["args"] == [str(task.args_kwargs["args"][0])]
        assert PRIVATE not in str(task.args_kwargs) and "@" not in str(task.args_kwargs)


def test_with_the_mail_server_down_actions_succeed_and_email_follows_once(
    real_outbox, hr_client, team
):
    real_outbox.stop()
    addresses = [f"person{n}@example.com" for n in range(3)]
    for address in addresses:
        response = _invite(hr_client, team, address)
        assert response.status_code == 302, "the invitation is saved and the page says so"
    assert OutgoingEmail.objects.filter(status="queued").count() == 3

    drain()  # every attempt fails: connection refused
    emails = list(OutgoingEmail.objects.all())
    assert {(e.status, e.attempts) for e in emails} == {("queued", 1)}
    assert all("ConnectionRefusedError" in e.last_error for e in emails)
    assert all(e.message_ciphertext for e in emails), "kept until sent"

    real_outbox.start()
    time.sleep(1.3)  # the first retry is due after a second (with jitter, at most 1.2)
    drain()
    drain()  # nothing left to send twice
    assert sorted(m["to"][0] for m in real_outbox.received) == addresses
    assert len(set(real_outbox.message_ids())) == 3
    assert set(OutgoingEmail.objects.values_list("status", flat=True)) == {"sent"}


def test_a_refused_recipient_fails_for_good_shows_to_the_operator_and_can_be_retried(
    real_outbox, hr_client, team, capsys
):
    real_outbox.refuse.add("nobody@example.com")
    _invite(hr_client, team, "nobody@example.com")
    drain()
    email = OutgoingEmail.objects.get()
    assert (email.status, email.attempts) == ("failed", 1), "a 550 is not retried"
    assert "550" in email.last_error

    call_command("email_outbox", "list")
    listed = capsys.readouterr().out
    assert "nobody@example.com" in listed and "accounts/email/invitation.txt" in listed
    assert "accept" not in listed.lower(), "never the message"

    real_outbox.refuse.clear()
    call_command("email_outbox", "retry", str(email.public_id))
    drain()
    assert [m["to"] for m in real_outbox.received] == [["nobody@example.com"]]
    email.refresh_from_db()
    assert email.status == "sent"


def test_temporary_failures_stop_after_the_last_attempt(real_outbox, settings, hr_client, team):
    settings.RAPPORT_EMAIL_MAX_ATTEMPTS = 2
    real_outbox.stop()
    _invite(hr_client, team, "ivy@example.com")
    drain()
    time.sleep(1.3)
    drain()
    email = OutgoingEmail.objects.get()
    assert (email.status, email.attempts) == ("failed", 2)


def test_the_same_intent_queued_twice_is_one_email(real_outbox):
    from outbox.services import queue_email

    first = queue_email(to="a@example.com", subject="Hi", body="x", template="t", key="k:1")
    again = queue_email(to="a@example.com", subject="Hi", body="x", template="t", key="k:1")
    assert again.pk == first.pk
    drain()
    assert len(real_outbox.received) == 1


def test_a_subject_with_a_line_break_is_one_line(real_outbox):
    from outbox.services import queue_email

    queue_email(to="a@example.com", subject="Ivy\nBcc: x@evil.example", body="x", template="t")
    drain()
    (message,) = real_outbox.received
    assert message["to"] == ["a@example.com"]
    assert message["subject"] == "Ivy Bcc: x@evil.example"


def test_a_lost_task_is_swept_back_into_the_queue_and_sent_once(real_outbox, settings):
    """A worker died holding the email's task before claiming it: the email is still
    queued, its task will never run. Past the grace, the sweep queues it again."""
    from datetime import timedelta

    from django.utils import timezone

    from outbox.services import queue_email, requeue_stalled

    email = queue_email(to="a@example.com", subject="Hi", body="x", template="t")
    DBTaskResult.objects.update(status="RUNNING")  # taken by a worker that died
    drain()
    assert real_outbox.received == []
    assert requeue_stalled() == 0, "not yet: within the grace"

    # The grace has passed.
    OutgoingEmail.objects.update(lease_until=timezone.now() - timedelta(seconds=1))
    assert requeue_stalled() == 1
    drain()
    drain()
    assert [m["to"] for m in real_outbox.received] == [["a@example.com"]]
    email.refresh_from_db()
    assert (email.status, email.attempts) == ("sent", 1)


def test_a_send_interrupted_on_the_last_attempt_is_recorded_failed(real_outbox, settings):
    from datetime import timedelta

    from django.utils import timezone

    from outbox.services import queue_email, requeue_stalled

    settings.RAPPORT_EMAIL_MAX_ATTEMPTS = 1
    email = queue_email(to="a@example.com", subject="Hi", body="x", template="t")
    OutgoingEmail.objects.filter(pk=email.pk).update(status="sending", attempts=1)

    requeue_stalled(now=timezone.now() + timedelta(minutes=5))

    email.refresh_from_db()
    assert email.status == "failed" and "last attempt" in email.last_error


def test_renewing_or_revoking_an_invitation_cancels_its_unsent_email(real_outbox, hr_client, team):
    real_outbox.stop()
    _invite(hr_client, team, "ivy@example.com")
    _invite(hr_client, team, "ivy@example.com")  # renewed: the first link no longer works
    first, second = OutgoingEmail.objects.order_by("created_at")
    assert (first.status, second.status) == ("cancelled", "queued")
    assert first.message_ciphertext == ""

    from accounts.models import Invitation

    invitation = Invitation.objects.get(email="ivy@example.com")
    hr_client.post(reverse("invitation_revoke", args=[invitation.public_id]))
    second.refresh_from_db()
    assert second.status == "cancelled"


def test_run_checkins_deletes_old_email_records_and_finished_tasks(real_outbox, settings):
    from datetime import timedelta

    from django.utils import timezone

    from outbox.services import queue_email

    old = queue_email(to="a@example.com", subject="Old", body="x", template="t")
    queue_email(to="b@example.com", subject="New", body="x", template="t")
    drain()
    month_ago = timezone.now() - timedelta(days=31)
    OutgoingEmail.objects.filter(pk=old.pk).update(created_at=month_ago)
    DBTaskResult.objects.filter(args_kwargs__args=[str(old.public_id)]).update(
        finished_at=month_ago
    )

    call_command("run_checkins")

    assert list(OutgoingEmail.objects.values_list("recipients", flat=True)) == [["b@example.com"]]
    assert DBTaskResult.objects.count() == 1
