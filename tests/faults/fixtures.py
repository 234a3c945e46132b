"""Fixtures of the faults tier (loaded by conftest.py): private PostgreSQL and Redis that a test may stop and start.

Run it with `make test-faults` (`pytest tests/faults --ds=opsteam.settings.integration`). It starts its own
PostgreSQL (initdb in a temporary directory) and its own Redis with AOF on, as in production, each on a free
port: it stops and restarts them, so it must never touch the machine's shared servers on 5432/6379.
Everything else (the worker and beat processes, bounded waits) comes from the integration tier.
"""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.integration.conftest import (  # hooks and fixtures shared with the integration tier
    _django_point_at,
    django_db_modify_db_settings,
    phase_report_key,
    pytest_configure,
    pytest_runtest_makereport,
    start_celery,
)
from tests.integration.services import (
    STARTUP_TIMEOUT,
    Service,
    ServiceError,
    fail,
    free_port,
    postgres_os_user,
    postgres_problem,
    postgres_start,
    redis_problem,
    spawn,
    wait_until,
)

__all__ = [
    "django_db_modify_db_settings",
    "integration_services",
    "phase_report_key",
    "pytest_configure",
    "pytest_runtest_makereport",
    "start_celery",
]

REDIS_DB = 3


@dataclass
class Restartable:
    """A private server this tier may stop and start again on the same port and data directory."""

    service: Service
    ready: object  # () -> bool
    user: object = None
    downs: list[float] = field(default_factory=list)

    @property
    def url(self) -> str:
        return self.service.url

    def stop(self) -> None:
        process = self.service.process
        process.send_signal(self.service.stop_signal)
        process.wait(timeout=30)
        self.downs.append(time.monotonic())

    def start(self) -> None:
        args = list(self.service.process.args)
        self.service.process = spawn(
            args, log=self.service.log, cwd=self.service.workdir, stop_signal=self.service.stop_signal, user=self.user
        )
        wait_until(
            self.ready, timeout=STARTUP_TIMEOUT, what=f"{self.service.name} restart", process=self.service.process, log=self.service.log
        )


def redis_start_with_aof(db: int) -> Service:
    """Like production: AOF on (fsync every second), noeviction. A restart keeps what was queued."""
    binary = shutil.which("redis-server")
    if binary is None:
        fail("the faults tier needs redis-server on PATH (Debian: apt-get install redis-server).")
    workdir = Path(tempfile.mkdtemp(prefix="opsteam-faults-redis-"))
    service = Service(name="Redis", url="", private=True, workdir=workdir, log=workdir / "redis.log")
    port = free_port()
    command = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "yes", "--appendfsync", "everysec"]
    command += ["--maxmemory-policy", "noeviction", "--dir", str(workdir), "--daemonize", "no", "--databases", "16"]
    service.process = spawn(command, log=service.log, cwd=workdir, stop_signal=signal.SIGTERM)
    service.url = f"redis://127.0.0.1:{port}/{db}"
    wait_until(
        lambda: redis_problem(service.url) is None, timeout=STARTUP_TIMEOUT, what="private Redis", process=service.process, log=service.log
    )
    return service


@dataclass
class FaultServices:
    postgres: Restartable
    redis: Restartable

    @property
    def postgres_url(self) -> str:
        return self.postgres.url

    @property
    def broker_url(self) -> str:
        return self.redis.url


@pytest.fixture(scope="session")
def integration_services():
    """The faults tier's own PostgreSQL and Redis (overrides the integration tier's fixture of the same name)."""
    started: list[Service] = []
    try:
        postgres = postgres_start(os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/opsteam"))
        started.append(postgres)
        broker = redis_start_with_aof(REDIS_DB)
        started.append(broker)
    except ServiceError as exc:
        for service in reversed(started):
            service.stop()
        fail(str(exc))
    _django_point_at(postgres_url=postgres.url, broker_url=broker.url)
    services = FaultServices(
        postgres=Restartable(postgres, ready=lambda: postgres_problem(postgres.url) is None, user=postgres_os_user()),
        redis=Restartable(broker, ready=lambda: redis_problem(broker.url) is None),
    )
    yield services
    for service in reversed(started):
        service.stop()
