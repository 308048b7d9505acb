from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"

    def ready(self):
        # Credential changes are announced to their owner, whoever made them.
        from accounts import signals  # noqa: F401
