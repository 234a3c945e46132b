"""Issue 22, several machines on one: two web nodes (two gunicorn on two ports), two workers and one beat.

docs/deployment.md's shape. The test plays the proxy: it sends each request to the next node in turn. After
a morning (beat's generation and escalation sweep every two seconds, members opening their day and ticking
through both nodes) there is no duplicate list, escalation or notification, and every tick that answered
200 is recorded once.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import sys
import time
from collections import Counter
from datetime import time as clock_time
from pathlib import Path

import pytest
from django.conf import settings
from django.db.models import Count
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask
from rest_framework.authtoken.models import Token

from checklists.models import Checklist, ChecklistItem, ChecklistTemplate, Escalation, Notification, TickEvent
from checklists.playbook.services import playbook_load
from opsteam.lib.clock import local_date
from roles.models import CalendarOverride
from tests.factories import TeamFactory, member_with_role
from tests.integration.processes import CeleryProcess, database_url_for_processes, wait_for
from tests.integration.services import free_port, spawn
from tests.integration.test_beat_and_worker import _not_about_to_turn_midnight

pytestmark = pytest.mark.integration

WORKER = ("--pool=solo", "--loglevel=INFO", "--without-mingle", "--without-gossip")
BEAT = ("--scheduler=django_celery_beat.schedulers:DatabaseScheduler", "--loglevel=INFO", "--max-interval=1", "--pidfile=")
SUCCEEDED = re.compile(r"Task (checklists\.\w+)\[[^\]]+\] succeeded")


@pytest.fixture
def web_nodes(start_celery, integration_services, tmp_path):
    """A function starting n gunicorn processes on their own ports, on the test database; stopped afterwards."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "opsteam.settings.integration",
        "DATABASE_URL": database_url_for_processes(),
        "CELERY_BROKER_URL": integration_services.broker_url,
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("CELERY_TASK_ALWAYS_EAGER", None)
    started: list[CeleryProcess] = []

    def start(n: int) -> list[int]:
        ports = []
        for index in range(n):
            port = free_port()
            log = tmp_path / f"web-{index + 1}.log"
            command = [sys.executable, "-m", "gunicorn", "opsteam.wsgi:application", "--bind", f"127.0.0.1:{port}", "--workers", "1"]
            process = spawn(command, log=log, cwd=Path(settings.BASE_DIR), stop_signal=15, env=env)
            started.append(CeleryProcess(name=f"web-{index + 1}", process=process, log=log))
            ports.append(port)
        for port, node in zip(ports, started, strict=True):
            # Answering at all (503 until beat has run: the health check counts beat too).
            wait_for(lambda port=port: _get(port, "/healthz/")[0] != 0, timeout=60, what=f"gunicorn on {port}", processes=[node])
        return ports

    yield start
    for node in started:
        node.stop()


def _get(port: int, path: str, headers: dict | None = None) -> tuple[int, bytes]:
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read()
    except OSError:
        return 0, b""


def _post(port: int, path: str, headers: dict) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("POST", path, body=b"", headers={**headers, "Content-Length": "0"})
    response = conn.getresponse()
    response.read()
    return response.status


def _shop(slug: str, today):
    team = TeamFactory(slug=slug)
    playbook_load(team=team)
    CalendarOverride.objects.create(team=team, date=today, is_workday=True, note="integration test")
    # Generated at once, and due at the start of the day: by now late, so the sweep raises and notifies.
    ChecklistTemplate.objects.filter(team=team).update(generate_at=clock_time(0, 0), due_at=clock_time(0, 0))
    members = [member_with_role(team, "warehouse", username=f"{slug}-wh{n}") for n in range(3)]
    members.append(member_with_role(team, "warehouse", lead=True, username=f"{slug}-lead"))
    members.append(member_with_role(team, "service", username=f"{slug}-cs"))
    members.append(member_with_role(team, "operations", username=f"{slug}-ops", is_director=True))
    return team, members


@pytest.mark.django_db(transaction=True)
def test_two_web_nodes_two_workers_and_one_beat_make_no_duplicate_after_a_morning(start_celery, web_nodes):
    _not_about_to_turn_midnight()
    today = local_date(timezone.now())
    shops = [_shop(slug, today) for slug in ("north-shop", "south-shop")]
    every_two, _ = IntervalSchedule.objects.get_or_create(every=2, period=IntervalSchedule.SECONDS)
    PeriodicTask.objects.filter(name__in=["generate-checklists", "escalate"]).update(interval=every_two)

    nodes = web_nodes(2)
    workers = [start_celery("worker", *WORKER, f"--hostname=node{n}@%h") for n in (1, 2)]
    beat = start_celery("beat", *BEAT)
    processes = [*workers, beat]
    members = [m for _team, team_members in shops for m in team_members]
    wait_for(
        lambda: all(Checklist.objects.filter(member=m, date=today).exists() for m in members),
        timeout=90,
        what="every member's lists, made by the workers",
        processes=processes,
    )

    # The morning through both nodes in turn, as a proxy would: each member opens the day and ticks two items.
    turn = iter(range(10_000))
    answered: Counter = Counter()
    statuses: Counter = Counter()
    for member in members:
        token = Token.objects.create(user=member.user).key
        api = {"Authorization": f"Token {token}", "Host": "127.0.0.1"}
        status, body = _get(nodes[next(turn) % 2], f"/api/v1/checklists/?date={today.isoformat()}", api)
        statuses[status] += 1
        own = [day_list for day_list in json.loads(body) if day_list["assignee"] == member.pk]  # a lead sees others' lists too
        items = [i["id"] for day_list in own for i in day_list["items"] if i["kind"] == "check" and not i["is_group"]][:2]
        for item_id in items:
            status = _post(nodes[next(turn) % 2], f"/api/v1/checklist-items/{item_id}/tick/", api)
            statuses[status] += 1
            answered[item_id] += status == 200
    assert set(statuses) == {200}, statuses

    wait_for(lambda: Escalation.objects.exists() and Notification.objects.exists(), timeout=60, what="escalations", processes=processes)

    # Let beat go round a few more times: later runs must find everything there and add nothing.
    def succeeded(name: str) -> int:
        return sum(len([m for m in SUCCEEDED.findall(w.output()) if m == name]) for w in workers)

    escalate_runs = succeeded("checklists.escalate_team")
    wait_for(lambda: succeeded("checklists.escalate_team") >= escalate_runs + 8, timeout=60, what="more sweeps", processes=processes)
    beat.stop()
    time.sleep(1)  # what beat sent last is finished by the workers (their tasks take milliseconds)

    # The work was shared: each worker ran some of it.
    assert all(SUCCEEDED.search(w.output()) for w in workers)
    duplicate_lists = Checklist.objects.values("member", "template", "date").annotate(n=Count("id")).filter(n__gt=1)
    assert not duplicate_lists.exists()
    lists = Checklist.objects.filter(date=today)
    assert lists.count() == lists.values("member", "template").distinct().count()
    duplicate_escalations = Escalation.objects.values("item", "level_order").annotate(n=Count("id")).filter(n__gt=1)
    assert not duplicate_escalations.exists()
    links = Notification.escalations.through.objects.values("notification__recipient", "escalation").annotate(n=Count("id"))
    assert not links.filter(n__gt=1).exists(), "an escalation notified the same person twice"
    assert links.exists()
    for item_id, successes in answered.items():
        assert TickEvent.objects.filter(item_id=item_id, action="tick").count() == successes == 1
        assert ChecklistItem.objects.get(pk=item_id).status == "done"
