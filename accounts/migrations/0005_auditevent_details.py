from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_organisation_email_domains_invitation_approval"),
    ]

    operations = [
        migrations.AddField(
            model_name="auditevent",
            name="details",
            field=models.JSONField(blank=True, default=dict),
        ),
    ]
