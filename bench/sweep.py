"""Workload 4, the escalation sweep over 1,000,000 open items (bench/bigdata.py): steady state and catch-up.

Ours: `escalation_sweep` for the shop, as the worker's task runs it: raise each level whose time has come
(escalation rows), then write the notifications and their outbox rows (deliveries). Steady state at 09:30:30:
1,000 items have just come within their first level. Catch-up at 10:00:30 after an outage: 100,000 items.
Reference: one raw UPDATE ... RETURNING of the same candidate rows over the partial index checklists_item_open_due.
Before each run the escalation and notification tables are emptied (untimed).
"""

from __future__ import annotations

import time
from datetime import time as clock_time
from datetime import timedelta

from django.conf import settings
from django.db import connection

from bench import shared
from bench.lib import Result, Timer, Workload, time_ratio
from checklists.escalation.raising import escalation_sweep
from opsteam.lib.clock import local_datetime
from roles.models import Team

_REFERENCE = """
UPDATE checklists_checklistitem i SET updated_at = %(now)s
FROM checklists_checklist c
WHERE c.id = i.checklist_id AND c.team_id = %(team)s
  AND i.status = 'open' AND NOT i.is_group AND i.due_at <= %(deadline)s AND i.due_at >= %(since)s
RETURNING i.id, i.due_at, c.role_id
"""


# Each side's best of seven interleaved rounds (a round is about a tenth of a second): on a shared machine a
# best of three read 2.5-3.6x over one afternoon.
STEADY_ROUNDS = 7


def _reset() -> None:
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE checklists_escalation, checklists_notification CASCADE")
        cursor.execute("ANALYZE checklists_escalation")


def _reference(team: Team, now) -> tuple[float, int]:
    lookback = timedelta(hours=settings.OPSTEAM_ESCALATION_LOOKBACK_HOURS)
    params = {"team": team.pk, "now": now, "deadline": now + timedelta(minutes=30), "since": now - lookback}
    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + _REFERENCE, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
        assert "checklists_item_open_due" in plan, plan
        start = time.perf_counter()
        cursor.execute(_REFERENCE, params)
        rows = len(cursor.fetchall())
        seconds = time.perf_counter() - start
    return seconds, rows


def _ours(team: Team, now) -> tuple[float, object, dict]:
    _reset()
    with Timer() as timer:
        result = escalation_sweep(team=team, now=now)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT count(*) FROM checklists_escalation), (SELECT count(*) FROM checklists_notification), "
            "(SELECT count(*) FROM checklists_delivery)"
        )
        escalations, notifications, deliveries = cursor.fetchone()
    return timer.seconds, result, {"escalations": escalations, "notifications": notifications, "deliveries": deliveries}


def run() -> list[Result]:
    big = shared.big()
    shared.settle()
    team = Team.objects.get(pk=big.sweep.team_ids[0])
    day = big.sweep.day
    results = []
    for name, at, expected, rounds in (
        ("sweep: steady (1,000 late)", clock_time(9, 30, 30), 1_000, STEADY_ROUNDS),
        ("sweep: catch-up (100,000 late)", clock_time(10, 0, 30), 100_000, 1),
    ):
        now = local_datetime(day, at)
        ours_best = ref_best = float("inf")
        ref_rows = 0
        for _ in range(rounds):
            ref_seconds, ref_rows = _reference(team, now)
            ours_seconds, result, written = _ours(team, now)
            ours_best, ref_best = min(ours_best, ours_seconds), min(ref_best, ref_seconds)
        ref_best = min(ref_best, _reference(team, now)[0])
        results.append(
            time_ratio(
                workload=name,
                ours=ours_best,
                reference=ref_best,
                limit=3,
                checks={"raised every late item": result.raised == expected == ref_rows},
                notes=[
                    f"{big.open_items:,} open items in the shop; raised {result.raised:,}, notified {result.notified:,}; wrote "
                    f"{written['escalations']:,} escalations, {written['notifications']:,} notifications, "
                    f"{written['deliveries']:,} deliveries; "
                    f"reference updated {ref_rows:,} rows; best of {rounds}"
                ],
            )
        )
    _reset()
    return results


WORKLOADS = [Workload(name="sweep", run=run, order=40)]
