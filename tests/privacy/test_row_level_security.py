"""Row-level security (issue 18): on PostgreSQL the database itself answers each person
with only the private rows the application would show them, however a view is written,
and HR's role reads the published rollups and nothing else. SQLite has no row-level
security (the README says which guarantees need PostgreSQL), so these run on PostgreSQL
only; CI runs the suite there."""

from datetime import UTC, timedelta
from io import StringIO

import pytest
from allauth.mfa.models import Authenticator
from django.core.management import CommandError, call_command
from django.db import DatabaseError, ProgrammingError, connection, connections, transaction
from django.db.models import Q
from django.test import Client
from django.utils import timezone

from insights.models import PublishedMonth
from notifications.models import Notification
from privacy import rls
from reflections.models import CheckInResponse, IntegrityCheck, Reflection
from reflections.rollups import month_source
from reflections.services import journal_retention_set
from relationships.models import (
    ActionItem,
    CoachingRelationship,
    CoachingSession,
    Note,
    NoteDraft,
    TalkingPoint,
)
from tests.factories import (
    ActionItemFactory,
    CheckInResponseFactory,
    CheckInRoundFactory,
    HRAdminMembershipFactory,
    IntegrityCheckFactory,
    MembershipFactory,
    NoteDraftFactory,
    NoteFactory,
    ReflectionFactory,
    RelationshipFactory,
    ScheduledSessionFactory,
    SessionFactory,
    TalkingPointFactory,
    UserFactory,
)

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="row-level security is PostgreSQL's"
    ),
]

PRIVATE = Note.Visibility.PRIVATE
SHARED = Note.Visibility.SHARED


@pytest.fixture
def world(organisation):
    pair = RelationshipFactory(organisation=organisation)
    others = RelationshipFactory(organisation=organisation)
    coach, coachee = pair.coach, pair.coachee
    NoteFactory(relationship=pair, author=coach, body="coach private")
    NoteFactory(relationship=pair, author=coach, visibility=SHARED, body="coach shared")
    NoteFactory(relationship=pair, author=coachee, body="coachee private")
    NoteFactory(relationship=others, author=others.coach, body="other coach private")
    NoteFactory(
        relationship=others, author=others.coach, visibility=SHARED, body="other pair shared"
    )
    NoteDraftFactory(relationship=pair, author=coach, body="coach typing")
    scheduled = ScheduledSessionFactory(relationship=pair)
    TalkingPointFactory(scheduled=scheduled, author=coach, text="point shared by coach")
    TalkingPointFactory(
        scheduled=scheduled, author=coachee, visibility=PRIVATE, text="point kept by coachee"
    )
    ReflectionFactory(author=coach, body="coach journal")
    ReflectionFactory(author=coachee, body="coachee journal")
    IntegrityCheckFactory(author=coach)
    round_ = CheckInRoundFactory(relationship=pair)
    CheckInResponseFactory(round=round_, respondent=coach)
    CheckInResponseFactory(round=round_, respondent=coachee, shared=False, comment="unshared")
    CheckInResponseFactory(round=CheckInRoundFactory(relationship=others), respondent=others.coach)
    SessionFactory(relationship=pair, summary="our session")
    SessionFactory(relationship=others, summary="their session")
    ActionItemFactory(relationship=pair, text="our item")
    ActionItemFactory(relationship=others, text="their item")
    superuser = UserFactory(is_staff=True, is_superuser=True)
    Authenticator.objects.create(user=superuser, type=Authenticator.Type.TOTP, data={})
    return {
        "coach": coach,
        "coachee": coachee,
        "other coach": others.coach,
        "colleague": MembershipFactory(organisation=organisation).user,
        "hr admin": HRAdminMembershipFactory(organisation=organisation).user,
        "superuser": superuser,
        "other pair": others,
    }


def _answers_of(user):
    """Their own answers, and the other party's rows of a started relationship: the
    reveal needs to know who answered; the application shows what only once revealed."""
    started = CoachingRelationship.objects.started_for(user)
    return CheckInResponse.objects.filter(Q(respondent=user) | Q(round__relationship__in=started))


def _expected(user) -> dict:
    """What the application's own scoped querysets give the person (read as the owner)."""
    return {
        "notes": sorted(n.body for n in Note.objects.visible_to(user)),
        "drafts": sorted(d.body for d in NoteDraft.objects.visible_to(user)),
        "talking_points": sorted(p.text for p in TalkingPoint.objects.visible_to(user)),
        "journal": sorted(r.body for r in Reflection.objects.visible_to(user)),
        "self_checks": sorted(str(c.public_id) for c in IntegrityCheck.objects.visible_to(user)),
        "answers": sorted(str(a.public_id) for a in _answers_of(user)),
        "sessions": sorted(s.summary for s in CoachingSession.objects.visible_to(user)),
        "action_items": sorted(i.text for i in ActionItem.objects.visible_to(user)),
    }


