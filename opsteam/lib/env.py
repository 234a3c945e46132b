"""Read settings from the environment; a malformed value stops start-up with a clear message."""

from __future__ import annotations

import os
from datetime import time
from urllib.parse import urlparse

from django.core.exceptions import ImproperlyConfigured


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean; use 1/0, true/false, yes/no or on/off.")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a whole number.") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name}={value} must be at least {minimum}.")
    return value


def env_choice(name: str, default: str, *, choices: set[str]) -> str:
    raw = os.environ.get(name) or default
    if raw not in choices:
        raise ImproperlyConfigured(f"{name}={raw!r} is not one of: {', '.join(sorted(choices))}.")
    return raw


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [part.strip() for part in raw.split(",") if part.strip()]


def env_time(name: str, default: str) -> time:
    raw = os.environ.get(name) or default
    try:
        return time.fromisoformat(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a time of day; write it as HH:MM, e.g. 12:00.") from None


def env_url(name: str, default: str, *, schemes: set[str]) -> str:
    """A URL whose scheme must be one of `schemes`."""
    raw = os.environ.get(name) or default
    parsed = urlparse(raw)
    if parsed.scheme not in schemes:
        allowed = ", ".join(sorted(schemes))
        raise ImproperlyConfigured(f"{name}={raw!r} has scheme {parsed.scheme!r}; expected one of: {allowed}.")
    return raw


def database_from_url(name: str, default: str) -> dict:
    import dj_database_url

    raw = env_url(name, default, schemes={"sqlite", "postgres", "postgresql", "pgsql"})
    try:
        # DATABASE_CONN_MAX_AGE > 0 keeps connections open between requests and tasks: a new PostgreSQL
        # connection costs more than a whole tick (issue 8), e.g. one per task in the morning run's 500 tasks.
        max_age = env_int("DATABASE_CONN_MAX_AGE", 0, minimum=0)
        config = dj_database_url.parse(raw, conn_max_age=max_age, conn_health_checks=max_age > 0)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a database URL: {exc}") from None
    if config["ENGINE"] == "django.db.backends.sqlite3":
        # Web, worker and beat share one file in `make run`: wait for the lock instead of failing,
        # take the write lock at BEGIN so two writers never deadlock, and let readers run beside a writer.
        config["OPTIONS"] = {
            "timeout": 30,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    return config
