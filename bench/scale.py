"""`make bench-scale` (issue 22): the cost curve at 1,000, 10,000 and 100,000 members, each size against its own reference.

python -m bench.scale [--sizes 1000,10000,100000] [--keep-db]

Its own PostgreSQL database (opsteam_bench_scale) and Redis database 6, so it never meets `make bench`
(opsteam_bench, Redis 10). At each size N, on tables emptied in between:

- generation: N/10 shops of 10 members, 20 items each (20 N items). Ours: beat's `checklists.generate_due` on a
  real worker (prefork x4) until the last task (GENERATION_BATCH shops each) is done. Reference: COPY of exactly the rows ours wrote.
  Then the same beat task again with every list there ("nothing to do"): one query, no shop task.
  The worker's peak RSS (VmHWM of each pool process, read from /proc) is taken after the run.
- sweep: the table then holds 100 N open items (today's 20 N, four older days of the same shops beyond the
  lookback, and a sweep shop of N/20 members). Ours: `escalation_sweep` of that shop, steady (a tenth of its
  items newly late) and catch-up (all its items late). Reference: one raw UPDATE ... RETURNING of the same rows.
- board: a shop of N/20 members with 30 days of items (mixed statuses). Ours: `board_trends` for its director.
  Reference: one raw GROUP BY. Its query count must be the same at every size.

Prints the table, writes bench/scale-results.json and draws bench/scale.png (matplotlib).
Exit code 0 when every target passes, 1 when one does not, 2 when a server is missing.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import time as clock_time
from datetime import timedelta
from pathlib import Path

os.environ.setdefault("BENCH_DB_NAME", "opsteam_bench_scale")
os.environ.setdefault("BENCH_REDIS_URL", "redis://127.0.0.1:6379/6")

from bench import stack  # reads the two variables above

stack.LOG_DIR = stack.BASE_DIR / "var" / "bench-scale"
RESULTS = Path(__file__).resolve().parent / "scale-results.json"
CHART = Path(__file__).resolve().parent / "scale.png"
SIZES = (1_000, 10_000, 100_000)
MEMBERS_PER_SHOP = 10
ITEMS = 20
OLDER_DAYS = 4  # older open days of the generation's shops, beyond the sweep's lookback: 20 N + 80 N open items
TIME_LIMIT = 1200
WORKER_CONCURRENCY = int(os.environ.get("BENCH_WORKER_CONCURRENCY", "4"))
FANOUT_TIMEOUT = 900

TARGETS = {
    "generation_vs_copy": 3.0,  # at 100,000 members
    "generation_flat": 1.5,  # time per member, largest over smallest
    "nothing_to_do": 0.1,  # of a full run, at every size
    "sweep": 3.0,
    "board": 1.5,
    "rss_flat": 1.5,  # worker peak RSS at 100,000 over 10,000
}


def _log(message: str) -> None:
    print(f"bench-scale: {message}", flush=True)


# --- generation -----------------------------------------------------------------------------------------------------

GEN_TABLES = ["checklists_checklist", "checklists_checklistitem"]


def _sql(statement: str, params=None):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchall() if cursor.description else None


def _checkpoint() -> None:
    _sql("CHECKPOINT")


def _gen_truncate() -> None:
    _sql("TRUNCATE checklists_checklist, checklists_checklistitem CASCADE")


def _gen_counts() -> tuple[int, int]:
    return tuple(_sql("SELECT (SELECT count(*) FROM checklists_checklist), (SELECT count(*) FROM checklists_checklistitem)")[0])


def _batches(shops: int) -> int:
    from checklists.daily.tasks import GENERATION_BATCH

    return -(-shops // GENERATION_BATCH)


def _beat_send(worker, shops: int) -> tuple[float, int]:
    """What beat does every minute; waits until the entry task and the tasks for `shops` shops are done. Returns (seconds, tasks)."""
    from opsteam.celery import app

    client = stack.redis_client()
    keys = client.keys("bench:done:checklists.generate*")
    if keys:
        client.delete(*keys)
    start = time.perf_counter()
    app.send_task("checklists.generate_due")
    stack.wait_for(
        lambda: (
            int(client.get("bench:done:checklists.generate_due") or 0) >= 1
            and int(client.get("bench:done:checklists.generate_for_teams") or 0) >= _batches(shops)
        ),
        timeout=FANOUT_TIMEOUT,
        what=f"{_batches(shops)} generate_for_teams tasks finished",
        process=worker,
        interval=0.005,
    )
    seconds = time.perf_counter() - start
    time.sleep(0.2)  # a task sent beyond the expected ones would show here
    failed = sum(int(client.get(k) or 0) for k in client.keys("bench:done:checklists.generate*:*"))
    assert failed == 0, f"{failed} generation tasks did not succeed; see {stack.LOG_DIR / 'worker.log'}"
    return seconds, int(client.get("bench:done:checklists.generate_for_teams") or 0)


def _pool_peak_rss_mb(worker) -> tuple[float, float]:
    """(largest, sum) of VmHWM over the worker's pool processes, in MB: each process's own peak resident set."""
    pids = []
    for task in Path(f"/proc/{worker.popen.pid}/task").iterdir():
        children = (task / "children").read_text().split()
        pids += [int(p) for p in children]
    peaks = []
    for pid in pids:
        status = Path(f"/proc/{pid}/status").read_text()
        peaks.append(next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:")) / 1024)
    return (max(peaks) if peaks else 0.0), sum(peaks)


def generation(size: int) -> dict:
    from bench.data import org_create

    shops = size // MEMBERS_PER_SHOP
    t0 = time.monotonic()
    org = org_create(teams=shops, members_per_team=MEMBERS_PER_SHOP, items_per_template=ITEMS, prefix=f"s{size}")
    _log(f"{size:,} members: {shops:,} shops built in {time.monotonic() - t0:.0f} s")
    expected = (size, size * ITEMS)
    worker = stack.worker_start(concurrency=WORKER_CONCURRENCY)
    rounds = 1 if size >= 100_000 else 2
    ours, nothing, reference, sent = [], [], [], []
    counts_ok = True
    try:
        for round_ in range(rounds):
            _gen_truncate()
            _checkpoint()
            seconds, tasks = _beat_send(worker, shops)
            ours.append(seconds)
            sent.append(tasks)
            counts_ok &= _gen_counts() == expected
            _checkpoint()
            seconds, tasks = _beat_send(worker, 0)
            nothing.append(seconds)
            sent.append(tasks)
            counts_ok &= _gen_counts() == expected
            if round_ == 0:
                rss_max, rss_sum = _pool_peak_rss_mb(worker)
                snapshot = stack.tables_snapshot(GEN_TABLES)
            _gen_truncate()
            _checkpoint()
            reference.append(stack.tables_copy_in(snapshot))
        counts_ok &= _gen_counts() == expected  # the COPY'd rows are ours: they stay for the sweep and the peak
    finally:
        worker.stop()
    _sql("ANALYZE checklists_checklist; ANALYZE checklists_checklistitem")
    return {
        "org": org,
        "shops": shops,
        "items": expected[1],
        "ours": min(ours),
        "reference": min(reference),
        "nothing": min(nothing),
        "runs": {"ours": ours, "nothing": nothing, "copy": reference},
        "shop_tasks_sent": sent,
        "tasks_ok": sent == [_batches(shops), 0] * rounds,
        "rows_ok": counts_ok,
        "worker_rss_mb": round(rss_max, 1),
        "worker_rss_sum_mb": round(rss_sum, 1),
    }


# --- the big tables: older open days, the sweep's shop, the board's shop --------------------------------------------

_OLDER_CHECKLISTS = """
INSERT INTO checklists_checklist (team_id, template_id, role_id, member_id, assignee_id, date, name, batch, created_at)
SELECT t.team_id, t.id, t.role_id, mr.member_id, mr.member_id, d::date, t.name, gen_random_uuid(), now()
FROM checklists_checklisttemplate t
JOIN roles_memberrole mr ON mr.role_id = t.role_id
CROSS JOIN generate_series(%(start)s::date, %(end)s::date, interval '1 day') AS d
WHERE t.team_id = ANY(%(teams)s)
ORDER BY d, mr.member_id
"""
_OLDER_ITEMS = """
INSERT INTO checklists_checklistitem (checklist_id, template_item_id, parent_id, is_group, playbook_id, "order", text, kind,
    target, unit, note_required, due_at, status, value, text_value, note, photo, done_at, done_by_id, updated_at)
