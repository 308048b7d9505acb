from django.apps import AppConfig
from django.core.signals import setting_changed


class PrivacyConfig(AppConfig):
    name = "privacy"
    verbose_name = "Privacy"

    def ready(self):
        from privacy import rls  # noqa: F401  (a new database session starts as nobody)

        setting_changed.connect(_forget_unwrapped_keys)


def _forget_unwrapped_keys(setting, **kwargs):
    # Keys unwrapped under the old master keys (tests that change them, as a restarted
    # process would).
    if setting == "RAPPORT_ENCRYPTION_KEYS":
        from privacy import keys

        keys.forget_all()
