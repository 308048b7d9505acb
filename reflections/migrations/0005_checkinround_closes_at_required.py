# A migration of its own: PostgreSQL may refuse to alter a table its own transaction
# has just updated.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("reflections", "0004_checkinround_closes_at"),
    ]

    operations = [
        migrations.AlterField(
            model_name="checkinround",
            name="closes_at",
            field=models.DateTimeField(),
        ),
    ]
