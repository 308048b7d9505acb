"""Each published month keeps the whole organisation's figures as the dashboard shows
them, written once from its cells (issue 15: the dashboard folded a few hundred cells
on every view). The months already published get theirs from their stored cells,
exactly as insights.services.month_publish writes it for a new month."""

from django.db import migrations, models


def write_summaries(apps, schema_editor):
    # The function month_publish uses, so old and new months store the same summary
    # (it takes plain tuples, not models, so the historical models do).
    from insights.services import month_summary

    PublishedMonth = apps.get_model("insights", "PublishedMonth")
    PublishedCell = apps.get_model("insights", "PublishedCell")
    for month in PublishedMonth.objects.all().iterator():
        cells = PublishedCell.objects.filter(month=month).order_by("position", "pk")
        month.summary = month_summary(
            list(
                cells.values_list(
                    "group", "perspective", "measure", "value", "respondents", "reason"
                )
            )
        )
        month.save(update_fields=["summary"])


class Migration(migrations.Migration):
    dependencies = [
        ("insights", "0003_published_month_csv_rows"),
    ]

    operations = [
        migrations.AddField(
            model_name="publishedmonth",
            name="summary",
            field=models.JSONField(
                blank=True, default=dict, help_text="The whole organisation's figures."
            ),
        ),
        migrations.RunPython(write_summaries, migrations.RunPython.noop),
    ]
