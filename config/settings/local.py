"""Local development and the demo: SQLite, email printed to the console. DEBUG is on for
`manage.py runserver` and the other commands; `manage.py demo` turns it off while it serves,
so the demo shows Rapport's own error pages."""

from .base import *  # noqa: F403
from .base import STORAGES, env_bool, env_list

DEBUG = True
# A throwaway key so `uv run manage.py demo` works on a fresh machine; never used
# in production, whose settings refuse to start without SECRET_KEY.
SECRET_KEY = SECRET_KEY or "local-only-not-secret-rapport-development-key-0123456789"  # noqa: F405
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "http"
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Whitenoise serves static/ and the apps' static files in place, with DEBUG on or off
# (the demo), so nobody has to run collectstatic on their own machine.
WHITENOISE_USE_FINDERS = True

# A fixed development key so the demo run anywhere; production requires its own.
RAPPORT_ENCRYPTION_KEYS = RAPPORT_ENCRYPTION_KEYS or "ZGV2ZWxvcG1lbnQtb25seS1ub3Qtc2VjcmV0LWtleSE="  # noqa: F405

# The demo's printed logins work at once; production always requires two-factor
# authentication for HR admins and superusers.
RAPPORT_PRIVILEGED_MFA = env_bool("RAPPORT_PRIVILEGED_MFA", False)

# Passkeys work in the demo over http://127.0.0.1 (production is https only).
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = True

# Company sign-in against a provider on this machine (a test identity provider).
RAPPORT_SSO_ALLOW_LOCAL_PROVIDERS = True
