import threading
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.db import connection, connections
from django.urls import reverse

from reflections.dimensions import DIMENSION_KEYS
from reflections.models import CheckInReminder, CheckInResponse, CheckInRound
from reflections.services import run_checkins
from relationships.models import CoachingRelationship
from tests.factories import CheckInResponseFactory, RelationshipFactory, SessionFactory
from tests.helpers import text

pytestmark = pytest.mark.django_db
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday


def _at(days, hour=9):
    return START + timedelta(days=days, hours=hour - 9)


_capture = None


@pytest.fixture(autouse=True)
def _send_emails_on_commit(django_capture_on_commit_callbacks):
    """run_checkins sends email after its transaction commits: let the tests see it."""
    global _capture
    _capture = django_capture_on_commit_callbacks
    yield
    _capture = None


def _run(days, hour=9):
    with time_machine.travel(_at(days, hour), tick=False), _capture(execute=True):
        return run_checkins(site_url="https://rapport.example")


@pytest.fixture
def relationship(organisation):
    return RelationshipFactory(organisation=organisation, accepted_at=START)


def test_fortnightly_rounds_open_remind_and_close_on_the_right_days(relationship, mailoutbox):
    assert _run(13).opened == 0

    report = _run(14)
    round_ = CheckInRound.objects.get()
    assert (report.opened, round_.opens_on, round_.closes_on) == (
        1,
        date(2026, 3, 16),
        date(2026, 3, 22),
    )
    assert sorted(m.to[0] for m in mailoutbox) == sorted(
        [relationship.coach.email, relationship.coachee.email]
    )
    assert "https://rapport.example/checkins/" in mailoutbox[0].body

    assert _run(14, hour=15).reminders == 0, "no second email for the same round"
    CheckInResponseFactory(round=round_, respondent=relationship.coach)
    closing = _run(19)
    assert closing.reminders == 1, "the day before it closes, only who hasn't answered"
    assert mailoutbox[-1].to == [relationship.coachee.email]
    assert "closes tomorrow" in mailoutbox[-1].subject

    assert _run(20).closed == 0, "still open on its last day"
    assert _run(21).closed == 1
    round_.refresh_from_db()
    assert round_.is_closed and not round_.coach_missed and round_.coachee_missed
    assert CheckInRound.objects.count() == 1
    assert _run(28).opened == 1


@pytest.mark.parametrize(
    ("cadence", "not_yet", "due", "opens_on"),
    [
        ("weekly", 6, 7, date(2026, 3, 9)),
        ("monthly", 30, 31, date(2026, 4, 2)),
    ],
)
def test_weekly_and_monthly_cadences(relationship, cadence, not_yet, due, opens_on):
    relationship.checkin_cadence = cadence
    relationship.save()

    assert _run(not_yet).opened == 0
    assert _run(due).opened == 1
    assert CheckInRound.objects.get().opens_on == opens_on


def test_days_follow_the_coachs_time_zone(relationship):
    relationship.coach.time_zone = "Pacific/Auckland"  # UTC+13 in March
    relationship.coach.save()

    # 13 days and 12:00 UTC later it is already the 14th day in Auckland.
    report = _run(13, hour=12)

    assert report.opened == 1
    assert CheckInRound.objects.get().opens_on == date(2026, 3, 16)


def test_paused_and_ended_relationships_open_no_rounds(relationship):
    for status in ("paused", "ended"):
        relationship.status = status
        relationship.save()
        assert _run(14).opened == 0
    assert not CheckInRound.objects.exists()


def test_a_missed_period_is_skipped_rather_than_opened_late(relationship):
    assert _run(14 + 8).opened == 0, "that round's window has passed"
    assert _run(28).opened == 1


def test_after_each_session_opens_one_round_per_session(client, relationship):
    relationship.checkin_cadence = CoachingRelationship.Cadence.AFTER_SESSION
    relationship.save()
    client.force_login(relationship.coach)

    with time_machine.travel(_at(20), tick=False):
        client.force_login(relationship.coach)
        client.post(
            reverse("session_create", args=[relationship.public_id]),
            {"held_on": "2026-03-22", "duration_minutes": "45", "focus": "other", "agenda": ""},
        )
        round_ = CheckInRound.objects.get()
        assert round_.session is not None and round_.opens_on == date(2026, 3, 22)
        assert run_checkins().opened == 0, "the session already has its round"
    assert _run(27).opened == 0, "no session, no round"


def test_run_checkins_catches_a_session_logged_by_an_older_process(relationship):
    relationship.checkin_cadence = CoachingRelationship.Cadence.AFTER_SESSION
    relationship.save()
    SessionFactory(relationship=relationship, held_on=date(2026, 3, 20))

    assert _run(20).opened == 1
    assert _run(21).opened == 0


