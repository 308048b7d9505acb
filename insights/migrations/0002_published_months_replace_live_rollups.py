"""Live rollups give way to published months: each closed month is computed once from
the source and stored (reflections.rollups.rebuild fills the months after an upgrade:
run `manage.py rebuild_insights`)."""

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_auditevent"),
        ("insights", "0001_initial"),
    ]

    operations = [
        migrations.DeleteModel(name="ActivityRollup"),
        migrations.DeleteModel(name="TrustRollup"),
        migrations.CreateModel(
            name="PublishedMonth",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "period",
                    models.DateField(help_text="The first day of the (UTC) calendar month."),
                ),
                (
                    "threshold",
                    models.PositiveSmallIntegerField(
                        help_text="The organisation's k at the time."
                    ),
                ),
                (
                    "small_team_count",
                    models.PositiveIntegerField(
                        default=0,
                        help_text="Teams folded into “Other teams” for having fewer than k "
                        "members.",
                    ),
                ),
                ("published_at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "organisation",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="accounts.organisation",
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("organisation", "period"), name="one_published_month"
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="PublishedCell",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "position",
                    models.PositiveSmallIntegerField(help_text="The group's place in the table."),
                ),
                (
                    "group",
                    models.CharField(help_text="The group's name when published.", max_length=120),
                ),
                ("perspective", models.CharField(blank=True, max_length=24)),
                (
                    "measure",
                    models.CharField(
                        help_text="overall, a dimension or an activity.", max_length=32
                    ),
                ),
                (
                    "value",
                    models.DecimalField(blank=True, decimal_places=2, max_digits=12, null=True),
                ),
                ("respondents", models.PositiveIntegerField(blank=True, null=True)),
                (
                    "reason",
                    models.CharField(
                        blank=True, help_text="Why it is not shown.", max_length=120
                    ),
                ),
                (
                    "month",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="cells",
                        to="insights.publishedmonth",
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("month", "group", "perspective", "measure"),
                        name="one_published_cell",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            ("reason", ""),
                            models.Q(("respondents__isnull", True), ("value__isnull", True)),
                            _connector="OR",
                        ),
                        name="suppressed_cell_has_no_figure",
                    ),
                ],
            },
        ),
    ]
