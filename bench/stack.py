"""The servers the benchmark uses: its own PostgreSQL database, Redis database 10, a Celery worker, gunicorn.

Everything runs on loopback. Every process the harness starts is stopped by its process group, and every
wait is bounded, so a stuck server ends the run with a message instead of hanging it.
"""

from __future__ import annotations

import contextlib
import io
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

BASE_DIR = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
DB_NAME = os.environ.get("BENCH_DB_NAME", "opsteam_bench")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/10")
SETTINGS = "opsteam.settings.bench"
LOG_DIR = BASE_DIR / "var" / "bench"


class StackError(Exception):
    """A server the benchmark needs is not there; the message says what to start."""


def database_url() -> str:
    parts = urlsplit(PG_ADMIN_URL)
    return f"postgres://{parts.netloc}/{DB_NAME}"


def servers_check() -> None:
    import psycopg
    import redis

    try:
        with psycopg.connect(PG_ADMIN_URL, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        raise StackError(
            f"PostgreSQL is not reachable at {PG_ADMIN_URL} ({str(exc).strip().splitlines()[0]}). "
            "Start it (e.g. `service postgresql start`) or set BENCH_PG_URL."
        ) from None
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3).ping()
    except redis.RedisError as exc:
        raise StackError(
            f"Redis is not reachable at {REDIS_URL} ({exc}). Start it (e.g. `service redis-server start`) or set BENCH_REDIS_URL."
        ) from None


def database_recreate() -> None:
    """Drop and create the benchmark's own database; no other database is touched."""
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DB_NAME}"')


def database_drop() -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')


def redis_client():
    import redis

    return redis.Redis.from_url(REDIS_URL)


def environment() -> dict[str, str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": SETTINGS,
        "DATABASE_URL": database_url(),
        "CELERY_BROKER_URL": REDIS_URL,
        "PYTHONUNBUFFERED": "1",
        "PYTHONPATH": str(BASE_DIR),
        # Persistent connections, as README's Performance section recommends for production (web and worker).
        "DATABASE_CONN_MAX_AGE": os.environ.get("DATABASE_CONN_MAX_AGE", "60"),
    }
    env.pop("CELERY_TASK_ALWAYS_EAGER", None)
    return env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Process:
    name: str
    popen: subprocess.Popen
    log: Path

    def alive(self) -> bool:
        return self.popen.poll() is None

    def tail(self, lines: int = 30) -> str:
        text = self.log.read_text(encoding="utf-8", errors="replace").splitlines() if self.log.exists() else []
        return "\n".join(text[-lines:])

    def stop(self) -> None:
        """SIGTERM to the process group, SIGKILL after 15 s."""
        with contextlib.suppress(ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(self.popen.pid, signal.SIGTERM)
            self.popen.wait(timeout=15)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(timeout=5)


def spawn(name: str, command: list[str]) -> Process:
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    log = LOG_DIR / f"{name}.log"
    handle = log.open("w", encoding="utf-8")
    popen = subprocess.Popen(
        command, cwd=BASE_DIR, env=environment(), stdout=handle, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
    )
    return Process(name=name, popen=popen, log=log)


def wait_for(predicate, *, timeout: float, what: str, process: Process | None = None, interval: float = 0.01):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if process is not None and not process.alive():
            raise StackError(f"{process.name} exited while waiting for {what}:\n{process.tail()}")
        if time.monotonic() > deadline:
            raise StackError(f"no {what} after {timeout:.0f} s" + (f":\n{process.tail()}" if process else ""))
        time.sleep(interval)


def worker_start(*, concurrency: int = 2) -> Process:
    """A real Celery worker on the benchmark's Redis database, prefork with one process per core."""
    worker = spawn(
        "worker",
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "opsteam",
            "worker",
            "--loglevel=WARNING",
            f"--concurrency={concurrency}",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-n",
            "bench@%h",
        ],
    )
    client = redis_client()
    client.delete("bench:done:opsteam.ping")
    from opsteam.celery import app

    def answered() -> bool:
        app.send_task("opsteam.ping")
        return wait_quick(lambda: client.get("bench:done:opsteam.ping"), 1.0)

    wait_for(answered, timeout=60, what="a Celery worker answering", process=worker, interval=0.1)
    return worker


def wait_quick(predicate, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def gunicorn_start(*, workers: int = 2, threads: int = 1) -> tuple[Process, int]:
    """gunicorn on 127.0.0.1 only, on a free port; returns the process and the port once it answers."""
    import http.client

    port = free_port()
    process = spawn(
        "gunicorn",
        [
            sys.executable,
            "-m",
            "gunicorn",
            "opsteam.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--threads",
            str(threads),
            "--log-level",
            "warning",
            "--timeout",
            "60",
        ],
    )

    def answers() -> bool:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz/")
            return conn.getresponse().status == 200
        except OSError:
            return False

    wait_for(answers, timeout=60, what="gunicorn answering /healthz/", process=process, interval=0.2)
    return process, port


def bench_prepare(command: str) -> bool:
    """What every bench entry point does first: the servers answer, this bench's database is new, Redis is empty,
    Django is set up on them and migrated. False (said on stderr) when a server does not answer."""
    try:
        servers_check()
    except StackError as exc:
        print(f"{command}: {exc}", file=sys.stderr)
        return False
    keep = ("DJANGO_SETTINGS_MODULE", "DATABASE_URL", "CELERY_BROKER_URL", "DATABASE_CONN_MAX_AGE")
    os.environ.update({k: v for k, v in environment().items() if k in keep})
    database_recreate()
    redis_client().flushdb()
    import django

    django.setup()
    from django.core.management import call_command

    print(f"{command}: database {DB_NAME}, Redis {REDIS_URL}; migrating ...", flush=True)
    call_command("migrate", verbosity=0, interactive=False)
    return True


def tables_snapshot(tables: list[str]) -> dict[str, bytes]:
    """Each table's rows as COPY writes them: what the reference loads back."""
    from django.db import connection

    connection.ensure_connection()
    out: dict[str, bytes] = {}
    with connection.connection.cursor() as cursor:
        for table in tables:
            buffer = io.BytesIO()
            with cursor.copy(f"COPY {table} TO STDOUT") as copy:
                for block in copy:
                    buffer.write(block)
            out[table] = buffer.getvalue()
    connection.connection.commit()
    return out


def tables_copy_in(snapshot: dict[str, bytes]) -> float:
    """Seconds to COPY the snapshot's rows back in, in one transaction: the machine's own limit for those rows."""
    from django.db import connection

    connection.ensure_connection()
    raw = connection.connection
    start = time.perf_counter()
    with raw.transaction(), raw.cursor() as cursor:
        for table, rows in snapshot.items():
            with cursor.copy(f"COPY {table} FROM STDIN") as copy:
                copy.write(rows)
    return time.perf_counter() - start
