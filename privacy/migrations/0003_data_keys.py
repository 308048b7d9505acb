"""The key store's one table (privacy.keys, config.routers): it is created in the `keys`
database only (`manage.py migrate --database keys`), and on PostgreSQL the app role may
use it, as it may the main database's tables."""

from django.db import migrations, models


def grant_to_app_role(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = 'rapport_app'")
        if cursor.fetchone():
            cursor.execute("GRANT SELECT, INSERT, DELETE ON privacy_datakey TO rapport_app")


class Migration(migrations.Migration):

    dependencies = [
        ('privacy', '0002_row_level_security_sessions_and_items'),
    ]

    operations = [
        migrations.CreateModel(
            name='DataKey',
            fields=[
                ('id', models.CharField(editable=False, max_length=32, primary_key=True, serialize=False)),
                ('owner_kind', models.CharField(choices=[('person', 'Person'), ('relationship', 'Relationship')], max_length=16)),
                ('owner_id', models.BigIntegerField()),
                ('wrapped', models.TextField()),
                ('created_at', models.DateTimeField(auto_now_add=True)),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('owner_kind', 'owner_id'), name='one_key_per_owner')],
            },
        ),
        migrations.RunPython(
            grant_to_app_role, migrations.RunPython.noop, hints={"key_store": True}
        ),
    ]
