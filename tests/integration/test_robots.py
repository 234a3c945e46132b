"""Robots and the outbox on PostgreSQL, against local HTTP servers standing in for DingTalk, WeCom and Feishu.

Each test recomputes what the vendor would check (the signature, the payload's shape) from the request
the local server received, and counts what reached it: nothing dropped, nothing sent twice.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections import Counter
from datetime import timedelta

import pytest
from django.core import mail

from checklists.models import Delivery, Escalation, EscalationLevel, EscalationPolicy, Robot, RobotSend, Task
from checklists.notify.flush import deliveries_flush
from checklists.notify.services import NotificationSpec, notification_create, notification_create_many
from tests.conftest import MONDAY
from tests.integration.test_concurrency import run_at_once
from tests.robot_server import RobotServer

pytestmark = pytest.mark.integration

TITLE = re.compile(r"提醒#(\d+)")


@pytest.fixture
def contactable(warehouse_member):
    warehouse_member.mobile = "13800000001"
    warehouse_member.feishu_open_id = "ou_7d8a6e6df7621556ce0d21922b676706"
    warehouse_member.save()
    warehouse_member.user.email = "wh1@example.com"
    warehouse_member.user.save()
    return warehouse_member


def make_robot(team, server, *, secret="", rate=20) -> Robot:
    return Robot.objects.create(
        team=team, kind=server.kind, name=f"{server.kind} 群", webhook_url=server.url, secret=secret, rate_per_minute=rate
    )


def notify(member, *, n=0, now=MONDAY, not_before=None, escalations=()):
    return notification_create(
        team=member.team,
        recipient=member,
        kind="escalation",
        title=f"提醒#{n}",
        body="提供店铺产品补货需求表 已超时 30 分钟",
        url=f"/tasks/{n}/",
        escalations=escalations,
        not_before=not_before or now,
        now=now,
    )


def numbers_in(server: RobotServer) -> Counter:
    """In how many of the messages the robot received each notification number appears."""
    found: Counter = Counter()
    for received in server.received:
        found.update({int(n) for n in TITLE.findall(received.raw.decode())})
    return found


# --- signatures and shapes ----------------------------------------------------------------------------


def test_dingtalk_signature_verifies_and_the_payload_has_the_documented_shape(team, contactable, robot_server):
    server = robot_server("dingtalk")
    secret = "SEC0123456789abcdef"
    make_robot(team, server, secret=secret)
    notify(contactable, n=1)

    assert deliveries_flush(now=MONDAY).sent == 2  # the robot and the email

    (received,) = server.received
    timestamp = received.query["timestamp"]
    expected = base64.b64encode(hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()).decode()
    assert received.query["sign"] == expected  # parse_qs undid the URL quoting
    assert received.query["access_token"] == "tok"
    assert abs(int(timestamp) - MONDAY.timestamp() * 1000) < 3_600_000  # DingTalk refuses timestamps an hour off
    body = received.body
    assert set(body) == {"msgtype", "markdown", "at"}
    assert body["msgtype"] == "markdown"
    assert set(body["markdown"]) == {"title", "text"}
    assert body["at"] == {"atMobiles": ["13800000001"], "isAtAll": False}
    assert "@13800000001" in body["markdown"]["text"]
    assert "(http://127.0.0.1:8000/tasks/1/)" in body["markdown"]["text"]
    assert "提醒#1" in body["markdown"]["title"]


def test_feishu_signature_verifies_and_the_card_mentions_the_member(team, contactable, robot_server):
    server = robot_server("feishu")
    make_robot(team, server, secret="feishu-secret")
    notify(contactable, n=2)

    deliveries_flush(now=MONDAY)

    (received,) = server.received
    body = received.body
    key = f"{body['timestamp']}\nfeishu-secret".encode()
    assert body["sign"] == base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()
    assert int(body["timestamp"]) == int(MONDAY.timestamp())
    assert body["msg_type"] == "interactive"
    content = body["card"]["elements"][0]["text"]
    assert content["tag"] == "lark_md"
    assert "<at id=ou_7d8a6e6df7621556ce0d21922b676706></at>" in content["content"]
    assert "http://127.0.0.1:8000/tasks/2/" in content["content"]
    assert body["card"]["header"]["title"]["content"] == "提醒#2"


def test_wecom_sends_text_with_mentioned_mobiles_and_markdown_without(team, contactable, director, robot_server):
    server = robot_server("wecom")
    make_robot(team, server)
    notify(contactable, n=3)
    deliveries_flush(now=MONDAY)
    notify(director, n=4, now=MONDAY + timedelta(minutes=1))
    deliveries_flush(now=MONDAY + timedelta(minutes=1))

    mention, plain = (r.body for r in server.received)
    assert mention["msgtype"] == "text"
    assert mention["text"]["mentioned_mobile_list"] == ["13800000001"]
    assert "提醒#3" in mention["text"]["content"]
    assert plain == {"msgtype": "markdown", "markdown": {"content": plain["markdown"]["content"]}}
    assert "[" in plain["markdown"]["content"]
    assert "http://127.0.0.1:8000/tasks/4/" in plain["markdown"]["content"]
    for received in server.received:
        assert len(received.raw) < 4096


# --- retries, limits, holds --------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["dingtalk", "wecom", "feishu"])
def test_a_5xx_is_retried_with_back_off_and_delivered_exactly_once(team, contactable, robot_server, kind):
    server = robot_server(kind)
    make_robot(team, server)
    server.fail_next(502, {"error": "bad gateway"})
    notify(contactable, n=5)

    first = deliveries_flush(now=MONDAY)
    delivery = Delivery.objects.get(channel="robot")
    assert first.retrying == 1
    assert (delivery.status, delivery.attempts, delivery.error_code) == ("pending", 1, "502")
    assert delivery.next_attempt_at == MONDAY + timedelta(minutes=2)
    assert deliveries_flush(now=MONDAY + timedelta(minutes=1)).robot_sends == 0

    second = deliveries_flush(now=MONDAY + timedelta(minutes=2))
    assert second.sent == 1
    for later in (3, 10, 60):
        deliveries_flush(now=MONDAY + timedelta(minutes=later))
    assert len(server.received) == 2
    assert server.successes() == 1
    assert numbers_in(server) == Counter({5: 2})  # the failed try and the one delivery
    assert list(RobotSend.objects.order_by("at").values_list("ok", "error_code")) == [(False, "502"), (True, "")]


def test_a_vendor_error_code_is_recorded_and_retried(team, contactable, robot_server):
    server = robot_server("dingtalk")
    make_robot(team, server)
    server.fail_next(200, {"errcode": 130101, "errmsg": "send too fast, exceed 20 times per minute"})
    notify(contactable, n=6)
    deliveries_flush(now=MONDAY)
    delivery = Delivery.objects.get(channel="robot")
    assert (delivery.error_code, delivery.status) == ("130101", "pending")
    assert "exceed 20 times" in delivery.error
    deliveries_flush(now=delivery.next_attempt_at)
    delivery.refresh_from_db()
    assert delivery.status == "sent"


@pytest.mark.parametrize("kind", ["dingtalk", "wecom", "feishu"])
def test_30_notifications_in_a_minute_go_out_as_digests_within_20_sends_a_minute(team, warehouse_member, robot_server, kind):
    server = robot_server(kind)
    make_robot(team, server, rate=20)
    # One notification every 2 seconds, each nudging a flush (as the on-commit task does), then the beat every 2 s.
    for step in range(150):
        now = MONDAY + timedelta(seconds=2 * step)
        if step < 30:
            notify(warehouse_member, n=step, now=now)
        deliveries_flush(now=now)

    sends = sorted(RobotSend.objects.values_list("at", flat=True))
    for start in sends:
        assert sum(1 for at in sends if start <= at < start + timedelta(seconds=60)) <= 20
    assert numbers_in(server) == Counter(range(30))  # each notification in exactly one message
    assert len(server.received) == len(sends) < 30  # some went out together, as digests
    assert Delivery.objects.filter(channel="robot").exclude(status="sent").count() == 0


def test_a_sweeps_worth_of_notifications_goes_out_in_one_flush_as_few_digests(team, warehouse_member, director, robot_server):
    server = robot_server("dingtalk")
    make_robot(team, server)
    specs = [
        NotificationSpec(
            recipient=warehouse_member if n % 2 else director, kind="escalation", title=f"提醒#{n}", body="超时", not_before=MONDAY
        )
        for n in range(30)
    ]
    notification_create_many(team=team, specs=specs, now=MONDAY)
    summary = deliveries_flush(now=MONDAY)
    assert summary.robot_sends == 1
    assert numbers_in(server) == Counter(range(30))


def test_quiet_hours_hold_the_message_until_not_before(team, contactable, robot_server):
    server = robot_server("wecom")
    make_robot(team, server)
    night = MONDAY.replace(hour=23)
    morning = MONDAY.replace(hour=8) + timedelta(days=1)
    notify(contactable, n=7, now=night, not_before=morning)
    for minutes in (0, 60, 300, 539):
        assert deliveries_flush(now=night + timedelta(minutes=minutes)).claimed == 0
    assert server.received == []
    assert mail.outbox == []
    assert deliveries_flush(now=morning).sent == 2
    assert numbers_in(server) == Counter({7: 1})


def test_a_resolved_escalations_delivery_is_skipped(team, contactable, robot_server):
    server = robot_server("dingtalk")
    make_robot(team, server)
    policy, _created = EscalationPolicy.objects.get_or_create(team=team, source="", defaults={"name": "默认"})
    level, _created = EscalationLevel.objects.get_or_create(policy=policy, order=1, defaults={"offset_minutes": -30, "notify": "owner"})
    task = Task.objects.create(
        team=team, source="adhoc", title="补货表", owner=contactable, date=MONDAY.date(), due_at=MONDAY, created_at=MONDAY
    )
    escalation = Escalation.objects.create(
        team=team,
        task=task,
        level=level,
        level_order=1,
        notify="owner",
        due_at=MONDAY,
        raised_at=MONDAY,
        batch="00000000-0000-0000-0000-0000000000aa",
    )
    notify(contactable, n=8, not_before=MONDAY + timedelta(hours=1), escalations=[escalation])
    Escalation.objects.filter(pk=escalation.pk).update(status="resolved", resolved_at=MONDAY + timedelta(minutes=10))

    summary = deliveries_flush(now=MONDAY + timedelta(hours=1))

    assert summary.skipped == 2
    assert set(Delivery.objects.values_list("status", flat=True)) == {"skipped"}
    assert server.received == []
    assert mail.outbox == []


def test_a_robot_saved_with_an_internal_address_is_never_called(team, contactable, robot_server, settings):
    from opsteam.settings import base

    server = robot_server("dingtalk")
    make_robot(team, server)  # stored without full_clean(), as rows saved before the address rule were
    settings.OPSTEAM_ROBOT_HOSTS = base.OPSTEAM_ROBOT_HOSTS  # the vendors only, as in production
    notify(contactable, n=13)

    assert deliveries_flush(now=MONDAY).sent == 1  # the email; the robot is refused without a call
    assert server.received == []
    delivery = Delivery.objects.get(channel="robot")
    # Failed at once: no retry makes the address allowed, and none of the robot's sends for the minute is used.
    assert (delivery.status, delivery.attempts, delivery.error_code) == ("failed", 1, "address")
    assert "https://oapi.dingtalk.com/robot/send?access_token=" in delivery.error
    assert not RobotSend.objects.exists()


# --- the broker is down; two flushes at once ------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_redis_outage_loses_nothing_and_a_later_flush_sends_once(team, contactable, robot_server, caplog):
    from opsteam.celery import app

    server = robot_server("feishu")
    make_robot(team, server)
    working = (app.conf.broker_url, app.conf.broker_write_url)
    # Nothing listens on port 1: enqueueing fails at once. Producers use broker_write_url, once resolved.
    app.conf.broker_url = app.conf.broker_write_url = "redis://127.0.0.1:1/0"
    _broker_pools_reset(app)
    try:
        notify(contactable, n=9)  # commits (transactional test): the on-commit enqueue runs and fails
    finally:
        app.conf.broker_url, app.conf.broker_write_url = working
        _broker_pools_reset(app)  # later tests in this process must reach the real Redis again

    assert "Could not enqueue the delivery flush" in caplog.text
    assert set(Delivery.objects.values_list("status", flat=True)) == {"pending"}
    assert server.received == []
    assert deliveries_flush(now=MONDAY + timedelta(minutes=1)).sent == 2
    assert deliveries_flush(now=MONDAY + timedelta(minutes=2)).sent == 0
    assert numbers_in(server) == Counter({9: 1})
    assert len(mail.outbox) == 1


def _broker_pools_reset(app) -> None:
    """Celery caches its connection and producer pools with the broker URL of first use: drop the references.

    Not force_close_all(): kombu keeps the pools in a registry by URL and would hand back the closed one.
    """
    app._pool = None
    app.amqp._producer_pool = None


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_flushes_send_each_delivery_once(team, warehouse_member, director, robot_server):
    servers = [robot_server(kind) for kind in ("dingtalk", "wecom", "feishu")]
    for server in servers:
        make_robot(team, server, rate=100)
    for member in (warehouse_member, director):
        member.user.email = f"{member.user.username}@example.com"
        member.user.save()
    specs = [
        NotificationSpec(
            recipient=warehouse_member if n % 2 else director, kind="escalation", title=f"提醒#{n}", body="超时", not_before=MONDAY
        )
        for n in range(60)
    ]
    notification_create_many(team=team, specs=specs, now=MONDAY)
    assert set(Delivery.objects.values_list("status", flat=True)) == {"pending"}  # no worker runs in this test

    summaries = run_at_once(lambda _index: deliveries_flush(now=MONDAY), threads=4)

    assert sum(s.sent for s in summaries) == 60 * 4  # 3 robots + 1 email each
    assert sum(s.claimed for s in summaries) == 240
    for server in servers:
        assert numbers_in(server) == Counter(range(60))
    assert Counter(m.subject for m in mail.outbox) == Counter(f"提醒#{n}" for n in range(60))
    assert set(Delivery.objects.values_list("status", flat=True)) == {"sent"}


# --- the real thing: commit -> Redis -> a worker -> the robot; and beat's safety net ---------------------


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_sends_the_message_after_commit(start_celery, team, contactable, robot_server):
    from django.utils import timezone

    from tests.integration.processes import wait_for
    from tests.integration.test_beat_and_worker import WORKER_OPTIONS

    server = robot_server("wecom")
    make_robot(team, server)
    worker = start_celery("worker", *WORKER_OPTIONS)
    now = timezone.now()
    notify(contactable, n=11, now=now)  # commits: the on-commit nudge goes to Redis, the worker flushes

    wait_for(lambda: server.received, timeout=60, what="the robot message sent by the worker", processes=[worker])
    wait_for(lambda: not Delivery.objects.exclude(status="sent").exists(), timeout=30, what="every delivery sent", processes=[worker])
    assert numbers_in(server) == Counter({11: 1})


@pytest.mark.django_db(transaction=True)
def test_beat_flushes_what_could_not_be_enqueued(start_celery, team, contactable, robot_server):
    from django.utils import timezone
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    from tests.integration.processes import wait_for
    from tests.integration.test_beat_and_worker import BEAT_OPTIONS, WORKER_OPTIONS

    server = robot_server("dingtalk")
    make_robot(team, server)
    periodic = PeriodicTask.objects.get(name="flush-deliveries")
    assert periodic.task == "checklists.deliveries_flush"
    periodic.interval, _ = IntervalSchedule.objects.get_or_create(every=2, period=IntervalSchedule.SECONDS)
    periodic.save()
    # Written without any nudge, as if Redis had been down at commit time.
    with mock_enqueue_failure():
        notify(contactable, n=12, now=timezone.now())

    worker = start_celery("worker", *WORKER_OPTIONS)
    beat = start_celery("beat", *BEAT_OPTIONS)
    wait_for(lambda: server.received, timeout=60, what="the robot message sent by beat's flush", processes=[worker, beat])
    assert numbers_in(server) == Counter({12: 1})


def mock_enqueue_failure():
    from unittest import mock

    return mock.patch("checklists.notify.tasks.deliveries_flush.apply_async", side_effect=ConnectionError("redis down"))
