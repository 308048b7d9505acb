"""A published month keeps, written once from its cells, what HR's pages read of it:
the dashboard's summary of the whole organisation and the CSV's rows (issue 15). They
must say exactly what the cells say, whether written at publication or by the
migration for months published before it, and a rebuild must notice if they don't."""

import csv
import importlib
import io

import pytest
import time_machine
from django.apps import apps
from django.core.management import CommandError, call_command
from django.urls import reverse

from insights.models import PublishedMonth
from tests.factories import HRAdminMembershipFactory, OrganisationFactory
from tests.helpers import text
from tests.insights.test_dashboard import NOW, _answer, _publish, _team_with_pairs

pytestmark = pytest.mark.django_db


def _organisation_with_a_published_month():
    organisation = OrganisationFactory(anonymity_threshold=3)
    _, pairs = _team_with_pairs(organisation, "=Platform", 4)  # a formula, kept as text
    _, others = _team_with_pairs(organisation, "Small", 1)  # folded into other teams
    for index, relationship in enumerate(pairs + others):
        _answer(relationship, "coachee", 2 + index % 3)
        _answer(relationship, "coach", 4)
    _publish(organisation)
    return organisation


def _stored(month):
    month.refresh_from_db()
    return month.summary, month.csv_figures, month.csv_activity


def test_the_migrations_store_for_an_old_month_what_publication_stores_for_a_new_one():
    organisation = _organisation_with_a_published_month()
    month = PublishedMonth.objects.get(organisation=organisation)
    published = _stored(month)
    assert published[0] and published[1] and published[2]
    PublishedMonth.objects.filter(pk=month.pk).update(summary={}, csv_figures="", csv_activity="")

    for name, function in (
        ("0003_published_month_csv_rows", "write_csv_rows"),
        ("0004_published_month_summary", "write_summaries"),
    ):
        migration = importlib.import_module(f"insights.migrations.{name}")
        getattr(migration, function)(apps, None)

    assert _stored(month) == published


def test_the_csv_is_the_stored_rows_of_each_month_and_matches_the_dashboard(client):
    organisation = _organisation_with_a_published_month()
    hr = HRAdminMembershipFactory(organisation=organisation).user
    client.force_login(hr)
    with time_machine.travel(NOW, tick=False):
        page = text(client.get(reverse("insights_dashboard")))
        rows = list(
            csv.reader(io.StringIO(client.get(reverse("insights_export")).content.decode()))
        )

    overall = [r for r in rows if r[:1] == ["Whole organisation"] and r[3] == "overall"]
    assert {r[2] for r in overall} == {"coachee_about_coach", "coach_about_coachee"}
    for row in overall:
        assert f"{float(row[4]):.2f} ({row[5]} people)" in page
    assert any(r[0] == "'=Platform" for r in rows), "a team name stays text"


@pytest.mark.parametrize(
    ("field", "value", "reported"),
    [
        ("csv_figures", "Whole organisation,2026-10,x,overall,5.0,3,\r\n", "CSV export's rows"),
        ("summary", {"": {}}, "dashboard's summary"),
    ],
)
def test_rebuild_reports_stored_rows_that_no_longer_say_what_the_cells_say(field, value, reported):
    organisation = _organisation_with_a_published_month()
    with time_machine.travel(NOW, tick=False):
        call_command("rebuild_insights")  # as published: no complaint
    PublishedMonth.objects.filter(organisation=organisation).update(**{field: value})

    err = io.StringIO()
    with time_machine.travel(NOW, tick=False), pytest.raises(CommandError, match="differ"):
        call_command("rebuild_insights", stdout=io.StringIO(), stderr=err)

    assert f"2026-10: the {reported}" in err.getvalue()
    assert PublishedMonth.objects.get(organisation=organisation).__dict__[field] == value
