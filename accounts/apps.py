from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"

    def ready(self):
        # Credential changes are announced to their owner, whoever made them.
        from accounts import authenticators, sessions, signals  # noqa: F401

        # Nothing in the database signs anyone in or passes a second factor.
        sessions.install()
        authenticators.connect()
