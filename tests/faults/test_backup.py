"""Backup and restore (issue 7, docs/operations.md): pg_dump of the live database, pg_restore into a fresh one,
and every tick is there with who, when and from where."""

from __future__ import annotations

import subprocess

import psycopg
import pytest
from django.utils import timezone

from checklists.daily.generation import run_generate_due
from checklists.daily.ticks import tick_record
from checklists.models import ChecklistItem, TickEvent
from tests.faults.test_faults import _shop
from tests.integration.processes import database_url_for_processes
from tests.integration.services import postgres_bindir

pytestmark = pytest.mark.faults


@pytest.mark.django_db(transaction=True)
def test_a_dump_restored_into_a_fresh_database_has_every_tick(tmp_path):
    team, members = _shop("backup", staff=3)
    now = timezone.now()
    run_generate_due(team=team, now=now)
    for n, item in enumerate(ChecklistItem.objects.filter(checklist__member__in=members, is_group=False).order_by("id")[:20]):
        tick_record(item=item, actor=item.checklist.member, now=now, ip=f"198.51.100.{n + 1}", note=f"第{n}项 ✅")
    expected = sorted(TickEvent.objects.values_list("id", "item_id", "actor_id", "action", "ip", "at"))
    assert len(expected) == 20

    source = database_url_for_processes()
    dump = tmp_path / "opsteam.dump"
    bindir = postgres_bindir()
    done = subprocess.run(
        [str(bindir / "pg_dump"), "--format=custom", f"--file={dump}", source], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr

    restored = source.rsplit("/", 1)[0] + "/opsteam_restored"
    with psycopg.connect(source.rsplit("/", 1)[0] + "/postgres", autocommit=True) as admin:
        admin.execute("DROP DATABASE IF EXISTS opsteam_restored")
        admin.execute("CREATE DATABASE opsteam_restored")
    try:
        done = subprocess.run(
            [str(bindir / "pg_restore"), "--no-owner", "--exit-on-error", f"--dbname={restored}", str(dump)],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        with psycopg.connect(restored) as conn:
            rows = conn.execute("SELECT id, item_id, actor_id, action, host(ip), at FROM checklists_tickevent ORDER BY id").fetchall()
            notes = {r[0] for r in conn.execute("SELECT changes->>'note' FROM checklists_tickevent").fetchall()}
    finally:
        with psycopg.connect(source.rsplit("/", 1)[0] + "/postgres", autocommit=True) as admin:
            admin.execute("DROP DATABASE IF EXISTS opsteam_restored")
    assert [(r[0], r[1], r[2], r[3], r[4], r[5]) for r in rows] == [(e[0], e[1], e[2], e[3], e[4], e[5]) for e in expected]
    assert len(notes) == 20  # each tick's note change (before, after), unicode intact
    assert any("第19项 ✅" in note for note in notes)
