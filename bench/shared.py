"""What several workloads share within one run: the organisation, the worker and gunicorn, started once."""

from __future__ import annotations

import os

from bench import stack
from bench.data import Org, org_create

# The shop group: 500 shops, 10,000 staff, 20 items each every morning. BENCH_TEAMS is for trying
# the harness quickly while working on it; a run with fewer shops says so in its notes.
TEAMS = int(os.environ.get("BENCH_TEAMS", "500"))
MEMBERS_PER_TEAM = 20
ITEMS = 20
# Prefork processes of the benchmark's worker: 2 per core, because the morning run's tasks wait on PostgreSQL and Redis
# more than they compute (with 2 processes the run measured 4.4x COPY, with 4 about 2.3x, on the same machine).
WORKER_CONCURRENCY = int(os.environ.get("BENCH_WORKER_CONCURRENCY", "4"))

_state: dict = {}


def org() -> Org:
    if "org" not in _state:
        _state["org"] = org_create(teams=TEAMS, members_per_team=MEMBERS_PER_TEAM, items_per_template=ITEMS)
    return _state["org"]


def worker() -> stack.Process:
    if "worker" not in _state:
        _state["worker"] = stack.worker_start(concurrency=WORKER_CONCURRENCY)
    return _state["worker"]


def gunicorn() -> int:
    if "gunicorn" not in _state:
        _state["gunicorn"] = stack.gunicorn_start()
    return _state["gunicorn"][1]


def worker_stop() -> None:
    """The worker is the generation's alone: stopped after it, so that it takes nothing from the later workloads."""
    if "worker" in _state:
        _state.pop("worker").stop()


def settle() -> None:
    """Before a workload's timed part: CHECKPOINT, untimed.

    A bulk load (the morning generation's runs, the 4,000,000 items of bench/bigdata.py) leaves PostgreSQL a
    checkpoint to write. Left alone, it runs during the next workload and lands in some rounds and not
    others. (It does not explain why a tick right after the generation workload reads lower than alone:
    0.50-0.60x against 0.61-0.76x here, with or without it.)
    """
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("CHECKPOINT")


def stop_all() -> None:
    worker_stop()
    if "gunicorn" in _state:
        _state.pop("gunicorn")[0].stop()


def lists_ensure() -> None:
    """Today's lists for every shop (the generation workload leaves them; a partial run makes them here)."""
    from django.utils import timezone

    from checklists.daily.generation import run_generate_due
    from checklists.models import Checklist
    from roles.models import Team

    current = org()
    if Checklist.objects.filter(date=current.day).exists():
        return
    now = timezone.now()
    for team in Team.objects.filter(pk__in=current.team_ids):
        run_generate_due(team=team, now=now)


def tokens_for(member_ids: list[int]) -> dict[int, str]:
    """API tokens for these members, made in one statement."""
    from rest_framework.authtoken.models import Token

    from roles.models import Member

    users = dict(Member.objects.filter(pk__in=member_ids).values_list("pk", "user_id"))
    existing = dict(Token.objects.filter(user_id__in=users.values()).values_list("user_id", "key"))
    Token.objects.bulk_create(Token(user_id=user_id, key=Token.generate_key()) for user_id in users.values() if user_id not in existing)
    keys = dict(Token.objects.filter(user_id__in=users.values()).values_list("user_id", "key"))
    return {member_id: keys[user_id] for member_id, user_id in users.items()}


def big():
    """The sweep's and the board's large tables (bench/bigdata.py), built once, after today's lists."""
    if "big" not in _state:
        from bench.bigdata import big_create

        lists_ensure()
        _state["big"] = big_create(today=org().day)
    return _state["big"]
