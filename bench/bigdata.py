"""The large tables of the sweep and the board, written with INSERT ... SELECT (the set-up is not measured).

- The sweep's shop: 5,000 members; today 20 items each (1,000 due at 10:00, 99,000 at 10:30) and nine older
  days of items never ticked, beyond the 48-hour lookback: 1,000,000 open items in all.
- The board's shop: 500 members; 30 days of items (mostly done, some late, not done or open) and older
  closed days, so that checklists_checklistitem holds 3,000,000 rows with the generation workload's.

The items table's secondary indexes are dropped for the bulk insert and built again after it, and foreign
keys are not checked row by row (session_replication_role = replica): the rows are consistent by construction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time, timedelta

from django.conf import settings
from django.db import connection

from bench.data import Org, org_create
from roles.models import CalendarOverride, Team

SWEEP_MEMBERS = 5000
BOARD_MEMBERS = 500
BOARD_DAYS = 30
ITEMS = 20
TABLE_ROWS = 3_000_000
STEADY_MEMBERS = 50  # 50 x 20 = 1,000 items due at 10:00
EARLY, LATE = time(10, 0), time(10, 30)
BOARD_DUE = time(18, 0)  # outside the sweep's window

_CHECKLISTS = """
INSERT INTO checklists_checklist (team_id, template_id, role_id, member_id, assignee_id, date, name, batch, created_at)
SELECT t.team_id, t.id, t.role_id, mr.member_id, mr.member_id, d::date, t.name, gen_random_uuid(), now()
FROM checklists_checklisttemplate t
JOIN roles_memberrole mr ON mr.role_id = t.role_id
CROSS JOIN generate_series(%(start)s::date, %(end)s::date, interval '1 day') AS d
WHERE t.team_id = %(team)s
ORDER BY d, mr.member_id
"""
# status: 'open' for the sweep's shop; for the board a mix: 80 % done (a tenth of them late), 10 % not done, 10 % open.
_ITEMS = """
INSERT INTO checklists_checklistitem (checklist_id, template_item_id, parent_id, is_group, playbook_id, "order", text, kind,
    target, unit, note_required, due_at, status, value, text_value, note, photo, done_at, done_by_id, updated_at)
SELECT c.id, ti.id, NULL, false, '', ti."order", ti.text, 'check', NULL, '', false, x.due,
    x.status, NULL, '', '', '',
    CASE WHEN x.status = 'open' THEN NULL
         WHEN (c.id + ti.id) %% 50 = 2 THEN x.due + interval '40 minutes'
         ELSE x.due - interval '20 minutes' END,
    CASE WHEN x.status = 'open' THEN NULL ELSE c.member_id END,
    now()
FROM checklists_checklist c
JOIN checklists_templateitem ti ON ti.template_id = c.template_id
CROSS JOIN LATERAL (
    SELECT (c.date + CASE WHEN c.member_id < %(early_below)s THEN %(early)s::time ELSE %(late)s::time END) AT TIME ZONE %(tz)s AS due,
           CASE WHEN %(mixed)s THEN (CASE (c.id + ti.id) %% 10 WHEN 0 THEN 'open' WHEN 1 THEN 'not_done' ELSE 'done' END) ELSE 'open' END
           AS status
) AS x
WHERE c.team_id = %(team)s AND c.date BETWEEN %(start)s AND %(end)s
ORDER BY c.id, ti."order"
"""


@dataclass
class Big:
    sweep: Org
    board: Org
    steady_cut: int  # members with an id below this have today's items due at 10:00
    open_items: int
    table_rows: int


def _days(org: Org, start: date, end: date) -> None:
    """Every day of the data is a working day for the shop, so the lookback is exactly 48 hours."""
    days = [start + timedelta(days=n) for n in range((end - start).days + 1)]
    CalendarOverride.objects.bulk_create(
        [CalendarOverride(team_id=org.team_ids[0], date=day, is_workday=True, note="bench") for day in days if day != org.day],
        ignore_conflicts=True,
    )


def _fill(cursor, *, org: Org, start: date, end: date, mixed: bool, early_below: int, late: time = LATE) -> None:
    cursor.execute(_CHECKLISTS, {"team": org.team_ids[0], "start": start, "end": end})
    cursor.execute(
        _ITEMS,
        {
            "team": org.team_ids[0],
            "start": start,
            "end": end,
            "mixed": mixed,
            "early_below": early_below,
            "early": EARLY,
            "late": late,
            "tz": settings.TIME_ZONE,
        },
    )


def big_create(*, today: date) -> Big:
    sweep = org_create(teams=1, members_per_team=SWEEP_MEMBERS, items_per_template=ITEMS, prefix="sweep", day=today)
    board = org_create(teams=1, members_per_team=BOARD_MEMBERS, items_per_template=ITEMS, prefix="board", day=today)
    cut = sweep.member_ids[STEADY_MEMBERS]
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM checklists_checklistitem")
        existing = cursor.fetchone()[0]
        # Older closed days for the board's shop make up the rest of the 3,000,000 rows.
        older_days = max(
            0, (TABLE_ROWS - existing - SWEEP_MEMBERS * ITEMS * 10 - BOARD_MEMBERS * ITEMS * BOARD_DAYS) // (BOARD_MEMBERS * ITEMS)
        )
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'checklists_checklistitem' AND indexname NOT LIKE '%%_pkey'"
        )
        indexes = cursor.fetchall()
        for name, _definition in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
        cursor.execute("SET session_replication_role = replica")
        try:
            _fill(cursor, org=sweep, start=today - timedelta(days=12), end=today - timedelta(days=4), mixed=False, early_below=0)
            _fill(cursor, org=sweep, start=today, end=today, mixed=False, early_below=cut)
            _fill(
                cursor,
                org=board,
                start=today - timedelta(days=BOARD_DAYS + older_days - 1),
                end=today - timedelta(days=BOARD_DAYS),
                mixed=True,
                early_below=0,
                late=BOARD_DUE,
            )
            _fill(cursor, org=board, start=today - timedelta(days=BOARD_DAYS - 1), end=today, mixed=True, early_below=0, late=BOARD_DUE)
        finally:
            cursor.execute("SET session_replication_role = DEFAULT")
        for _name, definition in indexes:
            cursor.execute(definition)
        cursor.execute("ANALYZE")
        cursor.execute("SELECT count(*) FROM checklists_checklistitem")
        rows = cursor.fetchone()[0]
        cursor.execute(
            "SELECT count(*) FROM checklists_checklistitem i JOIN checklists_checklist c ON c.id = i.checklist_id "
            "WHERE c.team_id = %s AND i.status = 'open'",
            [sweep.team_ids[0]],
        )
        sweep_open = cursor.fetchone()[0]
    _days(sweep, today - timedelta(days=14), today)
    _days(board, today - timedelta(days=BOARD_DAYS + older_days), today)
    assert Team.objects.filter(pk=sweep.team_ids[0]).exists()
    return Big(sweep=sweep, board=board, steady_cut=cut, open_items=sweep_open, table_rows=rows)
