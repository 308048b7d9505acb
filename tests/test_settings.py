import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
KEY = "cHJvZHVjdGlvbi10ZXN0LWtleS1ub3QtcmVhbC0wMSE="  # base64 of 32 bytes


def _run(args, **env_changes):
    # As production would run: none of the test-only variables.
    dropped = {
        "SECRET_KEY",
        "ALLOWED_HOSTS",
        "RAPPORT_ENCRYPTION_KEYS",
        "DJANGO_ALLOW_ASYNC_UNSAFE",
    }
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    env.update(env_changes)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_refuses_to_start_without_secret_key():
    result = _run(
        ["check"],
        DJANGO_SETTINGS_MODULE="config.settings.production",
        ALLOWED_HOSTS="rapport.example",
        RAPPORT_ENCRYPTION_KEYS=KEY,
    )

    assert result.returncode != 0
    assert "The SECRET_KEY environment variable is required in production" in result.stderr


def test_production_refuses_to_start_without_allowed_hosts():
    result = _run(
        ["check"],
        DJANGO_SETTINGS_MODULE="config.settings.production",
        SECRET_KEY="x" * 60,
        RAPPORT_ENCRYPTION_KEYS=KEY,
    )

    assert result.returncode != 0
    assert "ALLOWED_HOSTS environment variable is required" in result.stderr


def test_production_settings_pass_the_deployment_checklist():
    result = _run(
        ["check", "--deploy", "--fail-level", "WARNING"],
        DJANGO_SETTINGS_MODULE="config.settings.production",
        SECRET_KEY="a-throwaway-secret-for-the-test-" + "k" * 40,
        ALLOWED_HOSTS="rapport.example",
        RAPPORT_ENCRYPTION_KEYS=KEY,
    )

    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_debug_is_off_unless_local_settings_turn_it_on():
    script = "from django.conf import settings; print(settings.DEBUG)"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "SECRET_KEY": "k" * 60,
        "ALLOWED_HOSTS": "rapport.example",
        "RAPPORT_ENCRYPTION_KEYS": KEY,
    }
    env.pop("DEBUG", None)
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout.strip() == "False", result.stderr


def test_production_refuses_to_start_without_encryption_keys():
    result = _run(
        ["check"],
        DJANGO_SETTINGS_MODULE="config.settings.production",
        SECRET_KEY="x" * 60,
        ALLOWED_HOSTS="rapport.example",
    )

    assert result.returncode != 0
    assert "The RAPPORT_ENCRYPTION_KEYS environment variable is required" in result.stderr


def test_production_hardening():
    script = (
        "import json; from django.conf import settings as s;"
        "print(json.dumps({"
        "'csp': s.CONTENT_SECURITY_POLICY['DIRECTIVES'],"
        "'secure': [s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE],"
        "'httponly': [s.SESSION_COOKIE_HTTPONLY, s.CSRF_COOKIE_HTTPONLY],"
        "'samesite': [s.SESSION_COOKIE_SAMESITE, s.CSRF_COOKIE_SAMESITE],"
        "'hsts': s.SECURE_HSTS_SECONDS, 'hasher': s.PASSWORD_HASHERS[0],"
        "'ssl': s.SECURE_SSL_REDIRECT, 'debug': s.DEBUG}))"
    )
    env = {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "SECRET_KEY": "k" * 60,
        "ALLOWED_HOSTS": "rapport.example",
        "RAPPORT_ENCRYPTION_KEYS": KEY,
    }
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup();" + script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    settings = json.loads(result.stdout)
    policy = json.dumps(settings["csp"])
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert settings["csp"]["script-src"] == ["'self'"]
    assert settings["csp"]["style-src"] == ["'self'"]
    assert settings["secure"] == [True, True]
    assert settings["httponly"] == [True, True]
    assert settings["samesite"] == ["Lax", "Lax"]
    assert settings["hsts"] >= 31536000
    assert settings["hasher"] == "django.contrib.auth.hashers.Argon2PasswordHasher"
    assert settings["ssl"] is True and settings["debug"] is False


@pytest.mark.parametrize(
    ("database_url", "key_store"),
    [
        ("sqlite:///db.sqlite3", "sqlite:///db-keys.sqlite3"),
        ("sqlite:////tmp/demo/demo.sqlite3", "sqlite:////tmp/demo/demo-keys.sqlite3"),
        (
            "postgres://rapport_app:secret@db:5432/rapport?sslmode=require",
            "postgres://rapport_app:secret@db:5432/rapport_keys?sslmode=require",
        ),
    ],
)
def test_the_key_store_sits_beside_the_database_unless_told(database_url, key_store):
    from config.env import key_store_url

    assert key_store_url(database_url) == key_store


def test_prepared_statements_are_planned_once_unless_told(monkeypatch):
    from django.core.exceptions import ImproperlyConfigured

    from config.env import postgres_prepared_statements

    monkeypatch.delenv("DATABASE_PLAN_CACHE_MODE", raising=False)
    assert postgres_prepared_statements()["options"] == "-c plan_cache_mode=force_generic_plan"
    monkeypatch.setenv("DATABASE_PLAN_CACHE_MODE", "auto")
    assert "options" not in postgres_prepared_statements()
    monkeypatch.setenv("DATABASE_PLAN_CACHE_MODE", "sometimes")
    with pytest.raises(ImproperlyConfigured, match="DATABASE_PLAN_CACHE_MODE"):
        postgres_prepared_statements()