@pytest.mark.urls("tests.privacy.rls_urls")
@pytest.mark.parametrize(
    "who", ["coach", "coachee", "other coach", "colleague", "hr admin", "superuser", None]
)
def test_an_unscoped_view_returns_only_what_the_person_may_read(world, who):
    client = Client()
    if who is not None:
        client.force_login(world[who])
    response = client.get("/test-only/every-private-row/")
    assert response.status_code == 200
    rows = response.json()
    assert rows.pop("role") == rls.APP_ROLE
    assert rows.pop("asking") == ("" if who is None else str(world[who].pk))
    got = {table: sorted(values) for table, values in rows.items()}
    if who is None:
        assert got == {table: [] for table in got}
    else:
        assert got == _expected(world[who])
    if who == "coach":  # the view's bug reaches nothing more, yet everything that is theirs
        assert "coach private" in got["notes"] and "coachee private" not in got["notes"]
        assert got["talking_points"] == ["point shared by coach"]
    if who in ("hr admin", "superuser", "colleague"):
        assert got == {table: [] for table in got}


def _as_app(cursor, user_id, purpose=""):
    cursor.execute(
        "SELECT set_config('role', 'rapport_app', false),"
        " set_config('app.user_id', %s, false), set_config('app.purpose', %s, false)",
        ["" if user_id is None else str(user_id), purpose],
    )


def _reset(cursor):
    cursor.execute("RESET ROLE; RESET app.user_id; RESET app.purpose")


TABLES = {
    "notes": ("relationships_note", Note),
    "drafts": ("relationships_notedraft", NoteDraft),
    "talking_points": ("relationships_talkingpoint", TalkingPoint),
    "journal": ("reflections_reflection", Reflection),
    "self_checks": ("reflections_integritycheck", IntegrityCheck),
    "sessions": ("relationships_coachingsession", CoachingSession),
    "action_items": ("relationships_actionitem", ActionItem),
}


@pytest.mark.parametrize("who", ["coach", "coachee", "other coach", "hr admin", "superuser", None])
def test_raw_sql_as_the_app_role_sees_exactly_the_persons_rows(world, who):
    user = world[who] if who else None
    expected = {}
    for table, model in TABLES.values():
        scoped = model.objects.visible_to(user) if user else model.objects.none()
        expected[table] = sorted(scoped.values_list("id", flat=True))
    answers = _answers_of(user) if user else CheckInResponse.objects.none()
    expected["reflections_checkinresponse"] = sorted(answers.values_list("id", flat=True))
    got = {}
    with connection.cursor() as cursor:
        _as_app(cursor, user.pk if user else None)
        for table in expected:
            cursor.execute(f"SELECT id FROM {table} ORDER BY id")  # noqa: S608
            got[table] = [row[0] for row in cursor.fetchall()]
        _reset(cursor)
    assert got == expected
    # Every table holds rows a superuser session would see.
    assert all(model.objects.exists() for _, model in TABLES.values())


def test_the_database_refuses_writes_to_rows_the_person_may_not_write(world):
    coach, coachee = world["coach"], world["coachee"]
    coach_private = Note.objects.get(author=coach, visibility=PRIVATE)
    coach_shared = Note.objects.get(author=coach, visibility=SHARED)
    shared_point = TalkingPoint.objects.get(author=coach)
    with connection.cursor() as cursor:
        _as_app(cursor, coachee.pk)
        # Another's note: not to be changed or removed, private or shared.
        for note in (coach_private, coach_shared):
            cursor.execute(
                "UPDATE relationships_note SET body_ciphertext = 'x' WHERE id = %s", [note.pk]
            )
            assert cursor.rowcount == 0
            cursor.execute("DELETE FROM relationships_note WHERE id = %s", [note.pk])
            assert cursor.rowcount == 0
        cursor.execute("DELETE FROM reflections_reflection WHERE author_id = %s", [coach.pk])
        assert cursor.rowcount == 0
        # Nor written in their name.
        with pytest.raises(DatabaseError, match="row-level security"), transaction.atomic():
            cursor.execute(
                "UPDATE relationships_note SET author_id = %s WHERE author_id = %s",
                [coach.pk, coachee.pk],
            )
        with pytest.raises(DatabaseError, match="row-level security"), transaction.atomic():
            cursor.execute(
                "INSERT INTO reflections_reflection (public_id, author_id, prompt,"
                " body_ciphertext, created_at, updated_at, version)"
                " VALUES (gen_random_uuid(), %s, '', 'x', now(), now(), 1)",
                [coach.pk],
            )
        # Another pair's session and items: not to be changed, nor added to.
        cursor.execute(
            "UPDATE relationships_coachingsession SET summary_ciphertext = 'x'"
            " WHERE relationship_id = %s",
            [world["other pair"].pk],
        )
        assert cursor.rowcount == 0
        cursor.execute(
            "DELETE FROM relationships_actionitem WHERE relationship_id = %s",
            [world["other pair"].pk],
        )
        assert cursor.rowcount == 0
        # A shared talking point is either party's to tick off, never to make private.
        cursor.execute(
            "UPDATE relationships_talkingpoint SET discussed_at = now() WHERE id = %s",
            [shared_point.pk],
        )
        assert cursor.rowcount == 1
        with pytest.raises(DatabaseError, match="row-level security"), transaction.atomic():
            cursor.execute(
                "UPDATE relationships_talkingpoint SET visibility = 'private' WHERE id = %s",
                [shared_point.pk],
            )
        _reset(cursor)
    assert Note.objects.filter(author=coach).count() == 2
    assert Reflection.objects.filter(author=coach).count() == 1


