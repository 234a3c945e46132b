"""Issue 21 on PostgreSQL and Redis with a real worker, against the fake suites (tests/suite_servers.py)."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from checklists.escalation.raising import escalation_sweep
from checklists.models import CardAction, Delivery, Notification, SuiteLink, TaskStatus
from checklists.notify.suites import adapter_for, call_with_token, tokens
from checklists.notify.suites.base import CallResult
from checklists.notify.suites.services import suite_app_save
from tests.integration.processes import wait_for
from tests.suite_servers import SuiteServer
from tests.test_escalation import duty
from tests.test_suites import AES_KEY, CALLBACK_TOKEN, FEISHU_KEY, USER, press

pytestmark = pytest.mark.integration


@pytest.fixture
def live_suite(settings, monkeypatch, team, director, warehouse_member, transactional_db):
    """start(kind): a fake suite the test process and any worker it starts (through the environment) call."""
    tokens._store_for.cache_clear()
    assert tokens.store_url().startswith("redis://")
    # Started before the worker's environment is taken (request this fixture before start_celery).
    servers = {kind: SuiteServer(kind=kind).start() for kind in ("dingtalk", "wecom", "feishu")}
    for kind, server in servers.items():
        monkeypatch.setenv(f"OPSTEAM_SUITE_BASE_{kind.upper()}", server.url)
    monkeypatch.setenv("OPSTEAM_SUITE_RATE_DELAY_SECONDS", "2")

    def start(kind: str):
        server = servers[kind]
        server.users[USER] = {"name": "陈仓库", "mobile": "13800000001"}
        settings.OPSTEAM_SUITE_HOSTS = {**settings.OPSTEAM_SUITE_HOSTS, kind: dict.fromkeys(settings.OPSTEAM_SUITE_HOSTS[kind], server.url)}
        app = suite_app_save(
            team=team,
            actor=director,
            kind=kind,
            corp_id=server.corp_id if kind != "feishu" else "",
            app_key=server.app_key if kind != "wecom" else "",
            agent_id="1000002" if kind != "feishu" else "",
            app_secret=server.app_secret,
            callback_token=CALLBACK_TOKEN,
            callback_key=FEISHU_KEY if kind == "feishu" else AES_KEY,
        )
        SuiteLink.objects.create(app=app, member=warehouse_member, suite_user_id=USER, linked_at=timezone.now())
        return server, app

    yield start
    for server in servers.values():
        server.stop()


def reminder_now(team, member):
    """A duty due in ten minutes: the sweep now sends its owner's reminder (and, on commit, nudges the worker)."""
    now = timezone.now()
    task = duty(team, owner=member, due=now + timedelta(minutes=10), now=now - timedelta(hours=1))
    escalation_sweep(team=team, now=now)
    return task, Notification.objects.get(recipient=member, kind="reminder")


def card_sends(server):
    return [r for r in server.received if r.path.endswith(("/message/send", "/im/v1/messages", "asyncsend_v2"))]


@pytest.mark.parametrize("kind", ["wecom", "feishu"])
def test_a_reminder_becomes_a_personal_card_and_its_button_sent_twice_ticks_once(
    kind, live_suite, start_celery, team, warehouse_member, client
):
    server, app = live_suite(kind)
    worker = start_celery("worker", "--pool=solo", "--loglevel=INFO")
    task, notification = reminder_now(team, warehouse_member)

    wait_for(lambda: card_sends(server), timeout=60, what="the personal card at the fake suite", processes=[worker])
    wait_for(
        lambda: Delivery.objects.filter(notification=notification, channel="suite", status="sent").exists(),
        timeout=30,
        what="the delivery marked sent",
    )

    # The vendor sends the same callback again (its retry, signed anew): one completion, one card update.
    first, _signed = press(client, kind, app, notification=notification, callback_id="evt-live-1")
    second, _signed = press(client, kind, app, notification=notification, callback_id="evt-live-1")
    assert (first.status_code, second.status_code) == (200, 200)
    task.refresh_from_db()
    assert task.status == TaskStatus.DONE
    assert CardAction.objects.filter(notification=notification).count() == 1
    if kind == "wecom":
        wait_for(lambda: server.calls("update_template_card"), timeout=30, what="the card update", processes=[worker])
        time.sleep(1)
        assert len(server.calls("update_template_card")) == 1


def test_a_forged_callback_changes_nothing(live_suite, team, warehouse_member, client):
    _server, app = live_suite("wecom")
    task, notification = reminder_now(team, warehouse_member)
    forged, _signed = press(client, "wecom", app, notification=notification, key="b" * 43)
    assert forged.status_code == 403
    task.refresh_from_db()
    assert task.status == TaskStatus.OPEN
    assert not CardAction.objects.exists()


