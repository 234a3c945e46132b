"""`make bench-peak` (issue 22): the 08:00-09:00 peak. 2,000 members open their day and tick within the same minutes.

python -m bench.peak [--seconds 600] [--members 2000] [--keep-db]

Its own database (opsteam_bench_peak) and Redis database 6 (the one of `make bench-scale`, so run
the two one after the other). The instance holds 1,000 shops of 10 members: the 200 shops of the peak's
2,000 members have their lists (generated before the peak, some items due in the last hour so that the
sweep has late items to raise and notify); the other 800 shops' lists are generated during the peak.

During the window, as beat would, the driver sends `checklists.generate_due` and `checklists.escalate_due`
every minute to a real Celery worker (prefork x2), and gunicorn (2 sync workers, as `make bench`) serves
every member's phone. Each member is one coroutine doing what a phone does, each request on a new
connection (a phone behind a proxy): start at a random moment of the first half of the window, open the
today page, read the unread notifications, then tick their items one by one with a think time between
(1 in 10 ticks undone a moment later and ticked again), the today page again every fifth tick.

Reported: p50, p95 and p99 per kind of request (today page, tick, undo, notifications), the errors, and
the check that every successful tick and undo is recorded exactly once (tick records read afterwards).
Writes bench/peak-results.json. Targets: tick and today page p95 < 100 ms and p99 < 250 ms, 0 errors.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import time
from collections import Counter, defaultdict
from datetime import timedelta
from pathlib import Path

os.environ.setdefault("BENCH_DB_NAME", "opsteam_bench_peak")
os.environ.setdefault("BENCH_REDIS_URL", "redis://127.0.0.1:6379/6")

import contextlib

from bench import stack  # reads the two variables above

stack.LOG_DIR = stack.BASE_DIR / "var" / "bench-peak"
RESULTS = Path(__file__).resolve().parent / "peak-results.json"
SHOPS = 1000
MEMBERS_PER_SHOP = 10
ITEMS = 20
TICKS_PER_MEMBER = 15
UNDO_SHARE = 0.1
P95_MS, P99_MS = 100.0, 250.0
TIMEOUT = 30.0


def _log(message: str) -> None:
    print(f"bench-peak: {message}", flush=True)


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile (share in 0..1) of the values; 0 for none."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(-(-share * len(ordered) // 1))))
    return ordered[rank - 1]


class Phone:
    """One request per connection, as a phone behind a proxy: connect, send, read to the end, close."""

    def __init__(self, port: int):
        self.port = port
        self.latencies: dict[str, list[float]] = defaultdict(list)
        self.errors: Counter = Counter()
        self.first_errors: list[str] = []

    async def request(self, kind: str, method: str, path: str, headers: dict[str, str]) -> int:
        lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close", "Accept-Language: zh-hans"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        if method == "POST":
            lines += ["Content-Length: 0"]
        raw = ("\r\n".join(lines) + "\r\n\r\n").encode()
        start = time.perf_counter()
        status = 0
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", self.port), TIMEOUT)
            try:
                writer.write(raw)
                await writer.drain()
                data = await asyncio.wait_for(reader.read(), TIMEOUT)
            finally:
                writer.close()
            status = int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/") else 0
        except (OSError, TimeoutError, ValueError, IndexError) as exc:
            self.errors[f"{kind}: {type(exc).__name__}"] += 1
            if len(self.first_errors) < 5:
                self.first_errors.append(f"{kind} {path}: {exc!r}")
            return 0
        self.latencies[kind].append((time.perf_counter() - start) * 1000)
        if status != 200:
            self.errors[f"{kind}: HTTP {status}"] += 1
            if len(self.first_errors) < 5:
                self.first_errors.append(f"{kind} {path}: HTTP {status}: {data[:300]!r}")
        return status


async def member_day(phone: Phone, member: dict, *, window: float, rng: random.Random, done: dict) -> None:
    scale = window / 600  # think times are those of a 10-minute peak, scaled to the window
    await asyncio.sleep(rng.uniform(0, window / 2))
    page = {"Cookie": f"sessionid={member['session']}"}
    api = {"Authorization": f"Token {member['token']}"}
    await phone.request("today page", "GET", "/today/", page)
    await asyncio.sleep(rng.uniform(2, 8) * scale)
    await phone.request("notifications", "GET", "/api/v1/notifications/?unread=1", api)
    for n, item_id in enumerate(member["items"]):
        await asyncio.sleep(rng.uniform(3, 17) * scale)
        if await phone.request("tick", "POST", f"/api/v1/checklist-items/{item_id}/tick/", api) == 200:
            done["tick"][item_id] += 1
        if rng.random() < UNDO_SHARE:
            await asyncio.sleep(rng.uniform(1, 4) * scale)
            if await phone.request("undo", "POST", f"/api/v1/checklist-items/{item_id}/untick/", api) == 200:
                done["untick"][item_id] += 1
                await asyncio.sleep(rng.uniform(1, 3) * scale)
                if await phone.request("tick", "POST", f"/api/v1/checklist-items/{item_id}/tick/", api) == 200:
                    done["tick"][item_id] += 1
        if n % 5 == 4:
            await phone.request("today page", "GET", "/today/", page)
    await phone.request("notifications", "GET", "/api/v1/notifications/?unread=1", api)


async def beat(*, window: float, stop: asyncio.Event, sent: Counter) -> None:
    """What beat sends every minute during the peak: the morning generation and the escalation sweep."""
    from opsteam.celery import app

    while not stop.is_set():
        for name in ("checklists.generate_due", "checklists.escalate_due"):
            app.send_task(name)
            sent[name] += 1
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=min(60.0, window))


async def drive(port: int, members: list[dict], *, window: float, seed: int) -> tuple[Phone, dict, Counter, float]:
    phone = Phone(port)
    done = {"tick": Counter(), "untick": Counter()}
    sent: Counter = Counter()
    stop = asyncio.Event()
    rng = random.Random(seed)  # noqa: S311 (think times, not secrets)
    beats = asyncio.create_task(beat(window=window, stop=stop, sent=sent))
    start = time.perf_counter()
    days = [member_day(phone, m, window=window, rng=random.Random(rng.random()), done=done) for m in members]  # noqa: S311
    await asyncio.gather(*days)
    elapsed = time.perf_counter() - start
    stop.set()
    await beats
    return phone, done, sent, elapsed


def prepare(members_wanted: int, shops: int = SHOPS) -> tuple[list[dict], dict]:
    """The instance, the peak members' lists, their tokens and sessions. Returns (members, facts)."""
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.utils import timezone

    from bench.data import org_create
    from bench.shared import tokens_for
    from checklists.daily.generation import run_generate_due
    from checklists.models import ChecklistItem
    from roles.models import Member, Team

    t0 = time.monotonic()
    org = org_create(teams=shops, members_per_team=MEMBERS_PER_SHOP, items_per_template=ITEMS, prefix="peak")
    peak_shops = members_wanted // MEMBERS_PER_SHOP
    now = timezone.now()
    for team in Team.objects.filter(pk__in=org.team_ids[:peak_shops]):
        run_generate_due(team=team, now=now)
    peak_members = [m for t in range(peak_shops) for m in org.member_ids[t * MEMBERS_PER_SHOP : (t + 1) * MEMBERS_PER_SHOP]]
    # A quarter of the items fell due in the last hour: the sweep has late items to raise and notify during the peak.
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE checklists_checklistitem i SET due_at = %s - (i.id %% 60) * interval '1 minute' FROM checklists_checklist c "
            "WHERE c.id = i.checklist_id AND c.team_id = ANY(%s) AND i.id %% 4 = 0",
            [now, org.team_ids[:peak_shops]],
        )
        cursor.execute("ANALYZE")
    tokens = tokens_for(peak_members)
    users = dict(Member.objects.filter(pk__in=peak_members).values_list("pk", "user_id"))
    user_rows = {u.pk: u for u in get_user_model().objects.filter(pk__in=users.values())}
    client = Client()
    sessions = {}
    for member_id, user_id in users.items():
        client.force_login(user_rows[user_id])
        sessions[member_id] = client.cookies[settings.SESSION_COOKIE_NAME].value
        client.cookies.clear()
    items: dict[int, list[int]] = defaultdict(list)
    rows = ChecklistItem.objects.filter(checklist__assignee_id__in=peak_members, checklist__date=org.day, status="open", is_group=False)
    for item_id, member_id in rows.order_by("id").values_list("id", "checklist__assignee_id"):
        items[member_id].append(item_id)
    members = [
        {"id": m, "token": tokens[m], "session": sessions[m], "items": items[m][:TICKS_PER_MEMBER]} for m in peak_members if items[m]
    ]
    _log(f"{shops * MEMBERS_PER_SHOP:,} members in {shops:,} shops; {len(members):,} in the peak; ready in {time.monotonic() - t0:.0f} s")
    return members, {"day": org.day, "shops": shops, "other_shops": shops - peak_shops, "start": now - timedelta(seconds=1)}


