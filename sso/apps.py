from django.apps import AppConfig


class SsoConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "sso"
    verbose_name = "Company sign-in"

    def ready(self):
        from sso import signals  # noqa: F401
