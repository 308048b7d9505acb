"""Settings shared by every environment. Values come from the environment; the
local, test and production modules only change what differs."""

import os
from pathlib import Path

from csp.constants import NONE, SELF

from config.env import database_from_url, env_bool, env_int, env_list, key_store_url

BASE_DIR = Path(__file__).resolve().parent.parent.parent

DEBUG = env_bool("DEBUG", False)
# Each environment module decides what happens when this is missing.
SECRET_KEY = os.environ.get("SECRET_KEY", "")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.forms",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.saml",
    "allauth.usersessions",
    "django_htmx",
    "template_partials",
    "csp",
    "accounts",
    "relationships",
    "reflections",
    "insights",
    "privacy",
    "notifications",
    "search",
    "sso",
    # Before django_tasks_db: its `db_worker` command is outbox's, which also sweeps.
    "outbox",
    "django_tasks",
    "django_tasks_db",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # On PostgreSQL the database answers each request as the person signed in.
    "privacy.rls.RowSecurityMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "allauth.usersessions.middleware.UserSessionsMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "accounts.middleware.PageFrameMiddleware",
    "accounts.middleware.UserTimezoneMiddleware",
    "accounts.middleware.NoStoreForSignedInMiddleware",
    "accounts.middleware.PrivilegedNeedMFAMiddleware",
    # Last: a transaction around the view for POST, PUT, PATCH and DELETE only.
    "config.transactions.AtomicUnsafeRequestsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.frame",
                "accounts.frame.frame_header_context",
            ],
            # Partials as a builtin, so templates move to Django 6's built-in
            # partials without a {% load %} in each of them.
            "builtins": ["template_partials.templatetags.partials"],
        },
    },
    # Second, so render() keeps the Django engine. Only for hot partials that
    # cannot meet their budget with the Django engine, fetched explicitly with
    # get_template(name, using="jinja2") (issue 15). Autoescape on.
    {
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "NAME": "jinja2",
        "DIRS": [BASE_DIR / "jinja2"],
        "APP_DIRS": False,
        "OPTIONS": {
            "environment": "config.jinja2.environment",
            "autoescape": True,
        },
    },
]
FORM_RENDERER = "config.forms.RapportFormRenderer"

DATABASE_URL = os.environ.get("DATABASE_URL", "sqlite:///db.sqlite3")
DATABASES = {
    "default": {
        **database_from_url(DATABASE_URL, base_dir=BASE_DIR),
        # Not every request: config.transactions wraps the views of unsafe methods, so
        # pages that only read run without BEGIN and COMMIT.
        "ATOMIC_REQUESTS": False,
        # A new PostgreSQL connection per request made simple pages ~7x slower.
        "CONN_MAX_AGE": env_int("CONN_MAX_AGE", 60),
        "CONN_HEALTH_CHECKS": True,
    },
    # The key store (config.routers): the data keys, outside the main database's backups.
    "keys": {
        **database_from_url(
            os.environ.get("RAPPORT_KEYS_DATABASE_URL") or key_store_url(DATABASE_URL),
            base_dir=BASE_DIR,
        ),
        "ATOMIC_REQUESTS": False,
        "CONN_MAX_AGE": env_int("CONN_MAX_AGE", 60),
        "CONN_HEALTH_CHECKS": True,
    },
}
DATABASE_ROUTERS = ["config.routers.KeyStoreRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# A real cache: allauth's rate limits count here, shared by every worker.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "rapport_cache",
    }
}

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"

