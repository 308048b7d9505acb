"""Each published month keeps its rows of HR's CSV export, written once from its cells
(issue 15: a download wrote a year of rows, over a thousand, on every request). The
months already published get theirs from their stored cells, in the published order,
exactly as insights.services.month_publish writes them for a new month."""

from django.db import migrations, models


def write_csv_rows(apps, schema_editor):
    # The function month_publish uses, so old and new months store the same rows (it
    # takes plain tuples, not models, so the historical models do).
    from insights.services import month_export

    PublishedMonth = apps.get_model("insights", "PublishedMonth")
    PublishedCell = apps.get_model("insights", "PublishedCell")
    for month in PublishedMonth.objects.all().iterator():
        cells = PublishedCell.objects.filter(month=month).order_by("position", "pk")
        cells = list(
            cells.values_list("group", "perspective", "measure", "value", "respondents", "reason")
        )
        month.csv_figures, month.csv_activity = month_export(month.period, cells)
        month.save(update_fields=["csv_figures", "csv_activity"])


class Migration(migrations.Migration):
    dependencies = [
        ("insights", "0002_published_months_replace_live_rollups"),
    ]

    operations = [
        migrations.AddField(
            model_name="publishedmonth",
            name="csv_activity",
            field=models.TextField(blank=True, help_text="The activity figures, as CSV."),
        ),
        migrations.AddField(
            model_name="publishedmonth",
            name="csv_figures",
            field=models.TextField(blank=True, help_text="The trust figures, as CSV."),
        ),
        migrations.RunPython(write_csv_rows, migrations.RunPython.noop),
    ]
