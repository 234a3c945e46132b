"""Issue 8 in `make test`: the escalation sweep reads open items through the partial index, on PostgreSQL's own plan."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from checklists.daily.generation import run_generate_due
from checklists.escalation.raising import escalation_sweep
from checklists.models import ChecklistItem, Escalation, Notification
from tests.conftest import MONDAY

pytestmark = pytest.mark.integration

INDEX = "checklists_item_open_due"
DONE_ROWS = 50_000


def _history_add(rows: int) -> None:
    """Old closed items beside today's open ones, as after months of use: the index covers only the open ones."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO checklists_checklistitem (checklist_id, template_item_id, parent_id, is_group, playbook_id, "order", text, kind,
                target, unit, note_required, due_at, status, value, text_value, note, photo, done_at, done_by_id, updated_at)
            SELECT c.id, NULL, NULL, false, '', 0, 'old', 'check', NULL, '', false, %(due)s - n * interval '1 minute', 'done', NULL, '',
                '', '', %(due)s - n * interval '1 minute', NULL, %(due)s
            FROM generate_series(1, %(rows)s) AS n, (SELECT min(id) AS id FROM checklists_checklist) AS c
            """,
            {"rows": rows, "due": MONDAY.replace(day=1)},
        )
        cursor.execute("ANALYZE checklists_checklistitem")


def _plan(sql: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + sql)
        return "\n".join(row[0] for row in cursor.fetchall())


def test_the_sweep_finds_late_items_through_the_partial_index_of_open_items(team, warehouse_member, director):
    run_generate_due(team=team, now=MONDAY)
    _history_add(DONE_ROWS)
    assert ChecklistItem.objects.count() > DONE_ROWS
    with CaptureQueriesContext(connection) as queries:
        result = escalation_sweep(team=team, now=MONDAY.replace(hour=11))
    assert result.raised > 0
    candidates = [
        q["sql"]
        for q in queries.captured_queries
        # On PostgreSQL the sweep inserts its candidates with INSERT ... SELECT (in a WITH that counts them);
        # EXPLAIN shows that plan without running it.
        if q["sql"].lstrip().startswith(("SELECT", "INSERT", "WITH"))
        and 'FROM "checklists_checklistitem"' in q["sql"]
        and '"due_at" <=' in q["sql"]
    ]
    assert candidates, "the sweep ran no query for late items"
    for sql in candidates:
        plan = _plan(sql)
        assert INDEX in plan, f"the sweep's query does not use {INDEX}:\n{sql}\n{plan}"


def test_a_steady_state_sweep_marks_all_its_new_levels_sent_in_one_statement(team, warehouse_member, director):
    # Issue 8: the sweep rewrote its new escalations one UPDATE per recipient (a tenth of a steady sweep). Issue 16 took
    # out the second way that inserted them already sent (_raise_sent): one way raises, then one UPDATE marks them all.
    run_generate_due(team=team, now=MONDAY)
    with CaptureQueriesContext(connection) as queries:
        result = escalation_sweep(team=team, now=MONDAY.replace(hour=11))
    assert result.raised > 1
    assert result.notified == result.raised
    assert len({e.recipient_id for e in Escalation.objects.all()}) > 1
    sqls = [q["sql"] for q in queries.captured_queries]
    rewrites = [sql for sql in sqls if sql.lstrip().startswith("UPDATE") and "checklists_escalation" in sql]
    assert len(rewrites) == 1, "\n".join(rewrites)
    assert not Escalation.objects.filter(notified_at__isnull=True).exists()
    assert not Escalation.objects.filter(recipient__isnull=True).exists()
    assert Notification.objects.exists()


def test_lookups_by_recipient_and_by_notification_keep_an_index_after_their_own_went(team, warehouse_member):
    """Migration 0010 dropped the recipient's and the link's notification_id index: the composite ones serve both.

    With sequential scans priced out, the plan names the index that can serve the lookup (a lookup no index
    serves would still be a sequential scan)."""
    from checklists.notify.selectors import _UNREAD_COUNT

    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
    unread = _plan(_UNREAD_COUNT.replace("%s", str(warehouse_member.pk)))
    assert "checklists_notif_unread" in unread, unread
    links = _plan("SELECT escalation_id FROM checklists_notification_escalations WHERE notification_id = 1")
    assert "checklists_notification__notification_id_escalati_ca4b512f_uniq" in links, links
    assert Notification.escalations.through._meta.db_table == "checklists_notification_escalations"