# django-allauth: email is the login, verification is mandatory.
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_LOGOUT_REDIRECT_URL = "account_login"
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Rapport] "
ACCOUNT_FORMS = {"signup": "accounts.forms.SignupForm", "login": "accounts.adapter.LoginForm"}
# Says how long a sign-in lockout lasts (allauth says only "try again later").
ACCOUNT_ADAPTER = "accounts.adapter.AccountAdapter"
ACCOUNT_DEFAULT_HTTP_PROTOCOL = os.environ.get("ACCOUNT_DEFAULT_HTTP_PROTOCOL", "https")
# Company sign-in (sso): each organisation's provider, from sso.models, never from
# allauth's SocialApp table. Nobody links a provider to an account by email alone.
SOCIALACCOUNT_ADAPTER = "sso.adapter.SocialAccountAdapter"
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False
SOCIALACCOUNT_STORE_TOKENS = False
SOCIALACCOUNT_PROVIDERS = {"saml": {"provider_class": "sso.saml.CompanySAMLProvider"}}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes", "webauthn"]
MFA_TOTP_ISSUER = "Rapport"
# Passkeys: a second factor after the password, or a sign-in of their own (the
# passkey's user verification is the second factor). The relying party is the host
# the page was served from (ALLOWED_HOSTS).
MFA_PASSKEY_LOGIN_ENABLED = True
MFA_FORMS = {"add_webauthn": "accounts.forms.AddPasskeyForm"}
# Only over https, except where local settings allow http://localhost for the demo.
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = False
# Tracking "last seen" writes to the database on every request; the session list
# still shows where and when each session started.
USERSESSIONS_TRACK_ACTIVITY = False

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = 10
# Email goes out from a worker, never from a request: the outbox (outbox/services.py)
# queues it with the change that causes it, in a task of Django's tasks framework.
TASKS = {"default": {"BACKEND": os.environ.get("TASKS_BACKEND", "django_tasks_db.DatabaseBackend")}}
RAPPORT_EMAIL_MAX_ATTEMPTS = env_int("RAPPORT_EMAIL_MAX_ATTEMPTS", 8)
# First retry after a minute, then doubling up to an hour: eight attempts span ~2 hours.
RAPPORT_EMAIL_RETRY_SECONDS = env_int("RAPPORT_EMAIL_RETRY_SECONDS", 60)
RAPPORT_EMAIL_RETRY_MAX_SECONDS = env_int("RAPPORT_EMAIL_RETRY_MAX_SECONDS", 3600)
# A worker's claim on an email it is sending; after it, a worker that died is presumed
# dead and the email is queued again. Well above EMAIL_TIMEOUT.
RAPPORT_EMAIL_SEND_LEASE_SECONDS = env_int("RAPPORT_EMAIL_SEND_LEASE_SECONDS", 120)
# How long a queued email may wait for a worker before its task is presumed lost.
RAPPORT_EMAIL_QUEUED_GRACE_SECONDS = env_int("RAPPORT_EMAIL_QUEUED_GRACE_SECONDS", 120)
RAPPORT_EMAIL_SWEEP_SECONDS = env_int("RAPPORT_EMAIL_SWEEP_SECONDS", 30)
# Sent, cancelled and failed email records (recipients and template) and finished tasks
# are deleted by run_checkins after this many days.
RAPPORT_EMAIL_KEEP_DAYS = env_int("RAPPORT_EMAIL_KEEP_DAYS", 30)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Rapport <rapport@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Requests larger than this are refused with a 400 before any view runs.
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 200

SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
# Database sessions whose rows hold a keyed hash of the cookie, never the cookie itself,
# and shorter ones for HR admins and staff (accounts/sessions.py).
SESSION_ENGINE = "accounts.sessions"
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True

# Strict CSP: no inline scripts or styles anywhere. The TOTP QR code is a data: image.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [NONE],
        "object-src": [NONE],
    }
}

# 500 emails and the debug page show no POST value and no local variable (note bodies,
# comments): see config.errors.
DEFAULT_EXCEPTION_REPORTER_FILTER = "config.errors.PrivateTextReporterFilter"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}

# HR admins and superusers must set up two-factor authentication before they reach
# the organisation page, HR insights or the admin. The local demo turns it off.
RAPPORT_PRIVILEGED_MFA = env_bool("RAPPORT_PRIVILEGED_MFA", True)

# Where links in scheduled emails (check-in reminders) point.
RAPPORT_SITE_URL = os.environ.get("RAPPORT_SITE_URL", "http://127.0.0.1:8000")

# Invitations to an organisation stay valid this long.
RAPPORT_INVITATION_DAYS = env_int("RAPPORT_INVITATION_DAYS", 14)

# Keys for private text at rest: comma-separated base64 32-byte keys, newest first.
# The local and test settings use a fixed development key; production requires one.
RAPPORT_ENCRYPTION_KEYS = os.environ.get("RAPPORT_ENCRYPTION_KEYS", "")

# Company sign-in (sso): the providers HR connects must be on the internet, over https.
RAPPORT_SSO_ALLOW_LOCAL_PROVIDERS = False
