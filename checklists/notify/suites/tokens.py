"""Each suite app's access token: cached in Redis, renewed before it expires, by one worker at a time.

The token lives under a key naming the app and its credentials' version, with a TTL of the vendor's
`expires_in` less RENEW_MARGIN: a worker that finds it missing takes the app's lock, looks again (another
worker may have just renewed it) and only then asks the vendor. A call answered "token expired" (the
vendor revoked it early, or clocks differ) asks for a token *other than the one it used*: of twenty
workers that met the same expired token, the first renews and the other nineteen find its new one.

Without Redis (a laptop on the filesystem broker, the fast tests) one process-local store stands in.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache

from django.conf import settings

logger = logging.getLogger("opsteam.suites")

RENEW_MARGIN = 300  # seconds before the vendor's expiry (both DingTalk and WeCom give 7200, Feishu up to 7200)
LOCK_TIMEOUT = 20  # a renewing worker that died frees the lock after this long
LOCK_WAIT = 25


class TokenUnavailable(Exception):
    """The lock could not be had in time, or the vendor refused to give a token."""


class LocalStore:
    """The same few operations as RedisStore, for one process."""

    def __init__(self) -> None:
        self._data: dict[str, tuple[str, float]] = {}
        self._guard = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}

    def _live(self, key: str) -> str | None:
        value = self._data.get(key)
        if value and value[1] > time.monotonic():
            return value[0]
        self._data.pop(key, None)
        return None

    def get(self, key: str) -> str | None:
        with self._guard:
            return self._live(key)

    def set(self, key: str, value: str, ex: int) -> None:
        with self._guard:
            self._data[key] = (value, time.monotonic() + ex)

    def add(self, key: str, value: str, ex: int) -> bool:
        with self._guard:
            if self._live(key) is not None:
                return False
            self._data[key] = (value, time.monotonic() + ex)
            return True

    def delete(self, key: str) -> None:
        with self._guard:
            self._data.pop(key, None)

    @contextmanager
    def lock(self, name: str) -> Iterator[None]:
        with self._guard:
            lock = self._locks.setdefault(name, threading.Lock())
        if not lock.acquire(timeout=LOCK_WAIT):
            raise TokenUnavailable(f"lock {name} not free after {LOCK_WAIT} s")
        try:
            yield
        finally:
            lock.release()


class RedisStore:
    def __init__(self, url: str) -> None:
        import redis

        self.client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)

    def get(self, key: str) -> str | None:
        value = self.client.get(key)
        return value.decode() if value is not None else None

    def set(self, key: str, value: str, ex: int) -> None:
        self.client.set(key, value, ex=max(1, ex))

    def add(self, key: str, value: str, ex: int) -> bool:
        return bool(self.client.set(key, value, ex=max(1, ex), nx=True))

    def delete(self, key: str) -> None:
        self.client.delete(key)

    @contextmanager
    def lock(self, name: str) -> Iterator[None]:
        import redis.exceptions

        lock = self.client.lock(name, timeout=LOCK_TIMEOUT, blocking_timeout=LOCK_WAIT)
        try:
            acquired = lock.acquire()
        except redis.exceptions.RedisError as exc:
            raise TokenUnavailable(str(exc)) from exc
        if not acquired:
            raise TokenUnavailable(f"lock {name} not free after {LOCK_WAIT} s")
        try:
            yield
        finally:
            try:
                lock.release()
            except redis.exceptions.LockError:  # it outlived LOCK_TIMEOUT: another worker may hold it now
                logger.warning("suite token lock %s expired before release", name)


def store_url() -> str:
    url = getattr(settings, "OPSTEAM_SUITE_REDIS_URL", "") or ""
    if not url and settings.CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
        url = settings.CELERY_BROKER_URL
    return url


@cache
def _store_for(url: str) -> LocalStore | RedisStore:
    return RedisStore(url) if url else LocalStore()


def suite_store() -> LocalStore | RedisStore:
    return _store_for(store_url())


def token_key(app) -> str:
    return f"opsteam:suite:{app.pk}:v{app.credentials_version}:token"


def token_get(app, *, fetch: Callable[[], tuple[str, int]], stale: str | None = None) -> str:
    """The app's token: the cached one unless it is `stale`; else renewed under the app's lock (once for all workers).

    `fetch` asks the vendor and returns (token, expires_in seconds).
    """
    store = suite_store()
    key = token_key(app)
    cached = store.get(key)
    if cached and cached != stale:
        return cached
    with store.lock(f"opsteam:suite:{app.pk}:token-lock"):
        cached = store.get(key)
        if cached and cached != stale:
            return cached
        token, expires_in = fetch()
        store.set(key, token, ex=max(30, int(expires_in) - RENEW_MARGIN))
        logger.info("suite app %s (%s): access token renewed, valid %s s", app.pk, app.kind, expires_in)
        return token


def token_forget(app) -> None:
    suite_store().delete(token_key(app))


def seen(key: str) -> bool:
    """True when `key` (a verified callback's timestamp, nonce and signature) was recorded: a replay."""
    return suite_store().get(f"opsteam:suite:seen:{key}") is not None


def seen_record(key: str, *, ttl: int) -> None:
    """Record a callback as handled, for `ttl` seconds. Called once its work committed (callbacks.suite_callback_handle):
    recorded at verification, a crash while acting would make the vendor's retry of the same request a "replay"."""
    suite_store().add(f"opsteam:suite:seen:{key}", "1", ex=ttl)
