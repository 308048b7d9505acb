"""Production: every secret and host comes from the environment, HTTPS everywhere."""

from django.core.exceptions import ImproperlyConfigured

from privacy.encryption import parse_encryption_keys

from .base import *  # noqa: F403
from .base import (
    ALLOWED_HOSTS,
    DEBUG,
    RAPPORT_ENCRYPTION_KEYS,
    SECRET_KEY,
    env_bool,
    env_int,
)

if not SECRET_KEY:
    raise ImproperlyConfigured(
        "The SECRET_KEY environment variable is required in production: set it to a "
        "long random string (for example: python -c 'import secrets; "
        "print(secrets.token_urlsafe(50))')."
    )
if not RAPPORT_ENCRYPTION_KEYS:
    raise ImproperlyConfigured(
        "The RAPPORT_ENCRYPTION_KEYS environment variable is required in production: "
        "comma-separated base64 32-byte keys, newest first (make one with: python -c "
        "'import base64, os; print(base64.urlsafe_b64encode(os.urandom(32)).decode())')."
    )
# A malformed key stops the process now, not at the first note someone saves.
parse_encryption_keys(RAPPORT_ENCRYPTION_KEYS)
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured(
        "The ALLOWED_HOSTS environment variable is required in production: a "
        "comma-separated list of the host names Rapport is served on."
    )

SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
# Load balancer health checks arrive over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
# Only a loopback load or fault test (plain HTTP on 127.0.0.1) turns these off.
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", True)
CSRF_COOKIE_SECURE = env_bool("SECURE_COOKIES", True)
