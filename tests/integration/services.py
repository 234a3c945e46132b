"""PostgreSQL and Redis for the integration tier: the configured servers if they answer, else private ones.

A private server runs from the installed binaries in a temporary directory on a free port, as a child of
the pytest process (it is also told to stop if pytest dies), and is removed at the end of the session.
Every wait here is bounded; a server that cannot be used stops the run with a message saying what to do.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import dj_database_url
import psycopg
import pytest
import redis

STARTUP_TIMEOUT = 30.0
STOP_TIMEOUT = 15.0
PG_PACKAGES = "postgresql"
REDIS_PACKAGES = "redis-server"


class ServiceError(Exception):
    """A server that cannot be used; the message says why and what to do."""


@dataclass
class Service:
    """A server the tier uses: where it is, and for a private one, the process and directory to clean up."""

    name: str
    url: str
    private: bool = False
    process: subprocess.Popen | None = None
    workdir: Path | None = None
    log: Path | None = None
    stop_signal: int = signal.SIGTERM

    def describe(self) -> str:
        where = redact(self.url)
        return f"{self.name}: private server at {where} (from {self.workdir})" if self.private else f"{self.name}: {where}"

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(self.stop_signal)
            try:
                self.process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=STOP_TIMEOUT)
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)


def redact(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


def fail(message: str) -> None:
    """Stop the whole run (never a skip): the tier is worth nothing without its servers."""
    pytest.exit(f"integration tier: {message}", returncode=1)


# --- waiting and processes -------------------------------------------------------------------------


def wait_until(predicate: Callable[[], bool], *, timeout: float, what: str, interval: float = 0.1, process=None, log=None) -> None:
    """Poll `predicate` until it is true; raise ServiceError after `timeout` s or if `process` exits first."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return
        if process is not None and process.poll() is not None:
            raise ServiceError(f"{what}: the process exited with code {process.returncode}.\n{log_tail(log)}")
        if time.monotonic() >= deadline:
            raise ServiceError(f"{what}: not ready after {timeout:.0f} s.\n{log_tail(log)}")
        time.sleep(interval)


def log_tail(log: Path | None, lines: int = 40) -> str:
    if log is None or not log.exists():
        return ""
    text = log.read_text(encoding="utf-8", errors="replace").splitlines()
    return "\n".join(text[-lines:])


def die_with_parent(sig: int) -> Callable[[], None]:
    """A preexec_fn: the child gets `sig` when pytest dies, so a killed run leaves no server behind (Linux)."""

    def preexec() -> None:
        with contextlib.suppress(OSError, AttributeError):  # not Linux: no parent-death signal
            ctypes.CDLL(None, use_errno=True).prctl(1, sig)  # PR_SET_PDEATHSIG

    return preexec


def spawn(
    command: list[str], *, log: Path, cwd: Path, stop_signal: int, user: pwd.struct_passwd | None = None, env: dict | None = None
) -> subprocess.Popen:
    """Start `command` in its own process group, output to `log`; it gets `stop_signal` if pytest dies."""
    kwargs: dict = {}
    if user is not None:
        kwargs = {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}
    with open(log, "ab") as out:
        return subprocess.Popen(
            command,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=die_with_parent(stop_signal),  # only sets the parent-death signal
            **kwargs,
        )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def listening(host: str, port: int) -> bool:
    """Does anything accept connections there (a server that may still refuse us)?"""
    try:
        if host.startswith("/"):
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.settimeout(2)
                sock.connect(f"{host}/.s.PGSQL.{port}")
        else:
            socket.create_connection((host, port), timeout=2).close()
    except OSError:
        return False
    return True


# --- PostgreSQL ------------------------------------------------------------------------------------


def postgres_problem(url: str) -> str | None:
    """None if PostgreSQL at `url` accepts us on its maintenance database (what Django uses to create the test DB)."""
    cfg = dj_database_url.parse(url)
    try:
        with psycopg.connect(
            host=cfg["HOST"] or None,
            port=cfg["PORT"] or None,
            user=cfg["USER"] or None,
            password=cfg["PASSWORD"] or None,
            dbname="postgres",
            connect_timeout=3,
        ):
            return None
    except psycopg.Error as exc:
        return str(exc).strip() or exc.__class__.__name__


def postgres_bindir() -> Path:
    """OPSTEAM_TEST_PG_BIN, else the newest /usr/lib/postgresql/<version>/bin, else initdb on PATH."""
    configured = os.environ.get("OPSTEAM_TEST_PG_BIN")
    if configured:
        candidates = [Path(configured)]
    else:

        def version(path: Path) -> tuple[int, ...]:
            return tuple(int(part) for part in re.findall(r"\d+", path.parent.name)) or (0,)

        candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=version, reverse=True)
        on_path = shutil.which("initdb")
        if on_path:
            candidates.append(Path(on_path).parent)
    for bindir in candidates:
        if (bindir / "initdb").is_file() and (bindir / "postgres").is_file():
            return bindir
    raise ServiceError(
        "no PostgreSQL server answers and no PostgreSQL binaries (initdb, postgres) were found "
        f"{'in OPSTEAM_TEST_PG_BIN=' + configured if configured else 'under /usr/lib/postgresql/*/bin or on PATH'}. "
        f"Install them (Debian: apt-get install {PG_PACKAGES}) or point DATABASE_URL at a running server."
    )


