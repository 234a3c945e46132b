"""Workload 5, the board: the director's 30-day completion trend for a shop of 500 members (bench/bigdata.py).

Ours: board_trends (checklists/selectors/board.py, issue 5) for the director, 30 days, on an items table of
3,000,000 rows: the completion GROUP BY plus the shop's figures and targets. Reference: one raw GROUP BY over
the same rows. Also counted: the queries it costs, the same for a shop of 50 members and of 500.
Used when bench/board.py (issue 5's own workload) is not there.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bench import shared
from bench.data import org_create
from bench.lib import Result, Timer, Workload, best_of, time_ratio
from checklists.board.selectors import board_get, board_scope, board_trends
from roles.models import Member

DAYS = 30
ROUNDS = 5
MAX_QUERIES = 5

_REFERENCE = """
SELECT c.date, count(*), count(*) FILTER (WHERE i.status = 'done'), count(*) FILTER (WHERE i.done_at > i.due_at),
       count(*) FILTER (WHERE i.status = 'not_done'), count(*) FILTER (WHERE i.status = 'open' AND i.due_at < %(now)s)
FROM checklists_checklistitem i
JOIN checklists_checklist c ON c.id = i.checklist_id
WHERE c.team_id = %(team)s AND NOT i.is_group AND c.date BETWEEN %(start)s AND %(end)s
GROUP BY c.date
"""


def _director(team_id: int) -> Member:
    return Member.objects.select_related("user", "team").get(team_id=team_id, is_director=True)


def _queries(director: Member, day, now) -> int:
    director = _director(director.team_id)  # fresh: nothing cached on the instance
    with CaptureQueriesContext(connection) as queries:
        board_trends(scope=board_scope(viewer=director), end=day, days=DAYS, now=now)
    return len(queries.captured_queries)


def _day_queries(director: Member, day, now) -> int:
    """The day's board (board_get, issue 5: completion, escalations, duties, the scorecard), for the notes."""
    director = _director(director.team_id)
    with CaptureQueriesContext(connection) as queries:
        board_get(scope=board_scope(viewer=director), day=day, now=now)
    return len(queries.captured_queries)


def run() -> list[Result]:
    big = shared.big()
    shared.settle()
    day = big.board.day
    now = timezone.now()
    director = _director(big.board.team_ids[0])
    small = org_create(teams=1, members_per_team=50, items_per_template=20, prefix="board50", day=day)
    queries_500 = _queries(director, day, now)
    queries_50 = _queries(_director(small.team_ids[0]), day, now)
    day_500, day_50 = _day_queries(director, day, now), _day_queries(_director(small.team_ids[0]), day, now)
    params = {"now": now, "team": director.team_id, "start": day - timedelta(days=DAYS - 1), "end": day}
    trend: dict = {}
    reference_rows: list = []

    def ours() -> float:
        scope = board_scope(viewer=_director(director.team_id))
        with Timer() as timer:
            trend.update(board_trends(scope=scope, end=day, days=DAYS, now=now))
        return timer.seconds

    def reference() -> float:
        with connection.cursor() as cursor, Timer() as timer:
            cursor.execute(_REFERENCE, params)
            reference_rows[:] = cursor.fetchall()
        return timer.seconds

    ours_best, ref_best = best_of(ROUNDS, (None, ours), (None, reference))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM checklists_checklistitem i JOIN checklists_checklist c ON c.id = i.checklist_id "
            "WHERE c.team_id = %(team)s AND c.date BETWEEN %(start)s AND %(end)s",
            params,
        )
        rows_read = cursor.fetchone()[0]
    same = len(reference_rows) == DAYS and all(p is not None for p in trend["completion"])
    return [
        time_ratio(
            workload="board: 500 members x 30 days",
            ours=ours_best,
            reference=ref_best,
            limit=1.5,
            checks={f"<= {MAX_QUERIES} queries, same for 50 and 500": queries_500 == queries_50 <= MAX_QUERIES, "30 days counted": same},
            notes=[
                f"{rows_read:,} items of {big.table_rows:,} in the table; board_trends costs {queries_500} queries for 500 members "
                f"and {queries_50} for 50; best of {ROUNDS}; the one-day board (board_get) costs {day_500} queries for 500 "
                f"members and {day_50} for 50"
            ],
        )
    ]


WORKLOADS = [Workload(name="board", run=run, order=50)]
