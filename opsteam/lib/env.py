"""Read settings from the environment; a malformed value stops start-up with a clear message."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import time
from urllib.parse import urlsplit

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
    parsed = urlsplit(raw)
    if parsed.scheme not in schemes:
        allowed = ", ".join(sorted(schemes))
        raise ImproperlyConfigured(f"{name}={raw!r} has scheme {parsed.scheme!r}; expected one of: {allowed}.")
    return raw


DEFAULT_PORTS = {"https": 443, "http": 80}
_HOST = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$")
_ORIGIN = re.compile(r"^(?:(?P<scheme>https?)://)?(?P<host>[^:/]+)(?::(?P<port>\*|[0-9]{1,5}))?$")


@dataclass(frozen=True)
class Origin:
    """A scheme, a host and a port (None: any port) that an outgoing call may go to."""

    scheme: str
    host: str
    port: int | None

    def admits(self, url: str) -> bool:
        """True when `url` goes to exactly this origin: no user info, no other host, no other port."""
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            return False
        if parts.scheme != self.scheme or parts.username is not None or parts.password is not None:
            return False
        # The netloc must be nothing but host[:port]: "\\", "@" or a trailing dot could make
        # another parser (urllib.request's) connect somewhere else than urlsplit says.
        host = parts.hostname or ""
        if parts.netloc.lower() not in {host, f"{host}:{port}"} or host != self.host:
            return False
        if self.port is None:
            return True
        return (port or DEFAULT_PORTS[self.scheme]) == self.port

    def __str__(self) -> str:
        default = DEFAULT_PORTS[self.scheme]
        port = "" if self.port == default else ":*" if self.port is None else f":{self.port}"
        return f"{self.scheme}://{self.host}{port}"


def origin_parse(name: str, text: str) -> Origin:
    """`host`, `scheme://host` or `scheme://host:port` (`:*` for any port); the scheme defaults to https."""
    match = _ORIGIN.match(text.strip().lower())
    if not match or not _HOST.match(match["host"]):
        raise ImproperlyConfigured(f"{name}: {text!r} is not a host name, e.g. oapi.dingtalk.com or http://127.0.0.1:*.")
    scheme = match["scheme"] or "https"
    port = match["port"]
    if port is None:
        return Origin(scheme=scheme, host=match["host"], port=DEFAULT_PORTS[scheme])
    if port == "*":
        return Origin(scheme=scheme, host=match["host"], port=None)
    if not 1 <= int(port) <= 65535:
        raise ImproperlyConfigured(f"{name}: {text!r} has no valid port (1-65535 or *).")
    return Origin(scheme=scheme, host=match["host"], port=int(port))


def env_origins_by_key(name: str, default: str, *, keys: set[str]) -> dict[str, tuple[Origin, ...]]:
    """Comma-separated `key=origin` entries (a key may repeat); every key needs at least one origin."""
    raw = os.environ.get(name) or default
    found: dict[str, list[Origin]] = {key: [] for key in sorted(keys)}
    for entry in (part.strip() for part in raw.split(",")):
        if not entry:
            continue
        key, sep, origin = entry.partition("=")
        key = key.strip().lower()
        if not sep or key not in found:
            raise ImproperlyConfigured(f"{name}: {entry!r} is not <kind>=<host>; kind is one of: {', '.join(sorted(keys))}.")
        found[key].append(origin_parse(name, origin))
    missing = [key for key, origins in found.items() if not origins]
    if missing:
        raise ImproperlyConfigured(f"{name} lists no host for: {', '.join(missing)}. Give at least one <kind>=<host> for each.")
    return {key: tuple(origins) for key, origins in found.items()}


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
    else:
        from opsteam.lib.db import PREPARE_THRESHOLD

        # Lets opsteam.lib.db.prepared_cursor's few hot statements be planned once per connection; the ORM's
        # client-side binding cursors never prepare, whatever this says. Off for an old transaction pooler.
        if env_bool("DATABASE_PREPARED_STATEMENTS", True):
            config.setdefault("OPTIONS", {}).setdefault("prepare_threshold", PREPARE_THRESHOLD)
    return config
