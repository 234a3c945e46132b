"""Real Celery processes started by a test, and bounded waiting for what they do."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar
from urllib.parse import quote

import pytest

T = TypeVar("T")
STOP_TIMEOUT = 15.0


def database_url_for_processes() -> str:
    """The URL of the database the tests write to (pytest-django's test_<name>), for processes a test starts."""
    from django.db import connection

    cfg = connection.settings_dict
    auth = quote(cfg["USER"] or "", safe="")
    if cfg["PASSWORD"]:
        auth += ":" + quote(cfg["PASSWORD"], safe="")
    host = cfg["HOST"] or "127.0.0.1"
    port = f":{cfg['PORT']}" if cfg["PORT"] else ""
    return f"postgres://{auth}@{host}{port}/{quote(cfg['NAME'], safe='')}"


@dataclass
class CeleryProcess:
    name: str
    process: subprocess.Popen
    log: Path

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        """SIGTERM to the whole process group, SIGKILL if it is still there after a while."""
        with contextlib.suppress(ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=STOP_TIMEOUT)
        # Also ends children that outlived their leader: nothing may keep a connection to the test database.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pytest.fail(f"celery {self.name} (pid {self.process.pid}) did not die after SIGKILL")


def wait_for(predicate: Callable[[], T], *, timeout: float, what: str, processes: Sequence[CeleryProcess] = (), interval=0.25) -> T:
    """Poll until `predicate()` returns something truthy and return it; fail after `timeout` s or when a process dies."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        for celery in processes:
            if not celery.alive():
                pytest.fail(f"celery {celery.name} exited with code {celery.process.returncode} while waiting for {what}")
        if time.monotonic() >= deadline:
            pytest.fail(f"no {what} after {timeout:.0f} s")
        time.sleep(interval)
