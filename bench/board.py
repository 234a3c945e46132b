"""The director's board with 500 members x 30 days of checklist items: how long the server takes to answer.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/opsteam_bench_board \\
        .venv/bin/python bench/board.py [--members 500] [--days 30] [--repeat 7] [--keep]

Runs against the configured database (DJANGO_SETTINGS_MODULE, default opsteam.settings.integration, and
DATABASE_URL): it migrates it, creates a team of its own (slug bench-board-<random>), fills it in a few bulk
inserts, measures, prints, and deletes the team again (unless --keep). Other teams are never touched.

Measured, each the best and the median of --repeat runs after one warm-up:
- board_get(): the selector behind /board/ and /api/v1/board/ (its query count is printed too);
- GET /board/: the whole page, template included, through Django's test client;
- GET /board/trends/?days=90 and GET /board/export.xlsx.
Not part of `make test`: see bench/README.md.
"""

from __future__ import annotations

import argparse
import importlib
import os
import statistics
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ITEMS_PER_LIST = 8


def __getattr__(name: str):
    """Imported as bench.board by the suite of issue 8: its own board workload stands in for this script."""
    if name == "WORKLOADS":
        try:
            return getattr(importlib.import_module("bench.board_workload"), "WORKLOADS", [])
        except ImportError:
            return []
    raise AttributeError(name)


def _setup() -> None:
    # Run as a script, bench/ is first on the path, where the suite's own modules (lib, data, urls...) would shadow others.
    sys.path[:] = [str(ROOT), *(p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent)]
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opsteam.settings.integration")
    import django

    django.setup()


def _fill(*, members: int, days: int):
    """A team with the playbook, a director, `members` members over the five roles, and their lists for `days` days."""
    from decimal import Decimal

    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from checklists.models import Checklist, ChecklistItem, ItemStatus
    from checklists.playbook.services import playbook_load
    from opsteam.lib.clock import local_date, local_datetime
    from roles.models import EntrySource, Member, MemberRole, Metric, MetricEntry, Role, Team
    from roles.services.kpi import target_set

    now = timezone.now()
    today = local_date(now)
    slug = f"bench-board-{uuid.uuid4().hex[:8]}"
    team = Team.objects.create(name="基准测试店", slug=slug)
    playbook_load(team=team)
    roles = list(Role.objects.filter(team=team).exclude(code="director").order_by("order"))
    User = get_user_model()
    users = User.objects.bulk_create([User(username=f"{slug}-{n}") for n in range(members + 1)])
    people = Member.objects.bulk_create(
        [Member(user=u, team=team, display_name=f"成员{n:04d}", is_director=n == 0) for n, u in enumerate(users)]
    )
    director, staff = people[0], people[1:]
    links = [MemberRole(member=m, role=roles[n % len(roles)], is_lead=n < len(roles)) for n, m in enumerate(staff)]
    MemberRole.objects.bulk_create(links)
    role_of = {link.member_id: link.role for link in links}
    from datetime import time as clock

    item_count = 0
    for offset in range(days):
        day = today - timedelta(days=offset)
        batch = uuid.uuid4()
        lists = Checklist.objects.bulk_create(
            [Checklist(team=team, role=role_of[m.pk], member=m, assignee=m, date=day, name="每日自查", batch=batch) for m in staff]
        )
        due = local_datetime(day, clock(18, 0))
        items = []
        for n, checklist in enumerate(lists):
            for k in range(ITEMS_PER_LIST):
                kind = (n + k + offset) % 10
                done_at = due - timedelta(hours=1) if kind < 6 else due + timedelta(hours=2) if kind < 8 else None
                status = ItemStatus.DONE if done_at else ItemStatus.OPEN
                if kind == 9:
                    status, done_at = ItemStatus.NOT_DONE, due
                items.append(
                    ChecklistItem(checklist=checklist, order=k, text=f"检查项 {k + 1}", due_at=due, status=status, done_at=done_at)
                )
        ChecklistItem.objects.bulk_create(items, batch_size=5000)
        item_count += len(items)
    metrics = {m.code: m for m in Metric.objects.filter(team=team)}
    entries = []
    for offset in range(days):
        day = today - timedelta(days=offset)
        for code, value in {"sales": 10000 + 37 * offset, "ad_spend": 2500, "buyers": 110, "visitors": 3000, "orders": 130}.items():
            entries.append(
                MetricEntry(team=team, metric=metrics[code], date=day, value=Decimal(value), source=EntrySource.FORM, entered_at=now)
            )
    MetricEntry.objects.bulk_create(entries)
    target_set(team=team, metric=metrics["sales"], month=today, value="300000", split="even", actor=None, now=now)
    return team, director, item_count


def _forget_earlier_runs() -> None:
    """A run that was interrupted leaves its team behind: remove those (and only those) first."""
    from django.contrib.auth import get_user_model

    from roles.models import Team

    for team in Team.objects.filter(slug__startswith="bench-board-"):
        _team_delete(team)
        get_user_model().objects.filter(username__startswith=f"{team.slug}-").delete()


def _team_delete(team) -> None:
    from django.contrib.auth import get_user_model

    user_ids = list(team.members.values_list("user_id", flat=True))
    team.delete()
    get_user_model().objects.filter(pk__in=user_ids).delete()


def _measure(label: str, fn, *, repeat: int) -> tuple[float, float]:
    fn()  # warm-up: connections, template loading, caches
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    best, median = min(times), statistics.median(times)
    print(f"  {label:<34} best {best * 1000:8.1f} ms   median {median * 1000:8.1f} ms")
    return best, median


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--members", type=int, default=500)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="keep the bench team (until the next run)")
    args = parser.parse_args()
    _setup()

    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from checklists.board.selectors import board_get, board_scope
    from opsteam.lib.clock import local_date

    print(f"database: {connection.vendor} {connection.settings_dict['NAME']} on {connection.settings_dict.get('HOST') or 'local'}")
    call_command("migrate", verbosity=0)
    _forget_earlier_runs()
    started = time.perf_counter()
    team, director, item_count = _fill(members=args.members, days=args.days)
    print(
        f"filled {args.members} members x {args.days} days = {item_count:,} items "
        f"in {time.perf_counter() - started:.1f} s (team {team.slug})"
    )
    try:
        director = type(director).objects.select_related("team", "user").get(pk=director.pk)
        now = timezone.now()
        day = local_date(now)
        scope = board_scope(viewer=director)
        with CaptureQueriesContext(connection) as queries:
            board = board_get(scope=scope, day=day, now=now)
        print(f"board for {day}: {board.total.total:,} items, {len(board.behind)} people behind, {len(queries)} queries")
        _measure("board_get() (selector)", lambda: board_get(scope=scope, day=day, now=now), repeat=args.repeat)
        client = Client(HTTP_HOST="localhost")
        client.force_login(director.user)
        for label, url in [
            ("GET /board/ (page)", "/board/"),
            ("GET /api/v1/board/", "/api/v1/board/"),
            ("GET /board/trends/?days=90", "/board/trends/?days=90"),
            ("GET /board/export.xlsx", "/board/export.xlsx"),
        ]:

            def get(url=url):
                response = client.get(url)
                assert response.status_code == 200, (url, response.status_code)

            _measure(label, get, repeat=args.repeat)
    finally:
        if not args.keep:
            _team_delete(team)
            print(f"deleted team {team.slug}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
