"""Small readers for settings that come from the environment."""

import os
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off", ""}


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    word = raw.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {raw!r}.")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}.") from None


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


# SQLite serving concurrent web requests (the demo's threaded runserver): every POST runs
# in a transaction (config.transactions), as does every service that writes, and a
# DEFERRED one that reads, then writes (an audit event) fails at once with "database is
# locked" when another holds the write lock. IMMEDIATE takes the write lock when the
# transaction begins, waiting up to `timeout` seconds for it. Pages that only read
# (GET) run in autocommit and take no lock at all; WAL lets them read while one request
# writes.
SQLITE_OPTIONS = {
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
}


def postgres_prepared_statements() -> dict:
    """psycopg 3's prepared statements, for PostgreSQL only.

    Django sends each query as text with its values quoted in (client-side binding), so
    PostgreSQL parses and plans it afresh every time: most of its CPU on Rapport's pages
    (issue 15). With server-side binding the values travel apart from the query, and
    psycopg prepares a query on a connection once it has run `prepare_threshold` times
    there; from then on PostgreSQL skips parsing and planning it. Persistent
    connections (CONN_MAX_AGE) keep the prepared statements from request to request.

    DATABASE_PREPARED_STATEMENTS=false goes back to Django's default (client-side binding,
    nothing prepared). A connection pooler in transaction mode (PgBouncer's
    pool_mode=transaction) hands each transaction a different server connection, where
    a statement prepared on another does not exist: it needs PgBouncer 1.21 or later
    with max_prepared_statements set (say 200), or else DATABASE_PREPARED_STATEMENTS=false.
    DATABASE_PREPARE_THRESHOLD=none keeps server-side binding but prepares nothing.
    Session-mode pooling, or none, needs nothing."""
    if not env_bool("DATABASE_PREPARED_STATEMENTS", True):
        return {}
    raw = os.environ.get("DATABASE_PREPARE_THRESHOLD", "")
    threshold = None if raw.strip().lower() == "none" else env_int("DATABASE_PREPARE_THRESHOLD", 5)
    options = {"server_side_binding": True, "prepare_threshold": threshold}
    # A prepared statement's plan: by default PostgreSQL plans it afresh for each run
    # until the plan for any value seems no costlier, a guess from the tables' statistics.
    # On one seeded copy of the benchmark's data it kept re-planning the relationship
    # page's read of sessions (0.82 ms a run against 0.32 ms with its generic plan), on
    # another it did not. Rapport's reads select by a person's, a relationship's or an
    # organisation's id, for which one plan serves every value, so planning once is the
    # default; DATABASE_PLAN_CACHE_MODE=auto gives PostgreSQL the choice back. Sent as a
    # connection option, which PgBouncer refuses: behind it, set it on the role (README).
    mode = os.environ.get("DATABASE_PLAN_CACHE_MODE", "force_generic_plan").strip()
    if mode not in {"auto", "force_generic_plan", "force_custom_plan"}:
        raise ImproperlyConfigured(
            "DATABASE_PLAN_CACHE_MODE must be auto, force_generic_plan or force_custom_plan, "
            f"not {mode!r}."
        )
    if mode != "auto":
        options["options"] = f"-c plan_cache_mode={mode}"
    return options


def database_from_url(url: str, *, base_dir: Path) -> dict:
    """Turn DATABASE_URL (sqlite:///path or postgres://user:pass@host:port/name) into
    a Django DATABASES entry."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "sqlite":
        # sqlite:///relative.db and sqlite:////absolute/path.db
        path = unquote(parts.path[1:] if parts.path.startswith("/") else parts.path)
        name = Path(path) if Path(path).is_absolute() else base_dir / path
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(name),
            "OPTIONS": dict(SQLITE_OPTIONS),
        }
    if scheme in {"postgres", "postgresql", "pgsql"}:
        options = {**postgres_prepared_statements(), **dict(parse_qsl(parts.query))}
        # Fail fast when the server is unreachable instead of hanging a worker.
        options.setdefault("connect_timeout", "5")
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": unquote(parts.path.lstrip("/")),
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": parts.hostname or "",
            "PORT": str(parts.port or ""),
            "OPTIONS": options,
        }
    raise ImproperlyConfigured(
        f"DATABASE_URL must start with sqlite:// or postgres://, not {scheme or url!r}."
    )


def key_store_url(database_url: str) -> str:
    """RAPPORT_KEYS_DATABASE_URL when it is not set: beside the main database, a
    database of its own (`rapport` → `rapport_keys`, `db.sqlite3` → `db-keys.sqlite3`).
    Production should give it a server, and a backup retention, of its own (README)."""
    address, question, query = database_url.partition("?")
    folder, _, name = address.rpartition("/")
    if urlsplit(database_url).scheme.lower() == "sqlite":
        stem, dot, suffix = name.rpartition(".")
        name = f"{stem}-keys{dot}{suffix}" if dot else f"{name}-keys"
    else:
        name = f"{name}_keys"
    return f"{folder}/{name}{question}{query}"
