"""Faults (issue 7): PostgreSQL restarted, Redis stopped for 30 s, a worker SIGKILLed mid-generation with a
second worker taking over, two beats by mistake, beat down all morning. Private servers only (conftest.py)."""

from __future__ import annotations

import io
import os
import re
import signal
import time
from collections import Counter
from datetime import time as clock_time
from datetime import timedelta

import psycopg
import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from checklists.duties.services import task_create
from checklists.models import (
    Checklist,
    ChecklistItem,
    ChecklistTemplate,
    Delivery,
    Escalation,
    EscalationPolicy,
    Notification,
    RobotSend,
    TickEvent,
)
from checklists.notify.services import notification_create
from checklists.playbook.services import playbook_load
from opsteam.lib.clock import local_date
from roles.models import CalendarOverride, MemberRole
from tests.factories import TeamFactory, member_with_role
from tests.integration.processes import wait_for
from tests.integration.test_beat_and_worker import BEAT_OPTIONS, WORKER_OPTIONS, _not_about_to_turn_midnight
from tests.robot_server import RobotServer

pytestmark = pytest.mark.faults

REDIS_DOWN_SECONDS = float(os.environ.get("OPSTEAM_FAULT_REDIS_DOWN_SECONDS", "30"))
# Beat's entry task: it runs every time, and sends shop tasks only while a list is still to create (issue 22).
GENERATED = re.compile(r"Task checklists\.generate_due\[[^\]]+\] succeeded")
TITLE = re.compile(r"提醒#(\d+)")


def _every(seconds: int, *names: str) -> None:
    """Only these beat entries, every `seconds`: the rest would only race the test's clock."""
    interval, _ = IntervalSchedule.objects.get_or_create(every=seconds, period=IntervalSchedule.SECONDS)
    PeriodicTask.objects.exclude(name__in=names).update(enabled=False)
    for task in PeriodicTask.objects.filter(name__in=names):
        task.interval = interval
        task.enabled = True
        task.save()


def _shop(slug: str, *, staff: int = 3):
    """A team with the playbook, `staff` warehouse workers, generation due from midnight, today a working day."""
    team = TeamFactory(slug=slug)
    playbook_load(team=team)
    CalendarOverride.objects.create(team=team, date=local_date(timezone.now()), is_workday=True, note="faults tier")
    ChecklistTemplate.objects.filter(team=team).update(generate_at=clock_time(0, 0))
    members = [member_with_role(team, "warehouse", username=f"{slug}-wh{i}") for i in range(staff)]
    return team, members


def _lists_per_member_and_template(team) -> Counter:
    return Counter(Checklist.objects.filter(template__team=team).values_list("member_id", "template_id"))


def _expected_lists(team) -> int:
    """How many lists today's generation makes: one per member and template of each of their roles, a lead-only
    template (PLAYBOOK v2's SC-CS-LEAD) for the role's lead alone."""
    links = MemberRole.objects.filter(member__team=team, member__is_active=True).values_list("role_id", "is_lead")
    templates = ChecklistTemplate.objects.filter(team=team, is_active=True).values_list("role_id", "lead_only")
    per_role = Counter(role_id for role_id, _lead_only in templates)
    lead_only = Counter(role_id for role_id, only in templates if only)
    return sum(per_role[role_id] - (0 if is_lead else lead_only[role_id]) for role_id, is_lead in links)


def _robot_numbers(server: RobotServer) -> Counter:
    found: Counter = Counter()
    for received in server.received:
        found.update({int(n) for n in TITLE.findall(received.raw.decode())})
    return found


@pytest.fixture
def robot():
    server = RobotServer(kind="feishu").start()
    yield server
    server.stop()


# --- PostgreSQL restarted ------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_while_postgresql_restarts_pages_answer_503_and_then_recover_by_themselves(integration_services):
    _team, (member, *_rest) = _shop("pg-restart", staff=1)
    client = Client(raise_request_exception=False)
    client.force_login(member.user)
    assert client.get("/today/").status_code == 200

    integration_services.postgres.stop()
    try:
        page = client.get("/today/")
        api = client.get("/api/v1/checklists/")
        health = client.get("/healthz/")
        login = Client(raise_request_exception=False).get("/accounts/login/")
    finally:
        integration_services.postgres.start()
    assert page.status_code == 503, page.content[:300]
    assert "系统正在恢复" in page.content.decode()
    assert page["Retry-After"] == "30"
    assert api.status_code == 503
    assert api.json()["code"] == "database_unavailable"
    assert health.status_code == 503
    assert health.json()["checks"]["database"]["ok"] is False
    assert login.status_code in (200, 503)  # the login page itself needs no database until the form is posted

    # No restart of the web process: the next request opens a new connection.
    wait_for(lambda: client.get("/today/").status_code == 200, timeout=30, what="the today page answering again")
    assert client.get("/healthz/").json()["checks"]["database"]["ok"] is True