SELECT c.id, ti.id, NULL, false, '', ti."order", ti.text, 'check', NULL, '', false,
    (c.date + time '10:00') AT TIME ZONE %(tz)s, 'open', NULL, '', '', '', NULL, NULL, now()
FROM checklists_checklist c
JOIN checklists_templateitem ti ON ti.template_id = c.template_id
WHERE c.team_id = ANY(%(teams)s) AND c.date BETWEEN %(start)s AND %(end)s
ORDER BY c.id, ti."order"
"""


def big_tables(size: int, gen_org) -> dict:
    """Older open days for every shop, then the sweep's and the board's shops (bench/bigdata.py's way: indexes off, then on)."""
    from django.conf import settings

    from bench.bigdata import BOARD_DAYS, BOARD_DUE, EARLY, LATE, _days, _fill
    from bench.data import org_create

    t0 = time.monotonic()
    today = gen_org.day
    special = size // 20
    sweep = org_create(teams=1, members_per_team=special, items_per_template=ITEMS, prefix=f"sweep{size}", day=today)
    board = org_create(teams=1, members_per_team=special, items_per_template=ITEMS, prefix=f"board{size}", day=today)
    steady_members = max(1, special // 10)
    cut = sweep.member_ids[steady_members] if steady_members < len(sweep.member_ids) else sweep.member_ids[-1] + 1
    indexes = _sql(
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'checklists_checklistitem' AND indexname NOT LIKE '%%_pkey'"
    )
    from django.db import connection

    with connection.cursor() as cursor:
        for name, _definition in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
        cursor.execute("SET session_replication_role = replica")
        try:
            older = {"teams": gen_org.team_ids, "start": today - timedelta(days=12), "end": today - timedelta(days=12 - OLDER_DAYS + 1)}
            cursor.execute(_OLDER_CHECKLISTS, older)
            cursor.execute(_OLDER_ITEMS, {**older, "tz": settings.TIME_ZONE})
            _fill(cursor, org=sweep, start=today, end=today, mixed=False, early_below=cut)
            _fill(
                cursor,
                org=board,
                start=today - timedelta(days=BOARD_DAYS - 1),
                end=today,
                mixed=True,
                early_below=0,
                late=BOARD_DUE,
            )
        finally:
            cursor.execute("SET session_replication_role = DEFAULT")
        for _name, definition in indexes:
            cursor.execute(definition)
        cursor.execute("ANALYZE")
    _days(sweep, today - timedelta(days=14), today)
    _days(board, today - timedelta(days=BOARD_DAYS), today)
    rows, open_items = _sql("SELECT count(*), count(*) FILTER (WHERE status = 'open') FROM checklists_checklistitem")[0]
    _log(f"{size:,} members: {rows:,} items ({open_items:,} open) in {time.monotonic() - t0:.0f} s")
    assert EARLY < LATE
    return {"sweep": sweep, "board": board, "steady": steady_members * ITEMS, "catchup": special * ITEMS, "rows": rows, "open": open_items}


def _reference(team, now) -> tuple[float, int, bool]:
    """bench/sweep.py's reference (one raw UPDATE ... RETURNING), and whether PostgreSQL's plan used the partial index.

    At the small sizes the planner may rightly prefer the shop's lists; the index is asserted at the largest.
    """
    from django.conf import settings
    from django.db import connection

    from bench.sweep import _REFERENCE

    lookback = timedelta(hours=settings.OPSTEAM_ESCALATION_LOOKBACK_HOURS)
    params = {"team": team.pk, "now": now, "deadline": now + timedelta(minutes=30), "since": now - lookback}
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + _REFERENCE, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
        start = time.perf_counter()
        cursor.execute(_REFERENCE, params)
        rows = len(cursor.fetchall())
        seconds = time.perf_counter() - start
    return seconds, rows, "checklists_item_open_due" in plan


def sweep(size: int, big: dict) -> dict:
    from bench.sweep import _ours, _reset
    from opsteam.lib.clock import local_datetime
    from roles.models import Team

    team = Team.objects.get(pk=big["sweep"].team_ids[0])
    day = big["sweep"].day
    out = {}
    _checkpoint()
    for name, at, expected, rounds in (
        ("steady", clock_time(9, 30, 30), big["steady"], 5),
        ("catchup", clock_time(10, 0, 30), big["catchup"], 1),
    ):
        now = local_datetime(day, at)
        ours_best = ref_best = float("inf")
        raised_ok = True
        for _ in range(rounds):
            ref_seconds, ref_rows, index_used = _reference(team, now)
            ours_seconds, result, written = _ours(team, now)
            ours_best, ref_best = min(ours_best, ours_seconds), min(ref_best, ref_seconds)
            raised_ok &= result.raised == expected == ref_rows
        out[name] = {
            "ours": ours_best,
            "reference": ref_best,
            "late": expected,
            "raised_ok": raised_ok,
            "reference_uses_partial_index": index_used,
            "written": written,
        }
    _reset()
    return out


def board(size: int, big: dict) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from bench.board_workload import _REFERENCE, DAYS, _director
    from bench.lib import Timer, best_of
    from checklists.board.selectors import board_scope, board_trends

    day = big["board"].day
    now = timezone.now()
    director = _director(big["board"].team_ids[0])
    with CaptureQueriesContext(connection) as queries:
        board_trends(scope=board_scope(viewer=_director(director.team_id)), end=day, days=DAYS, now=now)
    params = {"now": now, "team": director.team_id, "start": day - timedelta(days=DAYS - 1), "end": day}
    trend: dict = {}

    def ours() -> float:
        scope = board_scope(viewer=_director(director.team_id))
        with Timer() as timer:
            trend.update(board_trends(scope=scope, end=day, days=DAYS, now=now))
        return timer.seconds

    def reference() -> float:
        with connection.cursor() as cursor, Timer() as timer:
            cursor.execute(_REFERENCE, params)
            cursor.fetchall()
        return timer.seconds

    _checkpoint()
    ours_best, ref_best = best_of(5, (None, ours), (None, reference))
    rows = _sql(
        "SELECT count(*) FROM checklists_checklistitem i JOIN checklists_checklist c ON c.id = i.checklist_id WHERE c.team_id = %s",
        [director.team_id],
    )[0][0]
    return {"ours": ours_best, "reference": ref_best, "queries": len(queries.captured_queries), "items": rows}


# --- the table, the JSON, the chart --------------------------------------------------------------------------------


def verdicts(sizes: list[dict]) -> list[dict]:
    """Each target of issue 22 as a row: what was measured, the limit, pass or fail."""
    rows = []
    by = {s["members"]: s for s in sizes}
    largest, smallest = max(by), min(by)
    gen = by[largest]["generation"]
    rows.append(
        {
            "target": f"generation at {largest:,} members within {TARGETS['generation_vs_copy']:g}x COPY",
            "measured": f"{gen['ours']:.2f} s vs {gen['reference']:.2f} s = {gen['ours'] / gen['reference']:.2f}x",
            "passed": gen["ours"] <= TARGETS["generation_vs_copy"] * gen["reference"] and gen["rows_ok"] and gen["tasks_ok"],
        }
    )
    per = {m: s["generation"]["ours"] / m for m, s in by.items()}
    spread = max(per.values()) / min(per.values())
    rows.append(
        {
            "target": f"generation time per member flat (within {TARGETS['generation_flat']:g}x) from {smallest:,} to {largest:,}",
            "measured": ", ".join(f"{m:,}: {per[m] * 1e6:.0f} µs" for m in sorted(per)) + f" (spread {spread:.2f}x)",
            "passed": spread <= TARGETS["generation_flat"],
        }
    )
    for m in sorted(by):
        g = by[m]["generation"]
        rows.append(
            {
                "target": f"nothing to do at {m:,} members: at most {TARGETS['nothing_to_do']:g} of a full run",
                "measured": f"{g['nothing'] * 1000:.0f} ms vs {g['ours']:.2f} s = {g['nothing'] / g['ours']:.3f}; "
                f"shop tasks sent {g['shop_tasks_sent']}",
                "passed": g["nothing"] <= TARGETS["nothing_to_do"] * g["ours"] and g["tasks_ok"],
            }
        )
    sw = by[largest]["sweep"]
    for name in ("steady", "catchup"):
        s = sw[name]
        rows.append(
            {
                "target": f"sweep {name} over {by[largest]['big']['open']:,} open items within {TARGETS['sweep']:g}x "
                "raw UPDATE ... RETURNING",
                "measured": f"{s['ours'] * 1000:.1f} ms vs {s['reference'] * 1000:.1f} ms = {s['ours'] / s['reference']:.2f}x "
                f"({s['late']:,} late)",
                "passed": s["ours"] <= TARGETS["sweep"] * s["reference"] and s["raised_ok"],
            }
        )
    b = by[largest]["board"]
    queries = {m: by[m]["board"]["queries"] for m in by}
    rows.append(
        {
            "target": f"board, {largest // 20:,}-member shop x 30 days within {TARGETS['board']:g}x one raw GROUP BY, "
            "same queries at every size",
            "measured": f"{b['ours'] * 1000:.1f} ms vs {b['reference'] * 1000:.1f} ms = {b['ours'] / b['reference']:.2f}x; queries "
            + ", ".join(f"{m // 20:,} members: {q}" for m, q in sorted(queries.items())),
            "passed": b["ours"] <= TARGETS["board"] * b["reference"] and len(set(queries.values())) == 1,
        }
    )
    if 10_000 in by and largest > 10_000:
        r10, rmax = by[10_000]["generation"]["worker_rss_mb"], by[largest]["generation"]["worker_rss_mb"]
        rows.append(
            {
                "target": f"worker peak RSS flat from 10,000 to {largest:,} members (within {TARGETS['rss_flat']:g}x)",
                "measured": ", ".join(f"{m:,}: {by[m]['generation']['worker_rss_mb']:.0f} MB" for m in sorted(by))
                + f" (largest pool process; {rmax / r10:.2f}x)",
                "passed": rmax <= TARGETS["rss_flat"] * r10,
            }
        )
    return rows


def size_table(sizes: list[dict]) -> str:
    head = ("members", "shops", "items/day", "gen ours", "COPY", "ratio", "µs/member", "nothing", "share", "RSS MB")
    head2 = ("open items", "steady", "ref", "catch-up", "ref", "board", "ref", "queries")
    lines = []
    rows = [head]
    for s in sizes:
        g = s["generation"]
        rows.append(
            (
                f"{s['members']:,}",
                f"{g['shops']:,}",
                f"{g['items']:,}",
                f"{g['ours']:.2f} s",
                f"{g['reference']:.2f} s",
                f"{g['ours'] / g['reference']:.2f}x",
                f"{g['ours'] / s['members'] * 1e6:.0f}",
                f"{g['nothing'] * 1000:.0f} ms",
                f"{g['nothing'] / g['ours']:.3f}",
                f"{g['worker_rss_mb']:.0f}",
            )
        )
    rows2 = [("members", *head2)]
    for s in sizes:
        sw, b = s["sweep"], s["board"]
        rows2.append(
            (
                f"{s['members']:,}",
                f"{s['big']['open']:,}",
                f"{sw['steady']['ours'] * 1000:.1f} ms",
                f"{sw['steady']['reference'] * 1000:.1f} ms",
                f"{sw['catchup']['ours'] * 1000:.0f} ms",
                f"{sw['catchup']['reference'] * 1000:.0f} ms",
                f"{b['ours'] * 1000:.1f} ms",
                f"{b['reference'] * 1000:.1f} ms",
                str(b["queries"]),
            )
        )
    for block in (rows, rows2):
        widths = [max(len(r[i]) for r in block) for i in range(len(block[0]))]
        lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in block]
        lines.insert(len(lines) - len(block) + 1, "  ".join("-" * w for w in widths))
        lines.append("")
    return "\n".join(lines)


def chart(sizes: list[dict], path: Path = CHART) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    members = [s["members"] for s in sizes]
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.6))
    ax = axes[0]
    ax.plot(members, [s["generation"]["ours"] / s["members"] * 1e6 for s in sizes], "o-", label="generation (ours)")
    ax.plot(members, [s["generation"]["reference"] / s["members"] * 1e6 for s in sizes], "s--", label="COPY of the same rows")
    ax.plot(members, [s["generation"]["nothing"] / s["members"] * 1e6 for s in sizes], "^-", label="a run with nothing to do")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("members")
    ax.set_ylabel("µs per member")
    ax.set_title("Morning generation: cost per member")
    ax.legend(fontsize=8)
    ax = axes[1]
    for key, label in (("steady", "sweep steady"), ("catchup", "sweep catch-up")):
        ax.plot(members, [s["sweep"][key]["ours"] / s["sweep"][key]["reference"] for s in sizes], "o-", label=label)
    ax.plot(members, [s["generation"]["ours"] / s["generation"]["reference"] for s in sizes], "s-", label="generation / COPY")
    ax.plot(members, [s["board"]["ours"] / s["board"]["reference"] for s in sizes], "^-", label="board / GROUP BY")
    ax.axhline(3, color="grey", linestyle=":", linewidth=1)
    ax.axhline(1.5, color="grey", linestyle=":", linewidth=1)
    ax.set_xscale("log")
    ax.set_xlabel("members")
    ax.set_ylabel("ours / reference (same run)")
    ax.set_title("Each workload against its reference")
    ax.legend(fontsize=8)
    ax = axes[2]
    ax.plot(members, [s["generation"]["worker_rss_mb"] for s in sizes], "o-", label="largest pool process")
    ax.set_xscale("log")
    ax.set_ylim(bottom=0)
    ax.set_xlabel("members")
    ax.set_ylabel("peak RSS (MB)")
    ax.set_title("Worker peak memory (VmHWM)")
    ax.legend(fontsize=8)
    fig.suptitle("OpsTeam make bench-scale (2 shared cores; each point against the same run's reference)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def _clean() -> None:
    """Empty every table the sizes fill (the schema and beat's schedule stay)."""
    _sql("TRUNCATE auth_user, roles_team RESTART IDENTITY CASCADE")
    _sql("VACUUM ANALYZE")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(str(s) for s in SIZES), help="members at each size, comma-separated")
    parser.add_argument("--keep-db", action="store_true")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    started = time.monotonic()
    if not stack.bench_prepare("make bench-scale"):
        return 2

    from bench.run import machine

    _log(f"sizes {sizes}")
    measured: list[dict] = []
    try:
        for size in sizes:
            t0 = time.monotonic()
            _clean()
            gen = generation(size)
            _log(
                f"{size:,} members: generation {gen['ours']:.2f} s, COPY {gen['reference']:.2f} s, nothing to do "
                f"{gen['nothing'] * 1000:.0f} ms, worker RSS {gen['worker_rss_mb']:.0f} MB"
            )
            big = big_tables(size, gen["org"])
            sw = sweep(size, big)
            _log(
                f"{size:,} members: sweep steady {sw['steady']['ours'] * 1000:.1f}/{sw['steady']['reference'] * 1000:.1f} ms, "
                f"catch-up {sw['catchup']['ours'] * 1000:.0f}/{sw['catchup']['reference'] * 1000:.0f} ms"
            )
            bd = board(size, big)
            _log(f"{size:,} members: board {bd['ours'] * 1000:.1f}/{bd['reference'] * 1000:.1f} ms, {bd['queries']} queries")
            gen.pop("org")
            measured.append(
                {
                    "members": size,
                    "generation": gen,
                    "big": {k: v for k, v in big.items() if k not in ("sweep", "board")},
                    "sweep": sw,
                    "board": bd,
                    "seconds": round(time.monotonic() - t0, 1),
                }
            )
            _log(f"{size:,} members took {time.monotonic() - t0:.0f} s")
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep_db:
            stack.database_drop()
    seconds = time.monotonic() - started
    rows = verdicts(measured)
    rows.append({"target": f"whole run within {TIME_LIMIT} s", "measured": f"{seconds:.0f} s", "passed": seconds <= TIME_LIMIT})
    info = machine()
    print()
    print(size_table(measured))
    for row in rows:
        print(f"{'pass' if row['passed'] else 'FAIL'}  {row['target']}: {row['measured']}")
    print(f"\n{info['nproc']} cores, {info['cpu']}, {info['memory_gb']} GB; {seconds:.0f} s in all (limit {TIME_LIMIT} s)")
    payload = {
        "machine": info,
        "total_seconds": round(seconds, 1),
        "worker_concurrency": WORKER_CONCURRENCY,
        "passed": all(r["passed"] for r in rows),
        "targets": rows,
        "sizes": measured,
    }
    RESULTS.write_text(json.dumps(payload, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    chart(measured)
    print(f"written {os.path.relpath(RESULTS)} and {os.path.relpath(CHART)}")
    return 0 if payload["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
