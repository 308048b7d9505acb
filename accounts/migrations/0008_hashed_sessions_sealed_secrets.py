"""Nothing in the database signs anyone in (accounts/sessions.py, accounts/authenticators.py).

Sessions stored under the cookie's own value are ended (everyone signs in again once):
their rows would otherwise stay usable from a copy until they expired. Second-factor
secrets stored in clear are sealed with their owner's data key. The app's own models are
used, not historical ones, because sealing is what their signals do."""

from django.db import migrations


def forwards(apps, schema_editor):
    from allauth.mfa.models import Authenticator
    from allauth.usersessions.models import UserSession
    from django.contrib.sessions.models import Session

    Session.objects.all().delete()
    UserSession.objects.all().delete()
    types = [Authenticator.Type.TOTP, Authenticator.Type.RECOVERY_CODES]
    for authenticator in Authenticator.objects.filter(type__in=types).iterator():
        authenticator.save()  # sealed on the way (accounts/authenticators.py)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0007_daily_digest"),
        ("sessions", "0001_initial"),
        ("usersessions", "0001_initial"),
        ("mfa", "0003_authenticator_type_uniq"),
        ("privacy", "0003_data_keys"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
