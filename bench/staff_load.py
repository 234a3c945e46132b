"""Issue 7's load run: 50 simulated staff tick and read for 3 minutes against gunicorn on PostgreSQL.

    .venv/bin/python bench/staff_load.py [--staff 50] [--seconds 180] [--workers 4]

Loopback only. It makes its own database (opsteam_h7_load on the PostgreSQL at LOAD_PG_URL, default the local
server), uses Redis database LOAD_REDIS_DB (default 9), starts gunicorn on a free port, and writes
bench/load-results.json. Each simulated worker has a token, reads their day and their notifications, and
ticks or unticks one of their own items (a change every time, so each success must leave exactly one
TickEvent), with a think time of 0.2-1.0 s. Passes when there is no 5xx and tick records == successful ticks.
Not part of `make test` (it takes 3 minutes on purpose); the issue-8 benchmark (bench/run.py) is separate.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
PG_URL = os.environ.get("LOAD_PG_URL", "postgres://postgres@127.0.0.1:5432")
DB_NAME = "opsteam_h7_load"
REDIS_URL = f"redis://127.0.0.1:6379/{os.environ.get('LOAD_REDIS_DB', '9')}"
RESULTS = BASE_DIR / "bench" / "load-results.json"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _environment() -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "opsteam.settings.integration",
        "DATABASE_URL": f"{PG_URL}/{DB_NAME}",
        "CELERY_BROKER_URL": REDIS_URL,
        "DEBUG": "0",
        "LOG_LEVEL": "WARNING",
    }


def database_prepare(staff: int) -> dict:
    """A fresh database: migrations, one shop with the playbook, `staff` warehouse workers, today's lists, tokens."""
    import psycopg

    with psycopg.connect(f"{PG_URL}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DB_NAME}"')
    os.environ.update(_environment())
    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone
    from rest_framework.authtoken.models import Token

    from checklists.daily.generation import run_generate_for_date
    from checklists.models import ChecklistItem, ChecklistTemplate
    from checklists.playbook.services import playbook_load
    from opsteam.lib.clock import local_date
    from roles.models import CalendarOverride, Member, MemberRole, Role, Team

    call_command("migrate", verbosity=0)
    from django.contrib.auth import get_user_model

    team = Team.objects.create(slug="load", name="压测店铺")
    playbook_load(team=team)
    now = timezone.now()
    CalendarOverride.objects.create(team=team, date=local_date(now), is_workday=True, note="load run")
    ChecklistTemplate.objects.filter(team=team).update(generate_at="00:00")
    role = Role.objects.get(team=team, code="warehouse")
    users = {}
    for i in range(staff):
        user = get_user_model().objects.create(username=f"load-wh{i}")
        member = Member.objects.create(team=team, user=user, display_name=f"仓库{i}")
        MemberRole.objects.create(member=member, role=role)
        users[member.pk] = Token.objects.create(user=user).key
    run_generate_for_date(team=team, day=local_date(now), now=now)
    people = []
    for member_id, token in users.items():
        items = list(
            ChecklistItem.objects.filter(checklist__member_id=member_id, is_group=False, kind="check").values_list("pk", flat=True)
        )
        people.append({"token": token, "items": items})
    return {"people": people}


def gunicorn_start(workers: int) -> tuple[subprocess.Popen, int]:
    port = _free_port()
    log = open(BASE_DIR / "var" / "load-gunicorn.log", "wb")  # noqa: SIM115 - lives as long as the server
    command = [sys.executable, "-m", "gunicorn", "opsteam.wsgi:application", "--bind", f"127.0.0.1:{port}"]
    command += ["--workers", str(workers), "--threads", "4", "--log-level", "warning", "--timeout", "60"]
    process = subprocess.Popen(command, cwd=BASE_DIR, env=_environment(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz/")
            if conn.getresponse().status == 200:
                return process, port
        except OSError:
            time.sleep(0.3)
    os.killpg(process.pid, signal.SIGTERM)
    raise SystemExit("gunicorn did not answer /healthz/ within 60 s; see var/load-gunicorn.log")


class Tally:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.status: Counter = Counter()
        self.by_kind: Counter = Counter()
        self.latencies: dict[str, list[float]] = {}
        self.tick_ok = 0
        self.errors: list[str] = []

    def add(self, kind: str, status: int, seconds: float) -> None:
        with self.lock:
            self.status[status] += 1
            self.by_kind[kind] += 1
            self.latencies.setdefault(kind, []).append(seconds)


def staff_loop(port: int, person: dict, until: float, tally: Tally, seed: int) -> None:
    rnd = random.Random(seed)  # noqa: S311 - think times and choices, not secrets
    headers = {"Authorization": f"Token {person['token']}", "Content-Type": "application/json", "Accept": "application/json"}
    done: set[int] = set()
    while time.monotonic() < until:
        roll = rnd.random()
        if roll < 0.5 and person["items"]:
            item = rnd.choice(person["items"])
            action = "untick" if item in done else "tick"
            kind, method, path, body = action, "POST", f"/api/v1/checklist-items/{item}/{action}/", b"{}"
        elif roll < 0.85:
            kind, method, path, body = "read_day", "GET", "/api/v1/checklists/", None
        else:
            kind, method, path, body = "read_notifications", "GET", "/api/v1/notifications/", None
        started = time.monotonic()
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            status = response.status
            conn.close()
        except OSError as exc:
            with tally.lock:
                tally.errors.append(f"{kind}: {exc!r}")
            status = 0
        tally.add(kind, status, time.monotonic() - started)
        if kind in ("tick", "untick") and status == 200:
            with tally.lock:
                tally.tick_ok += 1
            (done.add if kind == "tick" else done.discard)(item)
        time.sleep(rnd.uniform(0.2, 1.0))


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--staff", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=180)
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args()
    (BASE_DIR / "var").mkdir(exist_ok=True)
    world = database_prepare(args.staff)
    server, port = gunicorn_start(args.workers)
    tally = Tally()
    try:
        until = time.monotonic() + args.seconds
        threads = [
            threading.Thread(target=staff_loop, args=(port, person, until, tally, i), daemon=True)
            for i, person in enumerate(world["people"])
        ]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=args.seconds + 90)
        elapsed = time.monotonic() - started
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)

    from checklists.models import TickEvent

    events = TickEvent.objects.count()
    server_errors = sum(n for code, n in tally.status.items() if code >= 500)
    result = {
        "what": "issue 7 load run: simulated staff ticking and reading against gunicorn on PostgreSQL, loopback",
        "staff": args.staff,
        "seconds": round(elapsed, 1),
        "gunicorn": {"workers": args.workers, "threads": 4},
        "requests": sum(tally.by_kind.values()),
        "requests_per_second": round(sum(tally.by_kind.values()) / elapsed, 1),
        "by_kind": dict(tally.by_kind),
        "status": {str(code): n for code, n in sorted(tally.status.items())},
        "server_errors_5xx": server_errors,
        "connection_errors": len(tally.errors),
        "latency_ms": {
            kind: {
                "p50": round(_percentile(v, 0.5) * 1000, 1),
                "p95": round(_percentile(v, 0.95) * 1000, 1),
                "p99": round(_percentile(v, 0.99) * 1000, 1),
            }
            for kind, v in sorted(tally.latencies.items())
        },
        "successful_tick_responses": tally.tick_ok,
        "tick_records_in_database": events,
        "lost_ticks": tally.tick_ok - events,
        "passed": server_errors == 0 and not tally.errors and tally.tick_ok == events,
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
        "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    RESULTS.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2, ensure_ascii=False))
    return 0 if result["passed"] else 1


if __name__ == "__main__":
    sys.path.insert(0, str(BASE_DIR))
    sys.exit(main())
