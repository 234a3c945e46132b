"""Integration tier: real PostgreSQL, real Redis, a real Celery worker and beat.

Run it with `make test-integration`, i.e. `pytest tests/integration --ds=opsteam.settings.integration`.
pytest-django imports the settings before any conftest, so the settings module has to come from the
command line (`--ds`) or the DJANGO_SETTINGS_MODULE environment variable; a run with other settings stops.

Servers. Before Django first connects, the tier checks that the configured servers answer:

  DATABASE_URL       PostgreSQL server (default postgres://postgres@127.0.0.1:5432/opsteam). The tests
                     use their own database test_<name> on it, created and dropped by pytest-django.
  CELERY_BROKER_URL  Redis server (default redis://127.0.0.1:6379/0). Only the host and port are used:
                     the tier takes database OPSTEAM_TEST_REDIS_DB and flushes it at the start.

Where nothing answers at a configured address, the tier starts a private server from the installed
binaries (initdb/postgres under /usr/lib/postgresql/*/bin, redis-server on PATH) in a temporary directory
on a free port, and removes it at the end of the session. Missing binaries, or a server that answers
but refuses us, stop the run with exit code 1 and a message saying what to install or fix; nothing skips.

  OPSTEAM_TEST_SERVICES     auto (default): the configured servers if they answer, else private ones;
                            private: always private servers; external: never start a server.
  OPSTEAM_TEST_REDIS_DB     the Redis database number the tier owns and flushes (default 15).
  OPSTEAM_TEST_PG_BIN       directory holding initdb and postgres (default: newest /usr/lib/postgresql/*/bin).
  OPSTEAM_TEST_PG_OS_USER   as root, the user a private PostgreSQL runs as (default postgres).

e.g. `OPSTEAM_TEST_SERVICES=private make test-integration` runs the tier without any server installed as a service.
"""

from __future__ import annotations

import os
import signal
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.integration.processes import CeleryProcess, database_url_for_processes
from tests.integration.services import ServiceError, fail, postgres_ensure, redis_ensure, redis_flush, spawn

INTEGRATION_SETTINGS = "opsteam.settings.integration"
MODES = ("auto", "private", "external")
# Bounds any lock wait in the test process, so a stuck transaction fails a test instead of hanging the run.
DB_TIMEOUTS = "-c lock_timeout=30s -c statement_timeout=90s"

services_key = pytest.StashKey[list]()
phase_report_key = pytest.StashKey[dict]()


def pytest_configure(config: pytest.Config) -> None:
    from django.conf import settings

    if settings.SETTINGS_MODULE != INTEGRATION_SETTINGS:
        fail(
            f"these tests need --ds={INTEGRATION_SETTINGS} (`make test-integration`); this run uses {settings.SETTINGS_MODULE}. "
            "For the fast tier run `make test-fast`."
        )
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        fail(f"DATABASE_URL must name a PostgreSQL server, not {settings.DATABASES['default']['ENGINE']}.")


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call):
    """Keep each phase's report on the item, so fixtures can tell in teardown whether the test failed."""
    report = yield
    item.stash.setdefault(phase_report_key, {})[report.when] = report
    return report


def pytest_terminal_summary(terminalreporter, config: pytest.Config) -> None:
    for service in config.stash.get(services_key, []):
        terminalreporter.write_line(f"integration tier used {service.describe()}")


@dataclass
class IntegrationServices:
    postgres_url: str
    broker_url: str


@pytest.fixture(scope="session")
def integration_services(request: pytest.FixtureRequest):
    """The PostgreSQL and Redis this session uses, Django pointed at them; private ones stop at the end."""
    mode = os.environ.get("OPSTEAM_TEST_SERVICES", "auto")
    if mode not in MODES:
        fail(f"OPSTEAM_TEST_SERVICES={mode!r}: use one of {', '.join(MODES)}.")
    try:
        redis_db = int(os.environ.get("OPSTEAM_TEST_REDIS_DB", "15"))
    except ValueError:
        fail(f"OPSTEAM_TEST_REDIS_DB={os.environ['OPSTEAM_TEST_REDIS_DB']!r} is not a database number.")

    started = []
    request.config.stash[services_key] = started
    try:
        postgres = postgres_ensure(os.environ["DATABASE_URL"], mode=mode)
        started.append(postgres)
        broker = redis_ensure(os.environ["CELERY_BROKER_URL"], db=redis_db, mode=mode)
        started.append(broker)
        redis_flush(broker.url)
    except ServiceError as exc:
        for service in reversed(started):
            service.stop()
        fail(str(exc))

    _django_point_at(postgres_url=postgres.url, broker_url=broker.url)
    yield IntegrationServices(postgres_url=postgres.url, broker_url=broker.url)
    for service in reversed(started):
        service.stop()


def _django_point_at(*, postgres_url: str, broker_url: str) -> None:
    """The settings were read before the servers were known: update them in place, before any connection."""
    from django.conf import settings

    from opsteam.celery import app
    from opsteam.lib.env import database_from_url

    os.environ["DATABASE_URL"] = postgres_url
    os.environ["CELERY_BROKER_URL"] = broker_url
    found = database_from_url("DATABASE_URL", postgres_url)
    default = settings.DATABASES["default"]
    for key in ("NAME", "USER", "PASSWORD", "HOST", "PORT"):
        default[key] = found[key]
    default.setdefault("OPTIONS", {})["options"] = DB_TIMEOUTS
    settings.CELERY_BROKER_URL = broker_url
    app.conf.broker_url = broker_url


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix, integration_services) -> None:
    """pytest-django's hook that runs before the test database is created: the servers must be there first."""


# --- a real worker and beat ------------------------------------------------------------------------


@pytest.fixture
def start_celery(request: pytest.FixtureRequest, transactional_db, integration_services, tmp_path):
    """A function: start_celery("worker", ...) runs `celery -A opsteam worker ...` on the test database and the tier's Redis.

    The processes stop before the test database is flushed; their logs are printed when the test fails.
    """
    from django.conf import settings

    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": INTEGRATION_SETTINGS,
        "DATABASE_URL": database_url_for_processes(),
        "CELERY_BROKER_URL": integration_services.broker_url,
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("CELERY_TASK_ALWAYS_EAGER", None)
    # An earlier test's beat may have sent a task its worker never took: it must not run in this test.
    redis_flush(integration_services.broker_url)
    started: list[CeleryProcess] = []

    def start(command_name: str, *args: str) -> CeleryProcess:
        name = f"{command_name}-{len(started) + 1}"
        log = tmp_path / f"{name}.log"
        command = [sys.executable, "-m", "celery", "-A", "opsteam", command_name, *args]
        process = spawn(command, log=log, cwd=Path(settings.BASE_DIR), stop_signal=signal.SIGTERM, env=env)
        started.append(CeleryProcess(name=name, process=process, log=log))
        return started[-1]

    yield start

    # Beat first (started last), so it sends nothing after the worker is gone.
    for celery_process in reversed(started):
        celery_process.stop()
    reports = request.node.stash.get(phase_report_key, {})
    if any(report.failed for report in reports.values()):
        for celery_process in started:
            sys.stderr.write(f"\n----- celery {celery_process.name} (exit code {celery_process.process.returncode}) -----\n")
            sys.stderr.write(celery_process.output())
