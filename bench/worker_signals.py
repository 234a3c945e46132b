"""Loaded by the benchmark's worker (CELERY_IMPORTS in opsteam/settings/bench.py): counts finished tasks in Redis.

The product's tasks ignore their results; the harness needs to know when a fan-out (one task per team)
is over and how many tasks it took, so every finished task bumps a counter named after it.
"""

from __future__ import annotations

import time

import redis
from celery.signals import task_postrun
from django.conf import settings

DONE_KEY = "bench:done:{name}"
LAST_KEY = "bench:last-finished"
_client: redis.Redis | None = None


def _redis() -> redis.Redis:
    global _client
    if _client is None:
        _client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    return _client


@task_postrun.connect
def task_count(sender=None, state=None, **kwargs) -> None:
    client = _redis()
    client.incr(DONE_KEY.format(name=sender.name))
    if state != "SUCCESS":
        client.incr(DONE_KEY.format(name=f"{sender.name}:{state}"))
    client.set(LAST_KEY, repr(time.time()))