# --- Redis stopped for 30 s ------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_redis_stopped_for_30_s_ticks_keep_working_nothing_is_lost_and_jobs_resume(integration_services, start_celery, robot):
    from checklists.models import Robot

    _not_about_to_turn_midnight(margin=180)
    team, members = _shop("redis-down", staff=2)
    Robot.objects.create(team=team, kind="feishu", name="仓库群", webhook_url=robot.url, rate_per_minute=100)
    _every(2, "generate-checklists", "flush-deliveries")
    worker = start_celery("worker", *WORKER_OPTIONS)
    beat = start_celery("beat", *BEAT_OPTIONS)
    wait_for(lambda: _lists_per_member_and_template(team), timeout=90, what="today's lists", processes=[worker, beat])
    items = list(ChecklistItem.objects.filter(checklist__member__in=members, is_group=False).order_by("id"))
    client = Client(raise_request_exception=False)

    integration_services.redis.stop()
    down_at = time.monotonic()
    ticked = 0
    statuses: Counter = Counter()
    n = 0
    while time.monotonic() - down_at < REDIS_DOWN_SECONDS:
        item = items[ticked % len(items)]
        client.force_login(item.checklist.member.user)
        started = time.monotonic()
        response = client.post(f"/items/{item.pk}/tick/", HTTP_HX_REQUEST="true")
        statuses[response.status_code] += 1
        assert time.monotonic() - started < 5, "a tick waited for the broker"
        ticked += 1
        # Jobs keep producing notifications while the broker is away: they must wait in the outbox.
        notification_create(
            team=team,
            recipient=members[0],
            kind="reminder",
            title=f"提醒#{n}",
            body="补货表",
            url="/today/",
            not_before=timezone.now(),
            now=timezone.now(),
        )
        n += 1
        time.sleep(0.5)
    runs_before = len(GENERATED.findall(worker.output()))
    integration_services.redis.start()

    assert statuses == Counter({200: ticked}), statuses
    assert TickEvent.objects.filter(item__checklist__template__team=team).count() == ticked
    # Jobs resume: the worker reconnects and runs beat's generation again; the outbox drains, each message once.
    wait_for(lambda: len(GENERATED.findall(worker.output())) >= runs_before + 2, timeout=90, what="generation after Redis came back",
             processes=[worker, beat])  # fmt: skip
    wait_for(
        lambda: not Delivery.objects.filter(team=team).exclude(status="sent").exists(),
        timeout=90,
        what="every delivery sent after Redis came back",
        processes=[worker, beat],
    )
    time.sleep(5)  # a few more flushes: nothing goes out twice
    assert _robot_numbers(robot) == Counter(dict.fromkeys(range(n), 1))
    assert sum(_lists_per_member_and_template(team).values()) == _expected_lists(team)
    assert set(_lists_per_member_and_template(team).values()) == {1}


# --- a worker SIGKILLed mid-generation; two workers, one beat -------------------------------------------------


def _lock_waiters(dsn: str) -> int:
    with psycopg.connect(dsn, autocommit=True) as conn:
        return conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
        ).fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_generation_leaves_each_list_exactly_once_after_another_takes_over(start_celery):
    from tests.integration.processes import database_url_for_processes

    _not_about_to_turn_midnight(margin=180)
    team, _members = _shop("sigkill", staff=40)
    expected = _expected_lists(team)
    _every(2, "generate-checklists")
    dsn = database_url_for_processes()

    # Hold the lists table so the first worker's generation starts, then waits inside its transaction.
    blocker = psycopg.connect(dsn)
    blocker.execute("LOCK TABLE checklists_checklist IN EXCLUSIVE MODE")
    try:
        first = start_celery("worker", *WORKER_OPTIONS, "--hostname=first@%h")
        beat = start_celery("beat", *BEAT_OPTIONS)
        wait_for(lambda: _lock_waiters(dsn) >= 1, timeout=90, what="the first worker inside generation", processes=[first, beat])
        second = start_celery("worker", *WORKER_OPTIONS, "--hostname=second@%h")
        os.killpg(first.process.pid, signal.SIGKILL)
        first.process.wait(timeout=10)
    finally:
        blocker.rollback()
        blocker.close()

    wait_for(lambda: sum(_lists_per_member_and_template(team).values()) == expected, timeout=120,
             what=f"all {expected} lists made by the second worker", processes=[second, beat])  # fmt: skip
    runs = len(GENERATED.findall(second.output()))
    wait_for(lambda: len(GENERATED.findall(second.output())) >= runs + 2, timeout=60, what="two more generation runs",
             processes=[second, beat])  # fmt: skip
    counts = _lists_per_member_and_template(team)
    assert sum(counts.values()) == expected
    assert set(counts.values()) == {1}
    assert "generate_for_team" in first.output()  # it really had taken the job before it died