def postgres_os_user() -> pwd.struct_passwd | None:
    """PostgreSQL refuses to run as root: as root, run it as OPSTEAM_TEST_PG_OS_USER (default postgres)."""
    if os.geteuid() != 0:
        return None
    name = os.environ.get("OPSTEAM_TEST_PG_OS_USER", "postgres")
    try:
        return pwd.getpwnam(name)
    except KeyError:
        raise ServiceError(
            f"a private PostgreSQL cannot run as root and there is no user {name!r} to run it as. "
            f"Create one, set OPSTEAM_TEST_PG_OS_USER to an existing non-root user, or run the tests as a non-root user."
        ) from None


def postgres_start(configured_url: str) -> Service:
    bindir = postgres_bindir()
    user = postgres_os_user()
    workdir = Path(tempfile.mkdtemp(prefix="opsteam-it-pg-"))
    service = Service(name="PostgreSQL", url="", private=True, workdir=workdir, log=workdir / "postgres.log", stop_signal=signal.SIGINT)
    try:
        if user is not None:
            os.chown(workdir, user.pw_uid, user.pw_gid)
        data = workdir / "data"
        initdb = [str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--no-locale", "--no-sync"]
        kwargs: dict = {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []} if user else {}
        done = subprocess.run(initdb, cwd=workdir, capture_output=True, text=True, timeout=120, check=False, **kwargs)
        if done.returncode != 0:
            raise ServiceError(f"initdb failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
        port = free_port()
        settings = {
            "listen_addresses": "127.0.0.1",
            "unix_socket_directories": str(workdir),
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "max_connections": "60",
        }
        command = [str(bindir / "postgres"), "-D", str(data), "-p", str(port)]
        for key, value in settings.items():
            command += ["-c", f"{key}={value}"]
        service.process = spawn(command, log=service.log, cwd=workdir, stop_signal=signal.SIGINT, user=user)
        name = dj_database_url.parse(configured_url)["NAME"] or "opsteam"
        service.url = f"postgres://postgres@127.0.0.1:{port}/{quote(name)}"
        wait_until(
            lambda: postgres_problem(service.url) is None,
            timeout=STARTUP_TIMEOUT,
            interval=0.2,
            what="private PostgreSQL",
            process=service.process,
            log=service.log,
        )
    except BaseException:
        service.stop()
        raise
    return service


def postgres_ensure(url: str, *, mode: str) -> Service:
    if mode != "private":
        problem = postgres_problem(url)
        if problem is None:
            return Service(name="PostgreSQL", url=url)
        cfg = dj_database_url.parse(url)
        host, port = cfg["HOST"] or "/var/run/postgresql", int(cfg["PORT"] or 5432)
        if mode == "external" or listening(host, port):
            raise ServiceError(
                f"PostgreSQL at {redact(url)} does not accept the tests: {problem}\n"
                "Fix DATABASE_URL, or set OPSTEAM_TEST_SERVICES=private to run a private server instead."
            )
    return postgres_start(url)


# --- Redis -----------------------------------------------------------------------------------------


def redis_url_with_db(url: str, db: int) -> str:
    """The same server, the tier's own database number (never the one a developer's worker uses)."""
    parts = urlsplit(url)
    if parts.scheme not in ("redis", "rediss"):
        raise ServiceError(f"CELERY_BROKER_URL={redact(url)!r} is not a Redis URL; the integration tier needs Redis.")
    return urlunsplit(parts._replace(path=f"/{db}", query="", fragment=""))


def redis_problem(url: str) -> str | None:
    client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)
    try:
        client.ping()
    except redis.RedisError as exc:
        return str(exc) or exc.__class__.__name__
    finally:
        client.close()
    return None


def redis_flush(url: str) -> None:
    """Stale messages from an earlier run (e.g. a killed one) must not reach this run's worker."""
    client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=10)
    try:
        client.flushdb()
    finally:
        client.close()


def redis_start(db: int) -> Service:
    binary = shutil.which("redis-server")
    if binary is None:
        raise ServiceError(
            "no Redis server answers and redis-server is not on PATH. "
            f"Install it (Debian: apt-get install {REDIS_PACKAGES}) or point CELERY_BROKER_URL at a running server."
        )
    workdir = Path(tempfile.mkdtemp(prefix="opsteam-it-redis-"))
    service = Service(name="Redis", url="", private=True, workdir=workdir, log=workdir / "redis.log")
    try:
        port = free_port()
        command = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        command += ["--dir", str(workdir), "--daemonize", "no", "--databases", str(max(16, db + 1))]
        service.process = spawn(command, log=service.log, cwd=workdir, stop_signal=signal.SIGTERM)
        service.url = f"redis://127.0.0.1:{port}/{db}"
        wait_until(
            lambda: redis_problem(service.url) is None,
            timeout=STARTUP_TIMEOUT,
            what="private Redis",
            process=service.process,
            log=service.log,
        )
    except BaseException:
        service.stop()
        raise
    return service


def redis_ensure(url: str, *, db: int, mode: str) -> Service:
    if mode != "private":
        url = redis_url_with_db(url, db)
        problem = redis_problem(url)
        if problem is None:
            return Service(name="Redis", url=url)
        parts = urlsplit(url)
        if mode == "external" or listening(parts.hostname or "127.0.0.1", parts.port or 6379):
            raise ServiceError(
                f"Redis at {redact(url)} does not accept the tests: {problem}\n"
                "Fix CELERY_BROKER_URL, or set OPSTEAM_TEST_SERVICES=private to run a private server instead."
            )
    return redis_start(db)