def test_a_rate_limited_card_is_delayed_and_retried_by_the_worker_without_loss(live_suite, start_celery, team, warehouse_member):
    server, _app = live_suite("feishu")
    server.rate_limit(1, reset=2)  # Feishu: HTTP 429, code 99991400, x-ogw-ratelimit-reset: 2
    worker = start_celery("worker", "--pool=solo", "--loglevel=INFO")
    _task, notification = reminder_now(team, warehouse_member)

    wait_for(lambda: len(card_sends(server)) >= 2, timeout=60, what="the retried card", processes=[worker])
    delivery = wait_for(
        lambda: Delivery.objects.filter(notification=notification, channel="suite", status="sent").first(),
        timeout=30,
        what="the delivery sent",
    )
    first, second = card_sends(server)[:2]
    assert delivery.attempts == 1  # the rate-limited try was not counted as a failure
    time.sleep(1)
    assert len(card_sends(server)) == 2  # nothing lost, nothing sent twice
    assert first.body["uuid"] == second.body["uuid"]  # the same card, deduplicated by Feishu if it had arrived


def test_a_token_expiring_mid_run_is_renewed_once_for_all_workers(live_suite, team):
    """Twelve workers (threads with their own Redis connections) meet the same expired token at once: one renews."""
    server, app = live_suite("wecom")
    server.token_delay = 0.3  # a slow token endpoint widens the race
    adapter = adapter_for(app)
    first = tokens.token_get(app, fetch=adapter.fetch_token)
    server.expire(first)
    used: list[str] = []
    barrier = threading.Barrier(12, timeout=30)

    def work():
        barrier.wait()
        seen = []

        def do(token):
            seen.append(token)
            return CallResult(ok=False, failure="token") if token == first else CallResult(ok=True)

        result = call_with_token(app, adapter_for(app), do)
        assert result.ok
        used.append(seen[-1])

    threads = [threading.Thread(target=work) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    connection.close()
    assert len(server.tokens_issued) == 2  # the first, and one renewal for everyone
    assert set(used) == {server.tokens_issued[1]}
    assert tokens.suite_store().get(tokens.token_key(app)) == server.tokens_issued[1]


def test_a_token_expiring_mid_run_is_renewed_once_for_all_worker_processes(live_suite, start_celery, team, warehouse_member):
    """Several real worker processes (their own Python, their own Redis connection) meet the same expired token at
    once, each updating a pressed card: the fake WeCom answers "expired" only once all of them are waiting, then
    exactly one token request reaches it and every update goes out with the renewed token."""
    from checklists.notify.flush import deliveries_flush
    from checklists.notify.suites.models import SuiteMessage
    from checklists.notify.suites.tasks import suite_card_update_task

    processes = 3
    server, app = live_suite("wecom")
    _task, notification = reminder_now(team, warehouse_member)
    deliveries_flush(now=timezone.now())  # this process sends the card, with the first token
    assert SuiteMessage.objects.filter(notification=notification).exists()
    assert len(server.tokens_issued) == 1
    first = server.tokens_issued[0]
    action = CardAction.objects.create(
        app=app, notification=notification, member=warehouse_member, action="done", callback_id="evt-1", at=timezone.now(), outcome="已完成"
    )
    server.expire(first)  # WeCom revoked it early: the cache still holds it
    server.hold_expired(processes)

    workers = [start_celery("worker", "--pool=solo", "-n", f"suite{n}@%h", "--loglevel=INFO") for n in range(processes)]
    wait_for(lambda: all("ready" in w.output() for w in workers), timeout=60, what="every worker ready", processes=workers)
    for _n in range(processes):  # the same card update, once for each process
        suite_card_update_task.apply_async(args=(action.pk, ""))

    wait_for(
        lambda: len([r for r in server.calls("update_template_card") if r.query.get("access_token") != first]) >= processes,
        timeout=60,
        what="every card update sent again with a renewed token",
        processes=workers,
    )
    time.sleep(1)  # nothing more arrives
    updates = server.calls("update_template_card")
    with_first = [r for r in updates if r.query.get("access_token") == first]
    assert len(with_first) == processes  # every process met the expired token, all at once (the fake held them)
    assert len(server.tokens_issued) == 2  # the first, and one renewal for every process
    assert len(server.calls("/cgi-bin/gettoken")) == 2
    assert {r.query["access_token"] for r in updates if r not in with_first} == {server.tokens_issued[1]}
    assert len(updates) == 2 * processes
