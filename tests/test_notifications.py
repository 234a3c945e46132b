"""Notifications and their outbox: writing, the bell, marking read, delivering by email and to robots (a local server)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import urllib.parse
from datetime import timedelta
from unittest import mock

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings
from django.utils import translation
from rest_framework.test import APIClient

from checklists.models import Delivery, Escalation, EscalationLevel, EscalationPolicy, Notification, Robot, RobotSend, Task
from checklists.notify.flush import deliveries_flush
from checklists.notify.outbox import backoff
from checklists.notify.robots import RobotMessage, dingtalk_request, dingtalk_sign, feishu_sign, robot_message_chunks, wecom_request
from checklists.notify.selectors import notification_unread_count
from checklists.notify.services import (
    NotificationSpec,
    delivery_retry_now,
    notification_create,
    notification_create_many,
    notification_mark_read,
)
from tests.conftest import MONDAY


@pytest.fixture
def emailed(warehouse_member):
    warehouse_member.user.email = "wh1@example.com"
    warehouse_member.user.save()
    return warehouse_member


def notify(member, *, now=MONDAY, not_before=None, title="补货表未交", role=None, urgent=False, escalations=()):
    return notification_create(
        team=member.team,
        recipient=member,
        kind="escalation",
        title=title,
        body="提供店铺产品补货需求表 已超时 30 分钟",
        url="/today/#item-1",
        role=role,
        urgent=urgent,
        escalations=escalations,
        not_before=not_before or now,
        now=now,
    )


def make_robot(team, server, *, kind=None, secret="", role=None, rate=20) -> Robot:
    return Robot.objects.create(
        team=team,
        kind=kind or server.kind,
        name=f"{server.kind} 群",
        webhook_url=server.url,
        secret=secret,
        role=role,
        rate_per_minute=rate,
    )


# --- writing ----------------------------------------------------------------------------------------


def test_a_notification_writes_an_email_and_one_delivery_per_matching_robot(emailed, team, robot_server):
    server = robot_server("dingtalk")
    warehouse = team.roles.get(code="warehouse")
    team_robot = make_robot(team, server)
    role_robot = make_robot(team, server, role=warehouse)
    make_robot(team, server, role=team.roles.get(code="service"))  # another role's group: not told
    Robot.objects.create(team=team, kind="wecom", name="停用", webhook_url=server.url, is_active=False)

    notification = notify(emailed, role=warehouse)

    rows = Delivery.objects.filter(notification=notification)
    assert sorted((d.channel, d.robot_id) for d in rows) == sorted([("email", None), ("robot", team_robot.pk), ("robot", role_robot.pk)])
    assert all(d.status == "pending" and d.next_attempt_at == MONDAY for d in rows)


def test_no_email_delivery_without_an_address_or_when_the_member_opted_out(warehouse_member):
    assert not Delivery.objects.filter(notification=notify(warehouse_member)).exists()
    warehouse_member.user.email = "wh1@example.com"
    warehouse_member.user.save()
    assert Delivery.objects.filter(notification=notify(warehouse_member), channel="email").exists()
    warehouse_member.notify_by_email = False
    warehouse_member.save()
    assert not Delivery.objects.filter(notification=notify(warehouse_member)).exists()


def test_many_notifications_cost_a_fixed_number_of_queries(team, warehouse_member, director, robot_server, django_assert_num_queries):
    make_robot(team, robot_server("wecom"))
    specs = [
        NotificationSpec(recipient=member, kind="escalation", title=f"提醒 {n}", body="正文", not_before=MONDAY + timedelta(hours=1))
        for n in range(15)
        for member in (warehouse_member, director)
    ]
    # robots, members' emails, savepoint, notifications, deliveries, release savepoint (SQLite splits bigger batches)
    with django_assert_num_queries(6):
        created = notification_create_many(team=team, specs=specs, now=MONDAY)
    assert len(created) == 30
    assert Delivery.objects.filter(channel="robot").count() == 30


def test_a_notification_for_another_team_is_refused(team, outsider):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        notification_create(team=team, recipient=outsider, kind="x", title="t", body="b", not_before=MONDAY, now=MONDAY)


def test_the_flush_is_enqueued_on_commit_and_a_broker_outage_loses_nothing(emailed, django_capture_on_commit_callbacks):
    broken = mock.patch("checklists.notify.tasks.deliveries_flush.apply_async", side_effect=ConnectionError("redis down"))
    with broken as enqueue, django_capture_on_commit_callbacks(execute=True):
        notification = notify(emailed)
    assert enqueue.call_count == 1
    delivery = Delivery.objects.get(notification=notification)
    assert delivery.status == "pending"
    summary = deliveries_flush(now=MONDAY + timedelta(minutes=1))
    assert summary.sent == 1
    assert len(mail.outbox) == 1
    assert deliveries_flush(now=MONDAY + timedelta(minutes=2)).sent == 0
    assert len(mail.outbox) == 1


def test_the_enqueued_flush_sends_the_email_at_once(emailed, django_capture_on_commit_callbacks, frozen, monkeypatch):
    # The flush task run in this process (as in the fast tier); tests/integration runs it on a real worker.
    from opsteam.celery import app

    monkeypatch.setitem(app.conf, "task_always_eager", True)
    with django_capture_on_commit_callbacks(execute=True):
        notification = notify(emailed)
    assert Delivery.objects.get(notification=notification).status == "sent"
    message = mail.outbox[0]
    assert message.subject == "补货表未交"
    assert message.to == ["wh1@example.com"]
    assert "http://127.0.0.1:8000/today/#item-1" in message.body


def test_a_transaction_writing_many_notifications_enqueues_one_flush(
    team, warehouse_member, director, robot_server, django_capture_on_commit_callbacks
):
    from django.db import transaction

    make_robot(team, robot_server("wecom"))
    with django_capture_on_commit_callbacks() as callbacks, transaction.atomic():
        for n in range(5):
            notify(warehouse_member if n % 2 else director, title=f"n{n}")
    assert len(callbacks) == 1


def test_group_messages_leave_out_the_personal_acknowledge_link_but_the_email_keeps_it(team, emailed, robot_server):
    server = robot_server("dingtalk")
    make_robot(team, server)
    notification_create(
        team=team,
        recipient=emailed,
        kind="escalation",
        title="补货表未交",
        body="已超时 30 分钟\n\n[Acknowledge: I am on it](http://127.0.0.1:8000/ack/eyJuIjoxfQ:1x:sig/)",
        url="/tasks/1/",
        not_before=MONDAY,
        now=MONDAY,
    )
    deliveries_flush(now=MONDAY)
    text = server.received[0].body["markdown"]["text"]
    assert "/ack/" not in text
    assert "已超时 30 分钟" in text
    assert "/ack/eyJuIjoxfQ:1x:sig/" in mail.outbox[0].body


def test_an_email_whose_address_was_removed_meanwhile_is_skipped(emailed):
    notify(emailed)
    emailed.user.email = ""
    emailed.user.save()
    assert deliveries_flush(now=MONDAY).skipped == 1
    assert mail.outbox == []


# --- the bell and marking read ------------------------------------------------------------------------


def test_unread_count_and_marking_read(warehouse_member, director):
    first, _second, _third = (notify(warehouse_member, title=f"n{i}") for i in range(3))
    notify(director)
    assert notification_unread_count(member=warehouse_member) == 3
    assert notification_mark_read(member=warehouse_member, notification_ids=[first.pk], now=MONDAY) == 1
    assert notification_unread_count(member=warehouse_member) == 2
    # someone else's id is ignored
    other = Notification.objects.get(recipient=director)
    assert notification_mark_read(member=warehouse_member, notification_ids=[other.pk], now=MONDAY) == 0
    assert notification_mark_read(member=warehouse_member, all_unread=True, now=MONDAY) == 2
    assert notification_unread_count(member=warehouse_member) == 0
    assert notification_unread_count(member=director) == 1


# --- delivering -------------------------------------------------------------------------------------


def test_quiet_hours_hold_a_message_until_not_before(emailed):
    morning = MONDAY + timedelta(days=1)
    notify(emailed, not_before=morning)
    assert deliveries_flush(now=MONDAY + timedelta(hours=2)).claimed == 0
    assert mail.outbox == []
    assert deliveries_flush(now=morning).sent == 1
    assert len(mail.outbox) == 1


def test_a_failing_email_is_retried_with_back_off_then_marked_failed(emailed):
    notify(emailed)
    now = MONDAY
    with mock.patch("django.core.mail.EmailMessage.send", side_effect=OSError("smtp down")):
        for attempt in range(1, 9):
            summary = deliveries_flush(now=now)
            delivery = Delivery.objects.get()
            assert delivery.attempts == attempt
            assert delivery.error_code == "OSError"
            if attempt < 8:
                assert delivery.status == "pending"
                assert delivery.next_attempt_at == now + backoff(attempt)
                assert deliveries_flush(now=delivery.next_attempt_at - timedelta(seconds=1)).claimed == 0
                now = delivery.next_attempt_at
            else:
                assert summary.failed == 1
                assert delivery.status == "failed"
    assert backoff(1) == timedelta(minutes=2)
    assert backoff(7) == timedelta(hours=1)


def test_a_delivery_for_resolved_escalations_is_skipped(team, warehouse_member, robot_server):
    server = robot_server("dingtalk")
    make_robot(team, server)
    policy, _created = EscalationPolicy.objects.get_or_create(team=team, source="", defaults={"name": "默认"})
    level, _created = EscalationLevel.objects.get_or_create(policy=policy, order=1, defaults={"offset_minutes": -30, "notify": "owner"})
    task = Task.objects.create(
        team=team, source="adhoc", title="补货表", owner=warehouse_member, date=MONDAY.date(), due_at=MONDAY, created_at=MONDAY
    )
    escalation = Escalation.objects.create(
        team=team,
        task=task,
        level=level,
        level_order=1,
        notify="owner",
        due_at=MONDAY,
        raised_at=MONDAY,
        batch="00000000-0000-0000-0000-000000000001",
    )
    resolved_one = notify(warehouse_member, escalations=[escalation])
    still_open = notify(warehouse_member, title="另一条")
    Escalation.objects.filter(pk=escalation.pk).update(status="resolved", resolved_at=MONDAY)

    summary = deliveries_flush(now=MONDAY)

    assert summary.skipped == 1
    assert Delivery.objects.get(notification=resolved_one).status == "skipped"
    assert Delivery.objects.get(notification=still_open).status == "sent"
    assert len(server.received) == 1
    assert "补货表未交" not in server.received[0].body["markdown"]["text"]


def test_more_than_a_batch_goes_out_in_one_flush_and_a_deferred_row_is_not_claimed_twice(team, emailed, robot_server, monkeypatch):
    monkeypatch.setattr("checklists.notify.outbox.CLAIM_LIMIT", 3)
    server = robot_server("dingtalk")
    make_robot(team, server, rate=1)
    for n in range(4):
        notify(emailed, title=f"n{n}")  # 4 emails and 4 robot deliveries
    summary = deliveries_flush(now=MONDAY)
    assert summary.claimed == 8
    assert len(mail.outbox) == 4
    assert summary.robot_sends == 1  # the robot's minute (rate 1) is used once; the rest waits
    assert summary.sent + summary.deferred == 8
    assert len(server.received) == 1


def test_a_stale_sending_row_goes_back_to_pending_after_five_minutes(emailed):
    notify(emailed)
    Delivery.objects.update(status="sending", claimed_at=MONDAY)
    assert deliveries_flush(now=MONDAY + timedelta(minutes=4)).claimed == 0
    summary = deliveries_flush(now=MONDAY + timedelta(minutes=6))
    assert summary.reclaimed == 1
    assert summary.sent == 1


def test_a_full_robot_window_leaves_messages_pending_for_the_next_flush(team, warehouse_member, robot_server):
    server = robot_server("wecom")
    robot = make_robot(team, server, rate=2)
    RobotSend.objects.bulk_create(
        RobotSend(robot=robot, send_id=f"00000000-0000-0000-0000-00000000000{i}", at=MONDAY, ok=True) for i in range(2)
    )
    notify(warehouse_member)
    summary = deliveries_flush(now=MONDAY + timedelta(seconds=30))
    assert summary.deferred == 1
    assert Delivery.objects.get().status == "pending"
    assert server.received == []
    assert deliveries_flush(now=MONDAY + timedelta(seconds=61)).sent == 1
    assert len(server.received) == 1


def test_several_waiting_notifications_go_to_a_robot_as_one_digest(team, warehouse_member, director, robot_server):
    server = robot_server("dingtalk")
    make_robot(team, server)
    warehouse_member.mobile = "13800000001"
    warehouse_member.save()
    for n in range(5):
        notify(warehouse_member if n % 2 else director, title=f"提醒{n}")
    summary = deliveries_flush(now=MONDAY)
    assert summary.robot_sends == 1
    assert summary.sent == 5
    body = server.received[0].body
    for n in range(5):
        assert f"提醒{n}" in body["markdown"]["text"]
    assert body["at"] == {"atMobiles": ["13800000001"], "isAtAll": False}
    assert "@13800000001" in body["markdown"]["text"]
    assert len({d.send_id for d in Delivery.objects.all()}) == 1


def test_a_robot_error_code_is_kept_on_the_delivery_and_the_send(team, warehouse_member, robot_server):
    server = robot_server("dingtalk")
    make_robot(team, server)
    server.fail_next(200, {"errcode": 310000, "errmsg": "sign not match"})
    notify(warehouse_member)
    summary = deliveries_flush(now=MONDAY)
    assert summary.retrying == 1
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.error_code, delivery.error) == ("pending", "310000", "sign not match")
    send = RobotSend.objects.get()
    assert (send.ok, send.error_code, send.http_status) == (False, "310000", 200)


def test_retry_now_sends_a_failed_delivery_at_the_next_flush(team, director, warehouse_member, emailed):
    notify(emailed)
    Delivery.objects.update(status="failed", attempts=8, error_code="OSError")
    delivery = delivery_retry_now(delivery=Delivery.objects.get(), actor=director, now=MONDAY + timedelta(hours=3))
    assert (delivery.status, delivery.attempts) == ("pending", 0)
    assert deliveries_flush(now=MONDAY + timedelta(hours=3)).sent == 1


# --- the robot clients (pure) ---------------------------------------------------------------------------


def test_the_dingtalk_signature_is_the_documented_hmac():
    secret = "SECabc"
    expected = urllib.parse.quote_plus(
        base64.b64encode(hmac.new(secret.encode(), f"1700000000000\n{secret}".encode(), hashlib.sha256).digest())
    )
    assert dingtalk_sign(secret=secret, timestamp_ms=1700000000000) == expected
    request = dingtalk_request(
        webhook_url="https://oapi.dingtalk.com/robot/send?access_token=x",
        secret=secret,
        messages=[RobotMessage(title="t", text="b")],
        timestamp_ms=1700000000000,
    )
    assert request.url.endswith(f"&timestamp=1700000000000&sign={expected}")


def test_the_feishu_signature_is_the_documented_hmac():
    expected = base64.b64encode(hmac.new(b"1700000000\nsec", b"", hashlib.sha256).digest()).decode()
    assert feishu_sign(secret="sec", timestamp_s=1700000000) == expected


def test_wecom_uses_text_with_mobiles_when_someone_is_to_be_mentioned_and_markdown_otherwise():
    plain = wecom_request(webhook_url="u", messages=[RobotMessage(title="t", text="b", url="http://x/1")])
    assert plain.payload == {"msgtype": "markdown", "markdown": {"content": mock.ANY}}
    assert "[" in plain.payload["markdown"]["content"]
    mention = wecom_request(webhook_url="u", messages=[RobotMessage(title="t", text="b", mobile="138")])
    assert mention.payload["msgtype"] == "text"
    assert mention.payload["text"]["mentioned_mobile_list"] == ["138"]


def test_a_long_digest_is_split_under_the_vendor_size_limit_without_dropping_any():
    messages = [RobotMessage(title=f"提醒{n}", text="很长的正文" * 40) for n in range(40)]
    chunks = robot_message_chunks(kind="wecom", messages=messages)
    assert len(chunks) > 1
    assert [m for chunk in chunks for m in chunk] == messages
    for chunk in chunks:
        assert len(wecom_request(webhook_url="u", messages=chunk).payload["markdown"]["content"].encode()) <= 4096


def test_one_message_over_the_vendor_limit_is_shortened_not_refused_forever():
    long = RobotMessage(
        title="提醒", text="\n".join(f"- [包装盒{n}](http://127.0.0.1:8000/today/#item-{n}) · 陈仓库" for n in range(80)), url="http://x/1"
    )
    (chunk,) = robot_message_chunks(kind="wecom", messages=[long])
    payload = wecom_request(webhook_url="u", messages=chunk).payload
    assert len(payload["markdown"]["content"].encode()) <= 4096
    assert chunk[0].text.endswith("…")
    assert "http://x/1" in payload["markdown"]["content"]


# --- the API ----------------------------------------------------------------------------------------


def api_for(member) -> APIClient:
    client = APIClient()
    client.force_authenticate(member.user)
    return client


def test_the_api_lists_my_notifications_and_filters_unread(warehouse_member, director):
    read, unread = notify(warehouse_member, title="已读"), notify(warehouse_member, title="未读")
    notify(director, title="别人的")
    notification_mark_read(member=warehouse_member, notification_ids=[read.pk], now=MONDAY)
    everything = api_for(warehouse_member).get("/api/v1/notifications/").json()
    assert {row["title"] for row in everything["results"]} == {"已读", "未读"}
    only_unread = api_for(warehouse_member).get("/api/v1/notifications/?unread=1").json()
    assert [row["id"] for row in only_unread["results"]] == [unread.pk]


def test_the_api_marks_read_by_ids_or_all(warehouse_member):
    first, _second, _third = (notify(warehouse_member, title=f"n{i}") for i in range(3))
    client = api_for(warehouse_member)
    response = client.post("/api/v1/notifications/read/", {"ids": [first.pk]}, format="json")
    assert response.status_code == 200
    assert response.json() == {"marked": 1, "unread": 2}
    assert client.post("/api/v1/notifications/read/", {"all": True}, format="json").json() == {"marked": 2, "unread": 0}


def test_the_api_refuses_a_read_request_without_ids_or_all(warehouse_member):
    with translation.override("en"):
        response = api_for(warehouse_member).post("/api/v1/notifications/read/", {}, format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert "ids" in str(response.json())


def test_anonymous_callers_cannot_list_notifications(db):
    assert APIClient().get("/api/v1/notifications/").status_code in (401, 403)


# --- the pages --------------------------------------------------------------------------------------


@pytest.fixture
def logged_in(client, warehouse_member):
    client.force_login(warehouse_member.user)
    return client


def test_the_bell_shows_the_unread_count_on_every_page(logged_in, warehouse_member):
    for n in range(3):
        notify(warehouse_member, title=f"n{n}")
    page = logged_in.get("/history/").content.decode()
    assert 'data-testid="bell-count">3<' in page


def test_the_bell_costs_one_query_per_page(logged_in, warehouse_member):
    notify(warehouse_member)
    with CaptureQueriesContext(connection) as queries:
        assert logged_in.get("/history/").status_code == 200
    on_notifications = [q["sql"] for q in queries.captured_queries if "checklists_notification" in q["sql"]]
    assert len(on_notifications) == 1
    assert "COUNT(*)" in on_notifications[0].upper()


def test_the_notifications_page_costs_a_fixed_number_of_queries(logged_in, warehouse_member, django_assert_max_num_queries):
    notify(warehouse_member)
    with CaptureQueriesContext(connection) as few:
        logged_in.get("/notifications/")
    for n in range(30):
        notify(warehouse_member, title=f"n{n}")
    with django_assert_max_num_queries(len(few)):
        page = logged_in.get("/notifications/").content.decode()
    assert "n29" in page


def test_the_notifications_page_lists_mine_with_links_and_marks_all_read(logged_in, warehouse_member, director):
    mine = notify(warehouse_member, title="我的提醒")
    notify(director, title="别人的提醒")
    page = logged_in.get("/notifications/").content.decode()
    assert "我的提醒" in page
    assert "别人的提醒" not in page
    assert f"/notifications/{mine.pk}/open/" in page
    # The page's own route, not the API action that shares the "notification-read" name pattern
    assert f'hx-post="/notifications/{mine.pk}/read/"' in page
    response = logged_in.post("/notifications/read-all/")
    assert response.status_code == 302
    assert notification_unread_count(member=warehouse_member) == 0


def test_opening_a_notification_marks_it_read_and_goes_to_its_item(logged_in, warehouse_member, director):
    mine = notify(warehouse_member)
    response = logged_in.get(f"/notifications/{mine.pk}/open/")
    assert response.status_code == 302
    assert response["Location"] == "/today/#item-1"
    mine.refresh_from_db()
    assert mine.read_at is not None
    others = notify(director)
    assert logged_in.get(f"/notifications/{others.pk}/open/").status_code == 404


def test_marking_one_read_with_htmx_returns_the_row(logged_in, warehouse_member):
    mine = notify(warehouse_member)
    response = logged_in.post(f"/notifications/{mine.pk}/read/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert f'id="notification-{mine.pk}"' in response.content.decode()
    mine.refresh_from_db()
    assert mine.read_at is not None


def test_the_robots_page_is_for_the_director_only(client, warehouse_member, warehouse_lead, director, outsider, robot_server):
    robot = make_robot(director.team, robot_server("dingtalk"))
    for member, status in ((warehouse_member, 403), (warehouse_lead, 403), (director, 200)):
        client.force_login(member.user)
        assert client.get("/robots/").status_code == status
    other_team_director = outsider
    other_team_director.is_director = True
    other_team_director.save()
    client.force_login(other_team_director.user)
    assert client.get("/robots/").status_code == 200
    assert client.get(f"/robots/{robot.pk}/").status_code == 404
    assert client.post(f"/robots/{robot.pk}/test/").status_code == 404


def test_the_director_adds_a_robot_and_its_secret_is_never_shown_again(client, director, team):
    client.force_login(director.user)
    response = client.post(
        "/robots/",
        {
            "kind": "dingtalk",
            "name": "运营群",
            "webhook_url": "https://oapi.dingtalk.com/robot/send?access_token=abc",
            "secret": "SECxyz",
            "rate_per_minute": 20,
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    robot = Robot.objects.get(team=team)
    assert robot.secret == "SECxyz"
    edit = client.get(f"/robots/{robot.pk}/").content.decode()
    assert "SECxyz" not in edit
    client.post(
        f"/robots/{robot.pk}/",
        {"kind": "dingtalk", "name": "运营群2", "webhook_url": robot.webhook_url, "secret": "", "rate_per_minute": 10},
    )
    robot.refresh_from_db()
    assert (robot.name, robot.secret, robot.rate_per_minute, robot.is_active) == ("运营群2", "SECxyz", 10, False)


def test_a_bad_webhook_address_is_refused_with_a_clear_message(client, director, team):
    client.force_login(director.user)
    with translation.override("en"):
        response = client.post(
            "/robots/", {"kind": "wecom", "name": "x", "webhook_url": "ftp://nope", "rate_per_minute": 20}, HTTP_ACCEPT_LANGUAGE="en"
        )
    assert response.status_code == 400  # the form drawn again with its errors (issue 15)
    assert not Robot.objects.exists()


def test_the_test_message_button_sends_and_shows_the_result(client, director, team, robot_server):
    server = robot_server("feishu")
    robot = make_robot(team, server, secret="fsec")
    client.force_login(director.user)
    response = client.post(f"/robots/{robot.pk}/test/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert 'data-testid="test-result-ok"' in response.content.decode()
    send = RobotSend.objects.get(robot=robot)
    assert send.is_test
    assert send.ok
    assert len(server.received) == 1
    received = server.received[0].body
    assert received["sign"] == feishu_sign(secret="fsec", timestamp_s=int(received["timestamp"]))


def test_a_failed_test_message_shows_the_robots_error_code(client, director, team, robot_server):
    server = robot_server("wecom")
    robot = make_robot(team, server)
    server.fail_next(200, {"errcode": 93000, "errmsg": "invalid webhook url"})
    client.force_login(director.user)
    page = client.post(f"/robots/{robot.pk}/test/", HTTP_HX_REQUEST="true").content.decode()
    assert 'data-testid="test-result-failed"' in page
    assert "93000" in page


def test_the_robots_page_shows_failed_deliveries_and_retries_one(client, director, team, warehouse_member, robot_server):
    robot = make_robot(team, robot_server("dingtalk"))
    notify(warehouse_member)
    Delivery.objects.update(status="failed", attempts=8, error_code="130101", error="send too fast")
    client.force_login(director.user)
    page = client.get("/robots/").content.decode()
    assert "130101" in page
    delivery = Delivery.objects.get()
    with override_settings(CELERY_TASK_ALWAYS_EAGER=True):
        response = client.post(f"/deliveries/{delivery.pk}/retry/")
    assert response.status_code == 302
    delivery.refresh_from_db()
    assert delivery.status in ("pending", "sent")
    assert robot.pk


@pytest.mark.parametrize(
    ("code", "zh", "en"),
    [
        ("network", "没有送达（网络不通）", "Not reached (network)"),
        ("503", "HTTP 503", "HTTP 503"),
        ("130101", "130101", "(code 130101)"),
    ],
)
def test_a_failed_delivery_says_what_its_code_means_in_the_readers_language(
    client, director, team, warehouse_member, robot_server, code, zh, en
):
    make_robot(team, robot_server("dingtalk"))
    notify(warehouse_member)
    Delivery.objects.update(status="failed", attempts=8, error_code=code, error="连接被拒绝")  # the detail, stored at send time
    client.force_login(director.user)

    chinese = client.get("/robots/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    english = client.get("/robots/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert zh in chinese
    assert en in english
    assert "连接被拒绝" in english  # the stored detail stays beside it


def test_the_robots_page_costs_a_fixed_number_of_queries(
    client, director, team, warehouse_member, robot_server, django_assert_max_num_queries
):
    server = robot_server("dingtalk")
    make_robot(team, server)
    notify(warehouse_member)
    client.force_login(director.user)
    with CaptureQueriesContext(connection) as few:
        assert client.get("/robots/").status_code == 200
    for n in range(10):
        make_robot(team, server, role=team.roles.get(code="warehouse") if n % 2 else None)
    for n in range(20):
        notify(warehouse_member, title=f"n{n}")
    Delivery.objects.update(status="failed", attempts=8, error_code="310000")
    with django_assert_max_num_queries(len(few)):
        page = client.get("/robots/").content.decode()
    assert page.count('action="/deliveries/') == 50  # the newest 50 that need attention


def test_another_teams_delivery_cannot_be_retried(client, director, outsider):
    director.user.email = "boss@example.com"
    director.user.save()
    notify(director)
    Delivery.objects.update(status="failed", attempts=8)
    outsider.is_director = True
    outsider.save()
    client.force_login(outsider.user)
    delivery = Delivery.objects.get()
    assert client.post(f"/deliveries/{delivery.pk}/retry/").status_code == 404
    delivery.refresh_from_db()
    assert delivery.status == "failed"


def test_the_director_disables_a_robot_and_its_waiting_messages_are_not_sent(client, director, team, warehouse_member, robot_server):
    server = robot_server("wecom")
    robot = make_robot(team, server)
    notify(warehouse_member)
    client.force_login(director.user)
    assert client.post(f"/robots/{robot.pk}/active/", {"active": "0"}).status_code == 302
    robot.refresh_from_db()
    assert not robot.is_active
    assert deliveries_flush(now=MONDAY).skipped == 1
    assert server.received == []
    client.post(f"/robots/{robot.pk}/active/", {"active": "1"})
    robot.refresh_from_db()
    assert robot.is_active