def test_outside_any_request_the_app_role_reads_no_private_row(world):
    with rls.acting():
        assert not Note.objects.exists()
        assert not TalkingPoint.objects.exists()
        assert not CheckInResponse.objects.exists()
        assert not Reflection.objects.exists()
    assert Note.objects.exists()  # the owner's session again


def test_after_a_request_the_connection_asks_for_nobody(world, coach_client):
    assert coach_client.get("/").status_code == 200
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_user, session_user, coalesce(current_setting('app.user_id', true), '')"
        )
        role, login, asking = cursor.fetchone()
    assert (role, asking) == (login, "")


# --- HR's role ----------------------------------------------------------------------


def test_hrs_role_cannot_reach_a_note_however_the_code_is_written(world, organisation):
    call_command("run_checkins", stdout=StringIO())  # publishes the months there are
    with rls.hr_reads():
        months = list(PublishedMonth.objects.filter(organisation=organisation))
        assert months  # the rollups are HR's to read
        attempts = [
            lambda: list(Note.objects.all()),
            lambda: list(organisation.relationships.all()),  # reverse relations
            lambda: list(months[0].organisation.relationships.first().notes.all()),
            lambda: list(CheckInResponse.objects.filter(round__relationship__organisation=1)),
        ]
        for attempt in attempts:
            with pytest.raises(ProgrammingError, match="permission denied"), transaction.atomic():
                attempt()
        with connection.cursor() as cursor:
            for table in ("relationships_note", "reflections_checkinresponse", "accounts_user"):
                with pytest.raises(ProgrammingError), transaction.atomic():
                    cursor.execute(f"SELECT * FROM {table}")  # noqa: S608


def test_the_dashboard_reads_the_rollups_as_hrs_role(world, organisation):
    call_command("run_checkins", stdout=StringIO())
    client = Client()
    client.force_login(world["hr admin"])
    reads = []

    def record(execute, sql, params, many, context):
        reads.append((sql, connection._rapport_row_security[0]))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        assert client.get("/insights/").status_code == 200
        assert client.get("/insights/export.csv").status_code == 200
    rollups = [role for sql, role in reads if "insights_published" in sql]
    assert rollups and set(rollups) == {rls.HR_ROLE}


# --- Scheduled commands, each with its narrow context ------------------------------


def test_run_checkins_carries_private_points_under_row_level_security(organisation):
    pair = RelationshipFactory(organisation=organisation)
    now = timezone.now()
    held = ScheduledSessionFactory(relationship=pair, starts_at=now - timedelta(days=2))
    following = ScheduledSessionFactory(relationship=pair, starts_at=now + timedelta(days=5))
    kept = TalkingPointFactory(
        scheduled=held, author=pair.coachee, visibility=PRIVATE, text="only mine"
    )
    shared = TalkingPointFactory(scheduled=held, author=pair.coach, text="ours")
    call_command("run_checkins", stdout=StringIO())
    assert set(following.talking_points.values_list("pk", flat=True)) == {kept.pk, shared.pk}
    kept.refresh_from_db()
    assert kept.text == "only mine" and kept.is_private


def test_run_checkins_tells_owners_of_items_due_tomorrow_under_row_level_security(
    organisation,
):
    pair = RelationshipFactory(organisation=organisation)
    tomorrow = timezone.now().astimezone(UTC).date() + timedelta(days=1)
    ActionItemFactory(relationship=pair, text="Send the plan", due_on=tomorrow)
    call_command("run_checkins", stdout=StringIO())
    assert Notification.objects.filter(recipient=pair.coachee, kind="item_due").count() == 1


def test_run_checkins_opens_a_round_after_a_session_under_row_level_security(organisation):
    pair = RelationshipFactory(organisation=organisation, checkin_cadence="after_session")
    SessionFactory(relationship=pair, held_on=timezone.localdate())
    call_command("run_checkins", stdout=StringIO())
    assert pair.checkin_rounds.count() == 1