# --- two beats by mistake ----------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_beats_by_mistake_make_no_duplicate_list_escalation_or_message(start_celery, robot):
    from checklists.models import Robot

    _not_about_to_turn_midnight(margin=180)
    team, _members = _shop("two-beats", staff=5)
    lead = member_with_role(team, "service", lead=True, username="two-beats-cs-lead")
    owner = member_with_role(team, "service", username="two-beats-cs")
    director = member_with_role(team, "director", lead=True, username="two-beats-boss", is_director=True)
    Robot.objects.create(team=team, kind="feishu", name="运营群", webhook_url=robot.url, rate_per_minute=100)
    now = timezone.now()
    task = task_create(team=team, title="退款 3021123456789", due_at=now - timedelta(hours=3), source="problem_order", now=now, owner=owner)
    # Quiet hours (22:00-08:00 by default) would hold the messages until morning when this runs late.
    EscalationPolicy.objects.filter(team=team).update(quiet_start=clock_time(0, 0), quiet_end=clock_time(0, 0))
    _every(2, "generate-checklists", "escalate", "flush-deliveries")

    worker = start_celery("worker", *WORKER_OPTIONS)
    beats = [start_celery("beat", *BEAT_OPTIONS), start_celery("beat", *BEAT_OPTIONS)]
    wait_for(lambda: Escalation.objects.filter(task=task, notified_at__isnull=False).count() == 3, timeout=90,
             what="three escalation levels", processes=[worker, *beats])  # fmt: skip
    wait_for(lambda: not Delivery.objects.filter(team=team).exclude(status="sent").exists(), timeout=60,
             what="every delivery sent", processes=[worker, *beats])  # fmt: skip
    wait_for(lambda: len(GENERATED.findall(worker.output())) >= 6, timeout=60, what="six generation runs", processes=[worker, *beats])
    assert worker.output().count("checklists.escalate_due") >= 4

    counts = _lists_per_member_and_template(team)
    assert set(counts.values()) == {1}
    assert sum(counts.values()) == _expected_lists(team)
    assert sorted(Escalation.objects.filter(task=task).values_list("level_order", "recipient_id")) == [
        (1, owner.pk),
        (2, lead.pk),
        (3, director.pk),
    ]
    # The lists generated at midnight are late by now too: every late thing is escalated once per level ...
    escalations = Escalation.objects.filter(team=team)
    assert escalations.count() == len(set(escalations.values_list("item_id", "task_id", "level_order")))
    # ... each escalation reaches each of its recipients in one message, and every delivery went out once, first time.
    links = Notification.escalations.through.objects.filter(escalation__team=team)
    per_recipient = Counter(links.values_list("escalation_id", "notification__recipient_id"))
    assert per_recipient
    assert set(per_recipient.values()) == {1}
    assert set(Delivery.objects.filter(team=team).values_list("status", "attempts")) == {("sent", 1)}
    assert len(robot.received) == RobotSend.objects.filter(robot__team=team, ok=True).count()


# --- beat down 06:00-11:00 -----------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_beat_down_all_morning_generates_today_once_and_sends_the_late_reminders_once_in_one_digest(robot):
    """No worker or beat: `run_jobs --at` is exactly what beat's first runs after 11:00 do, twice as a catching-up beat would."""
    from checklists.models import Robot
    from checklists.notify.flush import deliveries_flush

    team = TeamFactory(slug="beat-down")
    playbook_load(team=team)
    day = "2026-11-23"  # a Monday and a working day
    members = [member_with_role(team, "warehouse", username=f"beat-down-wh{i}") for i in range(3)]
    member_with_role(team, "warehouse", lead=True, username="beat-down-lead")
    member_with_role(team, "director", lead=True, username="beat-down-boss", is_director=True)
    Robot.objects.create(team=team, kind="feishu", name="仓库群", webhook_url=robot.url, rate_per_minute=20)

    call_command("run_jobs", at=f"{day} 11:00", stdout=io.StringIO())
    call_command("run_jobs", at=f"{day} 11:01", stdout=io.StringIO())
    from opsteam.lib.clock import parse_local

    flushed = deliveries_flush(now=parse_local(f"{day} 11:02"))
    again = deliveries_flush(now=parse_local(f"{day} 11:03"))

    counts = Counter(Checklist.objects.filter(template__team=team).values_list("member_id", "template_id"))
    assert set(counts.values()) == {1}
    assert sum(counts.values()) == _expected_lists(team)
    late = Escalation.objects.filter(team=team)
    assert late.exists(), "the items due before 11:00 are late and escalated"
    assert late.count() == len(set(late.values_list("item_id", "level_order", "recipient_id")))
    # The whole morning's late items in one message per person and kind ("已逾期：你有 8 项没完成"), not one per item.
    per_recipient = Counter(Notification.objects.filter(team=team).values_list("recipient_id", "kind"))
    assert set(per_recipient.values()) == {1}, per_recipient
    assert len(per_recipient) <= len(members) + 4
    assert again.sent == flushed.sent == 0  # run_jobs flushed already; later flushes find nothing to send again
    assert set(Delivery.objects.filter(team=team).values_list("status", "attempts")) == {("sent", 1)}
    # and the group robot gets them as one digest
    assert len(robot.received) == RobotSend.objects.filter(robot__team=team, ok=True).count() == 1
