"""The test suite: fast hashing, plain static files (manifest storage 404s under
live_server), email kept in memory."""

import os
import tempfile
from pathlib import Path

from .base import *  # noqa: F403
from .base import STORAGES

DEBUG = False
SECRET_KEY = "test-only-not-secret-rapport-key-0123456789-abcdefghijklmnopqrstuvwxyz"  # noqa: S105
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Both can be set from outside for a worker process the outbox tests start.
EMAIL_BACKEND = os.environ.get(
    "RAPPORT_TEST_EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend"
)
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "http"
# Each task runs once its transaction commits (outbox/testing.py); the outbox tests
# switch to the database backend and real workers.
TASKS = {
    "default": {
        "BACKEND": os.environ.get(
            "RAPPORT_TEST_TASKS_BACKEND", "outbox.testing.ImmediateOnCommitBackend"
        )
    }
}
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Static files come from the finders in tests; nothing is collected.
WHITENOISE_AUTOREFRESH = True

# A fixed development key so the tests run anywhere; production requires its own.
RAPPORT_ENCRYPTION_KEYS = RAPPORT_ENCRYPTION_KEYS or "ZGV2ZWxvcG1lbnQtb25seS1ub3Qtc2VjcmV0LWtleSE="  # noqa: F405

# A test database per process, so two runs on one machine (CI beside a developer's)
# never drop each other's. On SQLite a file, not Django's shared in-memory connection,
# so the live server's threads, serving Chromium's parallel requests, each get their own.
# The key store gets one beside it.
for _alias, _suffix in (("default", ""), ("keys", "-keys")):
    if DATABASES[_alias]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
        DATABASES[_alias]["TEST"] = {  # noqa: F405
            "NAME": str(
                Path(tempfile.gettempdir()) / f"rapport-test-{os.getpid()}{_suffix}.sqlite3"
            )
        }
    else:
        DATABASES[_alias]["TEST"] = {  # noqa: F405
            "NAME": f"test_rapport_{os.getpid()}{_suffix.replace('-', '_')}"
        }

# Passkeys over the live server's http://127.0.0.1 (Chromium's virtual authenticator).
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = True

# The test identity providers run on 127.0.0.1 over http (tests/partners).
RAPPORT_SSO_ALLOW_LOCAL_PROVIDERS = True