def test_run_checkins_knows_who_answered_under_row_level_security(organisation):
    pair = RelationshipFactory(organisation=organisation)
    today = timezone.localdate()
    closed = CheckInRoundFactory(
        relationship=pair, opens_on=today - timedelta(days=10), closes_on=today - timedelta(days=3)
    )
    CheckInResponseFactory(round=closed, respondent=pair.coachee, shared=False)
    call_command("run_checkins", stdout=StringIO())
    closed.refresh_from_db()
    assert closed.closed_at is not None
    assert (closed.coach_missed, closed.coachee_missed) == (True, False)


def test_rollups_count_every_answer_under_row_level_security(world, organisation):
    period = timezone.localdate().replace(day=1)
    as_owner = month_source(organisation, period)
    with rls.acting():
        as_app = month_source(organisation, period)
        assert not CheckInResponse.objects.exists()  # only the rollup's purpose reads them
    assert as_owner.groups and as_app.groups == as_owner.groups


def test_journal_retention_deletes_each_authors_old_entries_under_row_level_security(world):
    for who in ("coach", "coachee"):
        journal_retention_set(author=world[who], retention_days=30)
    Reflection.objects.update(created_at=timezone.now() - timedelta(days=31))
    call_command("run_checkins", stdout=StringIO())
    assert not Reflection.objects.exists()


def test_key_rotation_refuses_to_run_as_the_app_role(world):
    with rls.acting(), pytest.raises(CommandError, match="tables' owner"):
        call_command("rotate_encryption_keys", stdout=StringIO())
    call_command("rotate_encryption_keys", stdout=StringIO())  # as the owner, as documented


# --- Logged in as rapport_app, as production is -----------------------------------


def _app_can_log_in() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolcanlogin FROM pg_roles WHERE rolname = %s", [rls.APP_ROLE])
        row = cursor.fetchone()
    return bool(row and row[0])


def _logged_in_as_app_role(alias: str):
    """A new session on that database, logged in as rapport_app, as production's are."""
    import psycopg

    settings = connections[alias].settings_dict
    return psycopg.connect(
        host=settings["HOST"],
        port=settings["PORT"] or 5432,
        dbname=settings["NAME"],
        user=rls.APP_ROLE,
        autocommit=True,
    )


@pytest.mark.django_db(transaction=True)
def test_a_session_logged_in_as_the_app_role_reads_by_the_policies(organisation):
    """The suite itself logs in as the owner and switches role (privacy/rls.py); here a
    fresh session logs in as rapport_app, as the web app does in production. CI gives
    the role its login (.ci/run); elsewhere it may have none."""
    import psycopg

    if not _app_can_log_in():
        pytest.skip("rapport_app has no login here (.ci/run and the README give it one)")
    pair = RelationshipFactory(organisation=organisation)
    NoteFactory(relationship=pair, author=pair.coach, body="mine")
    NoteFactory(relationship=pair, author=pair.coachee, body="theirs")
    with _logged_in_as_app_role("default") as app:
        owner, bypass = app.execute(
            "SELECT pg_has_role(current_user, c.relowner, 'USAGE'), r.rolbypassrls"
            " FROM pg_class c, pg_roles r"
            " WHERE c.oid = 'relationships_note'::regclass AND r.rolname = current_user"
        ).fetchone()
        assert (owner, bypass) == (False, False)
        assert app.execute("SELECT count(*) FROM relationships_note").fetchone()[0] == 0
        app.execute("SELECT set_config('app.user_id', %s, false)", [str(pair.coach.pk)])
        ids = [row[0] for row in app.execute("SELECT id FROM relationships_note")]
        assert ids == list(Note.objects.filter(author=pair.coach).values_list("id", flat=True))
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            app.execute("SET ROLE postgres")


@pytest.mark.django_db(transaction=True)
def test_in_the_key_store_the_app_role_may_read_add_and_destroy_keys_never_rewrap_them(
    organisation,
):
    """The key store (config.routers) is migrated by its owner too; the app role gets what
    sealing, reading and crypto-shredding need, and master-key rotation stays the owner's."""
    import psycopg

    if not _app_can_log_in():
        pytest.skip("rapport_app has no login here (.ci/run and the README give it one)")
    NoteFactory(relationship=RelationshipFactory(organisation=organisation), body="mine")
    with _logged_in_as_app_role("keys") as app:
        assert app.execute("SELECT count(*) FROM privacy_datakey").fetchone()[0] == 1
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            app.execute("UPDATE privacy_datakey SET wrapped = ''")
        assert app.execute("DELETE FROM privacy_datakey").rowcount == 1