def check_records(done: dict, since) -> dict:
    """Every successful tick and undo is recorded exactly once: the tick records per item equal the 200s per item."""
    from checklists.models import TickEvent

    counts = {"tick": Counter(), "untick": Counter()}
    for item_id, action in TickEvent.objects.filter(at__gte=since, action__in=["tick", "untick"]).values_list("item_id", "action"):
        counts[action][item_id] += 1
    out = {}
    for action in ("tick", "untick"):
        items = set(done[action]) | set(counts[action])
        wrong = [i for i in items if done[action][i] != counts[action][i]]
        out[action] = {"successful": sum(done[action].values()), "recorded": sum(counts[action].values()), "items_differing": len(wrong)}
    out["passed"] = all(out[a]["items_differing"] == 0 for a in ("tick", "untick"))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=600, help="the peak's window (600: the issue's 10 minutes)")
    parser.add_argument("--members", type=int, default=2000)
    parser.add_argument("--shops", type=int, default=SHOPS, help="shops of 10 members in the instance (the peak's and others)")
    parser.add_argument("--seed", type=int, default=22)
    parser.add_argument("--keep-db", action="store_true")
    args = parser.parse_args(argv)
    started = time.monotonic()
    if not stack.bench_prepare("make bench-peak"):
        return 2
    from django.db import connection, connections

    from bench.run import machine

    processes = []
    try:
        members, facts = prepare(args.members, args.shops)
        connection.close()
        worker = stack.worker_start(concurrency=2)
        processes.append(worker)
        gunicorn, port = stack.gunicorn_start(workers=2, threads=1)
        processes.append(gunicorn)
        _log(f"peak: {len(members):,} members over {args.seconds:.0f} s against gunicorn :{port}, worker prefork x2 ...")
        phone, done, sent, elapsed = asyncio.run(drive(port, members, window=args.seconds, seed=args.seed))
        client = stack.redis_client()
        tasks = {k.decode().removeprefix("bench:done:"): int(client.get(k) or 0) for k in client.keys("bench:done:checklists.*")}
        time.sleep(2)
        records = check_records(done, facts["start"])
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT (SELECT count(*) FROM checklists_checklist WHERE date = %s), (SELECT count(*) FROM checklists_escalation), "
                "(SELECT count(*) FROM checklists_notification)",
                [facts["day"]],
            )
            lists, escalations, notifications = cursor.fetchone()
    finally:
        for process in reversed(processes):
            process.stop()
        connections.close_all()
        if not args.keep_db:
            stack.database_drop()
    kinds = {}
    for kind, values in sorted(phone.latencies.items()):
        kinds[kind] = {
            "requests": len(values),
            "p50_ms": round(percentile(values, 0.50), 1),
            "p95_ms": round(percentile(values, 0.95), 1),
            "p99_ms": round(percentile(values, 0.99), 1),
            "max_ms": round(max(values), 1),
        }
    total = sum(k["requests"] for k in kinds.values())
    errors = sum(phone.errors.values())
    targets = []
    for kind in ("tick", "today page"):
        k = kinds.get(kind, {"p95_ms": float("inf"), "p99_ms": float("inf")})
        targets.append({"target": f"{kind} p95 < {P95_MS:g} ms", "measured": f"{k['p95_ms']} ms", "passed": k["p95_ms"] < P95_MS})
        targets.append({"target": f"{kind} p99 < {P99_MS:g} ms", "measured": f"{k['p99_ms']} ms", "passed": k["p99_ms"] < P99_MS})
    targets.append({"target": "0 errors", "measured": str(errors), "passed": errors == 0})
    targets.append(
        {
            "target": "every successful tick and undo recorded once",
            "measured": f"ticks {records['tick']['successful']:,} answered 200, {records['tick']['recorded']:,} recorded; "
            f"undos {records['untick']['successful']:,} / {records['untick']['recorded']:,}",
            "passed": records["passed"],
        }
    )
    info = machine()
    print()
    print(f"{'request':<14}{'count':>8}{'p50':>10}{'p95':>10}{'p99':>10}{'max':>10}")
    for kind, k in kinds.items():
        print(f"{kind:<14}{k['requests']:>8}{k['p50_ms']:>8.1f}ms{k['p95_ms']:>8.1f}ms{k['p99_ms']:>8.1f}ms{k['max_ms']:>8.0f}ms")
    print(f"\n{total:,} requests in {elapsed:.0f} s ({total / elapsed:.0f} req/s on average); errors {dict(phone.errors) or 0}")
    print(f"worker during the peak: {tasks}; beat's sends {dict(sent)}")
    print(f"after the peak: {lists:,} lists today, {escalations:,} escalations, {notifications:,} notifications")
    for row in targets:
        print(f"{'pass' if row['passed'] else 'FAIL'}  {row['target']}: {row['measured']}")
    payload = {
        "machine": info,
        "window_seconds": args.seconds,
        "members": len(members),
        "instance": {"shops": facts["shops"], "members": facts["shops"] * MEMBERS_PER_SHOP},
        "elapsed_seconds": round(elapsed, 1),
        "requests": total,
        "requests_per_second": round(total / elapsed, 1),
        "kinds": kinds,
        "errors": dict(phone.errors),
        "first_errors": phone.first_errors,
        "records": records,
        "worker_tasks": tasks,
        "beat_sends": dict(sent),
        "after": {"lists_today": lists, "escalations": escalations, "notifications": notifications},
        "targets": targets,
        "passed": all(t["passed"] for t in targets),
        "total_seconds": round(time.monotonic() - started, 1),
    }
    RESULTS.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"written {os.path.relpath(RESULTS)}")
    return 0 if payload["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
