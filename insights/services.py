"""Writes to the rollup tables. Callers pass numbers only; nothing here knows who
answered."""

from datetime import date

from django.db import IntegrityError, transaction
from django.db.models import F

from accounts.models import Organisation, Team
from insights.models import ActivityRollup, TrustRollup


def month_of(day: date) -> date:
    return day.replace(day=1)


def _cell(**key) -> TrustRollup:
    try:
        with transaction.atomic():
            return TrustRollup.objects.get_or_create(**key)[0]
    except IntegrityError:  # created by a concurrent submission
        return TrustRollup.objects.get(**key)


@transaction.atomic
def trust_rollup_add(
    *,
    organisation: Organisation,
    team: Team | None,
    period: date,
    perspective: str,
    answers: dict[str, int],
    new_respondent: bool,
) -> None:
    """Add one set of answers to the organisation's cell and, if any, its team's."""
    for cell_team in [None, team] if team is not None else [None]:
        for dimension, value in answers.items():
            cell = _cell(
                organisation=organisation,
                team=cell_team,
                period=month_of(period),
                dimension=dimension,
                perspective=perspective,
            )
            TrustRollup.objects.filter(pk=cell.pk).update(
                respondents=F("respondents") + int(new_respondent),
                answer_sum=F("answer_sum") + value,
                answer_count=F("answer_count") + 1,
            )


@transaction.atomic
def rollups_replace(
    *, organisation: Organisation, trust: list[TrustRollup], activity: list[ActivityRollup]
) -> None:
    """The rebuild: the organisation's tables, computed afresh from the source."""
    TrustRollup.objects.filter(organisation=organisation).delete()
    ActivityRollup.objects.filter(organisation=organisation).delete()
    TrustRollup.objects.bulk_create(trust, batch_size=1000)
    ActivityRollup.objects.bulk_create(activity, batch_size=1000)


@transaction.atomic
def activity_rollup_replace_month(
    *, organisation: Organisation, period: date, rows: list[ActivityRollup]
) -> None:
    ActivityRollup.objects.filter(organisation=organisation, period=period).delete()
    ActivityRollup.objects.bulk_create(rows)