def test_the_command_reports_what_it_did(relationship, capsys):
    with time_machine.travel(_at(14), tick=False):
        call_command("run_checkins")

    out = capsys.readouterr().out
    assert "Opened 1 round(s), closed 0, queued 2 reminder(s) for the email workers;" in out


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_runs_open_one_round_and_send_each_email_once(organisation):
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL (SQLite serialises them)")
    relationships = [
        RelationshipFactory(organisation=organisation, accepted_at=START) for _ in range(5)
    ]
    mail.outbox = []
    barrier = threading.Barrier(2)
    errors = []

    def run():
        try:
            barrier.wait()
            with time_machine.travel(_at(14), tick=False):
                run_checkins(site_url="https://rapport.example")
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert CheckInRound.objects.count() == len(relationships)
    assert CheckInReminder.objects.count() == 2 * len(relationships)
    assert len(mail.outbox) == 2 * len(relationships)


def _checkin_page(client, round_) -> str:
    return text(client.get(reverse("checkin_detail", args=[round_.public_id])))


def _move_time_zone(client, user, zone):
    response = client.post(
        reverse("profile"), {"display_name": user.display_name, "time_zone": zone}
    )
    assert response.status_code == 302, "the profile form took the new time zone"


def test_attack_coach_changes_time_zone_on_last_day_does_not_close_round_early(
    client, relationship
):
    """The coach answers, then on the round's last day moves their profile to UTC+14,
    where that day is already over. The round must stay open for the coachee and keep
    the coach's answers hidden from them until it closes at its stored instant."""
    _run(14)
    round_ = CheckInRound.objects.get()  # last day Sunday 22 March, in UTC
    coach, coachee = relationship.coach, relationship.coachee
    with time_machine.travel(_at(15), tick=False):
        client.force_login(coach)
        client.post(
            reverse("checkin_detail", args=[round_.public_id]),
            {
                **dict.fromkeys(DIMENSION_KEYS, "2"),
                "comment": "Coach-verdict",
                "shared": "on",
                "confirm": "1",
            },
        )
    assert CheckInResponse.objects.filter(respondent=coach).exists()

    with time_machine.travel(_at(20, hour=12), tick=False):  # noon UTC on the last day
        _move_time_zone(client, coach, "Pacific/Kiritimati")  # already Monday 02:00 there
        assert _run(20, hour=12).closed == 0, "the round is not closed early"
        client.force_login(coachee)
        page = _checkin_page(client, round_)
        assert "I can rely on Casey Coach" in page, "the coachee still gets the form"
        assert "Coach-verdict" not in page, "nothing is revealed early"
        client.post(
            reverse("checkin_detail", args=[round_.public_id]),
            {**dict.fromkeys(DIMENSION_KEYS, "4"), "confirm": "1"},
        )
    assert CheckInResponse.objects.filter(respondent=coachee).exists(), "the answer counted"
    round_.refresh_from_db()
    assert not round_.is_closed and not round_.coachee_missed


def test_attack_coach_moves_time_zone_west_and_the_round_still_closes_on_time(client, relationship):
    """Moving the other way does not keep a round open (and unrevealed) for longer."""
    _run(14)
    round_ = CheckInRound.objects.get()
    with time_machine.travel(_at(20, hour=12), tick=False):
        client.force_login(relationship.coach)
        _move_time_zone(client, relationship.coach, "Pacific/Pago_Pago")  # UTC-11

    assert _run(21, hour=1).closed == 1, "closed at the end of 22 March, as set when it opened"
    with time_machine.travel(_at(21, hour=1), tick=False):
        client.force_login(relationship.coachee)
        page = _checkin_page(client, round_)
    assert "This check-in closed on 22 March without your answer." in page


def test_the_closing_day_is_shown_in_the_readers_own_time_zone(client, relationship):
    _run(14)  # closes at midnight UTC after Sunday 22 March
    round_ = CheckInRound.objects.get()
    relationship.coachee.time_zone = "America/New_York"  # UTC-4 in late March
    relationship.coachee.save()

    with time_machine.travel(_at(15), tick=False):
        client.force_login(relationship.coachee)
        page = _checkin_page(client, round_)

    assert "Open until Sunday 22 March, 19:59." in page


def test_reminders_give_the_closing_time_in_the_recipients_own_time_zone(relationship, mailoutbox):
    relationship.coachee.time_zone = "America/New_York"
    relationship.coachee.save()

    _run(14)

    to_coachee = next(m for m in mailoutbox if m.to == [relationship.coachee.email])
    to_coach = next(m for m in mailoutbox if m.to == [relationship.coach.email])
    assert "open until Sunday 22 March, 19:59." in to_coachee.body
    assert "open until Sunday 22 March, 23:59." in to_coach.body
