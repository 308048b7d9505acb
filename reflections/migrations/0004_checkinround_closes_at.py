"""Rounds store the instant they close. Existing rounds get the end of their last day
(closes_on) in their coach's time zone as it is now: the recipe the old code used."""

import zoneinfo
from datetime import UTC, datetime, time, timedelta

from django.conf import settings
from django.db import migrations, models


def _end_of_day(day, time_zone):
    try:
        zone = zoneinfo.ZoneInfo(time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = zoneinfo.ZoneInfo("UTC")
    return datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone).astimezone(UTC)


def fill_closes_at(apps, schema_editor):
    CheckInRound = apps.get_model("reflections", "CheckInRound")
    rounds = CheckInRound.objects.filter(closes_at__isnull=True).select_related(
        "relationship__coach"
    )
    batch = []
    for round_ in rounds.order_by("pk").iterator(chunk_size=1000):
        round_.closes_at = _end_of_day(round_.closes_on, round_.relationship.coach.time_zone)
        batch.append(round_)
        if len(batch) >= 1000:
            CheckInRound.objects.bulk_update(batch, ["closes_at"])
            batch = []
    CheckInRound.objects.bulk_update(batch, ["closes_at"])


class Migration(migrations.Migration):
    dependencies = [
        ("reflections", "0003_self_check_submitted_once"),
        ("relationships", "0003_checkins_and_idempotency_per_author"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="checkinround",
            name="closes_at",
            field=models.DateTimeField(null=True),
        ),
        migrations.RunPython(fill_closes_at, migrations.RunPython.noop),
    ]
