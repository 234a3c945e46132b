"""Issue 21: OpsTeam as a DingTalk / WeCom / Feishu app, against local fake suites (tests/suite_servers.py)."""

from __future__ import annotations

import json
import logging
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from checklists.escalation.raising import escalation_sweep
from checklists.models import CardAction, Delivery, Notification, SuiteApp, SuiteLink, TaskStatus
from checklists.notify.flush import deliveries_flush
from checklists.notify.suites import tokens
from checklists.notify.suites.services import suite_app_save
from tests.suite_servers import SuiteServer, card_callback, dingtalk_event
from tests.test_escalation import duty, monday

CALLBACK_TOKEN = "cb-token-1"
AES_KEY = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
FEISHU_KEY = "feishu-encrypt-key"
KINDS = ["dingtalk", "wecom", "feishu"]
USER = "wh-user-1"


@pytest.fixture
def suite(settings, team, director, warehouse_member):
    """start(kind): a fake suite, the team's app pointed at it and the warehouse member linked to USER."""
    servers = []
    tokens._store_for.cache_clear()

    def start(kind: str, *, link: bool = True):
        server = SuiteServer(kind=kind).start()
        servers.append(server)
        server.users[USER] = {"name": "陈仓库", "mobile": "13800000001", "department": "仓库部"}
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
        if link:
            SuiteLink.objects.create(app=app, member=warehouse_member, suite_user_id=USER, linked_at=monday(8))
        return server, app

    yield start
    for server in servers:
        server.stop()


def reminder(team, member):
    """The owner's reminder for a duty due at 10:00 (the sweep at 09:30), with its escalation: the card's subject."""
    task = duty(team, owner=member, due=monday(10))
    escalation_sweep(team=team, now=monday(9, 30))
    return task, Notification.objects.get(recipient=member, kind="reminder")


def press(client, kind, app, *, notification, action="done", callback_id="cb-1", user=USER, key=None, token=CALLBACK_TOKEN):
    receive_id = {"wecom": app.corp_id, "feishu": app.app_key}[kind]
    key = key or (FEISHU_KEY if kind == "feishu" else AES_KEY)
    signed = card_callback(
        kind, token=token, key=key, receive_id=receive_id, user_id=user, button=f"ops:{notification.pk}:{action}", callback_id=callback_id
    )
    url = reverse("suite-callback", args=[app.team.slug]) + signed.path_query
    headers = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in signed.headers.items()}
    return client.post(url, data=signed.body, content_type=signed.content_type, **headers), signed


# --- personal cards ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_a_reminder_to_a_linked_member_becomes_a_personal_card_with_buttons(kind, suite, team, warehouse_member):
    server, _app = suite(kind)
    _task, notification = reminder(team, warehouse_member)
    delivery = Delivery.objects.get(notification=notification, channel="suite")

    summary = deliveries_flush(now=monday(9, 30))

    assert summary.sent >= 1
    delivery.refresh_from_db()
    assert delivery.status == "sent"
    sends = [r for r in server.received if r.path.endswith(("asyncsend_v2", "/message/send", "/im/v1/messages"))]
    assert len(sends) == 1
    body = sends[0].body
    if kind == "dingtalk":
        assert body["msg"]["msgtype"] == "oa"
        card = body["msg"]["oa"]
        assert body["userid_list"] == USER
        assert body["agent_id"] == 1000002
        assert card["status_bar"]["status_value"] == "待处理"
        assert "/suite/act/" in card["message_url"]  # the card page with 完成 · 确认收到 · 打开
    elif kind == "wecom":
        card = body["template_card"]
        assert body["touser"] == USER
        assert card["card_type"] == "button_interaction"
        assert [b.get("key") for b in card["button_list"]] == [f"ops:{notification.pk}:done", f"ops:{notification.pk}:ack", None]
    else:
        assert sends[0].query == {"receive_id_type": "open_id"}
        card = json.loads(body["content"])
        values = [a.get("value") for a in card["elements"][-1]["actions"]]
        assert values == [{"ops": f"ops:{notification.pk}:done"}, {"ops": f"ops:{notification.pk}:ack"}, None]
    assert delivery.suite_message.vendor_ref


def test_an_unlinked_member_gets_no_suite_delivery(suite, team, warehouse_member):
    suite("wecom", link=False)
    _task, notification = reminder(team, warehouse_member)
    assert not Delivery.objects.filter(notification=notification, channel="suite").exists()


@pytest.mark.parametrize("kind", KINDS)
def test_a_token_that_expires_mid_run_is_renewed_once_and_the_card_still_goes(kind, suite, team, warehouse_member, warehouse_teammate):
    server, app = suite(kind)
    SuiteLink.objects.create(app=app, member=warehouse_teammate, suite_user_id="wh-user-2", linked_at=monday(8))
    server.users["wh-user-2"] = {"name": "林仓库"}
    reminder(team, warehouse_member)
    deliveries_flush(now=monday(9, 30))
    assert len(server.tokens_issued) == 1
    server.expire(server.tokens_issued[0])
    duty(team, owner=warehouse_teammate, due=monday(11), title="盘点")
    escalation_sweep(team=team, now=monday(10, 30))

    deliveries_flush(now=monday(10, 30))

    assert len(server.tokens_issued) == 2
    assert Delivery.objects.filter(channel="suite", status="sent").count() == 2


@pytest.mark.parametrize("kind", KINDS)
def test_a_rate_limited_card_waits_and_is_sent_later_without_loss(kind, suite, team, warehouse_member, settings, monkeypatch):
    settings.OPSTEAM_SUITE_RATE_DELAY_SECONDS = 30
    scheduled = []
    # The fast tier's eager Celery would run the countdown flush at once: record it instead.
    monkeypatch.setattr("checklists.notify.suites.deliver._flush_later", lambda **kwargs: scheduled.append(kwargs))
    server, _app = suite(kind)
    reminder(team, warehouse_member)
    server.rate_limit(1, reset=30)

    summary = deliveries_flush(now=monday(9, 30))
    delivery = Delivery.objects.get(channel="suite")
    assert summary.deferred == 1
    assert delivery.status == "pending"
    assert delivery.attempts == 0
    assert delivery.next_attempt_at == monday(9, 30) + timedelta(seconds=30)

    assert scheduled == [{"team_id": team.pk, "seconds": 31}]
    assert deliveries_flush(now=monday(9, 30) + timedelta(seconds=20)).claimed == 0
    deliveries_flush(now=monday(9, 31))
    delivery.refresh_from_db()
    assert delivery.status == "sent"


def test_a_user_the_suite_does_not_know_fails_at_once_and_shows_on_the_channels_page(suite, team, warehouse_member, director, client):
    server, _app = suite("wecom")
    del server.users[USER]
    reminder(team, warehouse_member)
    deliveries_flush(now=monday(9, 30))
    delivery = Delivery.objects.get(channel="suite")
    assert delivery.status == "failed"
    assert delivery.error_code == "81013"

    client.force_login(director.user)
    page = client.get(reverse("robots")).content.decode()
    assert "办公应用拒绝了这条消息（代码 81013）。" in page
    assert reverse("delivery-retry", args=[delivery.pk]) in page


# --- card buttons -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["wecom", "feishu"])
def test_a_card_button_sent_twice_completes_the_duty_once(kind, suite, team, warehouse_member, client, django_capture_on_commit_callbacks):
    server, app = suite(kind)
    task, notification = reminder(team, warehouse_member)
    deliveries_flush(now=monday(9, 30))

    with django_capture_on_commit_callbacks(execute=True):
        first, _signed = press(client, kind, app, notification=notification, callback_id="evt-1")
    again, _signed = press(client, kind, app, notification=notification, callback_id="evt-1")
    other_press, _signed = press(client, kind, app, notification=notification, callback_id="evt-2")

    assert (first.status_code, again.status_code, other_press.status_code) == (200, 200, 200)
    task.refresh_from_db()
    assert task.status == TaskStatus.DONE
    assert CardAction.objects.filter(notification=notification, action="done").count() == 1
    if kind == "feishu":
        reply = json.loads(first.content)
        assert reply["card"]["type"] == "raw"
        assert "已完成" in json.dumps(reply["card"]["data"], ensure_ascii=False)
    else:
        updates = server.calls("/cgi-bin/message/update_template_card")
        assert len(updates) == 1
        assert updates[0].body["response_code"] == "evt-1"
        assert updates[0].body["button"]["replace_name"].startswith("已完成")


@pytest.mark.parametrize("kind", ["wecom", "feishu"])
def test_a_forged_callback_changes_nothing_and_is_logged(kind, suite, team, warehouse_member, client, caplog):
    _server, app = suite(kind)
    task, notification = reminder(team, warehouse_member)
    wrong_key = "feishu-other-key" if kind == "feishu" else "a" * 43

    with caplog.at_level(logging.WARNING, logger="opsteam.suites"):
        forged, _signed = press(client, kind, app, notification=notification, key=wrong_key)
        wrong_token, _signed = press(client, kind, app, notification=notification, token="not-the-token", callback_id="x2")

    assert forged.status_code == 403
    assert wrong_token.status_code == 403
    task.refresh_from_db()
    assert task.status == TaskStatus.OPEN
    assert not CardAction.objects.exists()
    assert "suite callback refused" in caplog.text


@pytest.mark.parametrize("kind", ["wecom", "feishu"])
def test_a_replayed_callback_is_refused(kind, suite, team, warehouse_member, client, caplog, django_capture_on_commit_callbacks):
    _server, app = suite(kind)
    _task, notification = reminder(team, warehouse_member)
    with django_capture_on_commit_callbacks(execute=True):  # the nonce is recorded once the action committed
        response, signed = press(client, kind, app, notification=notification, action="ack")
    assert response.status_code == 200
    url = reverse("suite-callback", args=[team.slug]) + signed.path_query
    headers = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in signed.headers.items()}
    with caplog.at_level(logging.WARNING, logger="opsteam.suites"):
        replay = client.post(url, data=signed.body, content_type=signed.content_type, **headers)
    assert replay.status_code == 403
    assert "replayed" in caplog.text


def test_someone_else_pressing_a_card_changes_nothing(suite, team, warehouse_member, warehouse_teammate, client):
    _server, app = suite("feishu")
    SuiteLink.objects.create(app=app, member=warehouse_teammate, suite_user_id="wh-user-2", linked_at=monday(8))
    task, notification = reminder(team, warehouse_member)
    response, _signed = press(client, "feishu", app, notification=notification, user="wh-user-2")
    assert response.status_code == 200
    assert "不是发给你的" in json.loads(response.content)["toast"]["content"]
    task.refresh_from_db()
    assert task.status == TaskStatus.OPEN


FORM = r'<form method="post" action="([^"]+)">\s*<input[^>]*>\s*<button[^>]*data-testid="suite-card-(\w+)"'


def dingtalk_card_buttons(client, send) -> dict:
    """The OA message's link opens the card page: {action: its button's path}."""
    import re

    page = client.get(send.body["msg"]["oa"]["message_url"].removeprefix("http://127.0.0.1:8000"))
    assert page.status_code == 200
    html = page.content.decode()
    return {action: url.removeprefix("http://127.0.0.1:8000") for url, action in re.findall(FORM, html)}


def test_a_dingtalk_button_asks_once_more_then_completes_the_duty_once(suite, team, warehouse_member, client):
    server, _app = suite("dingtalk")
    task, _notification = reminder(team, warehouse_member)
    deliveries_flush(now=monday(9, 30))
    (send,) = server.calls("asyncsend_v2")
    buttons = dingtalk_card_buttons(client, send)
    assert set(buttons) == {"done", "ack"}
    done_url = buttons["done"]

    preview = client.get(done_url)
    task.refresh_from_db()
    assert preview.status_code == 200
    assert task.status == TaskStatus.OPEN  # a link preview does not act
    first = client.post(done_url)
    second = client.post(done_url)
    task.refresh_from_db()
    assert task.status == TaskStatus.DONE
    assert "已完成" in first.content.decode()
    assert "已完成" in second.content.decode()
    assert CardAction.objects.count() == 1
    forged = client.post(done_url[:-3] + "xyz/")
    assert forged.status_code == 400


def test_dingtalk_checks_the_callback_url_and_unlinks_people_who_left(suite, team, client, warehouse_member):
    _server, app = suite("dingtalk")
    url = reverse("suite-callback", args=[team.slug])
    check = dingtalk_event(token=CALLBACK_TOKEN, key=AES_KEY, app_key=app.app_key, event={"EventType": "check_url"})
    response = client.post(url + check.path_query, data=check.body, content_type="application/json")
    assert response.status_code == 200
    reply = json.loads(response.content)
    from checklists.notify.suites.crypto import wx_decrypt, wx_signature

    assert reply["msg_signature"] == wx_signature(
        token=CALLBACK_TOKEN, timestamp=reply["timeStamp"], nonce=reply["nonce"], encrypt=reply["encrypt"]
    )
    assert wx_decrypt(encoding_aes_key=AES_KEY, receive_id=app.app_key, encrypted=reply["encrypt"]) == b"success"

    left = dingtalk_event(token=CALLBACK_TOKEN, key=AES_KEY, app_key=app.app_key, event={"EventType": "user_leave_org", "UserId": [USER]})
    assert client.post(url + left.path_query, data=left.body, content_type="application/json").status_code == 200
    assert not SuiteLink.objects.get(member=warehouse_member).is_active


def test_wecom_answers_the_console_url_check_with_the_decrypted_echostr(suite, team, client):
    _server, app = suite("wecom")
    from checklists.notify.suites.crypto import wx_encrypt, wx_signature

    echo = wx_encrypt(encoding_aes_key=AES_KEY, receive_id=app.corp_id, plaintext=b"1616140317555161061")
    query = {
        "msg_signature": wx_signature(token=CALLBACK_TOKEN, timestamp="1", nonce="n", encrypt=echo),
        "timestamp": "1",
        "nonce": "n",
        "echostr": echo,
    }
    response = client.get(reverse("suite-callback", args=[team.slug]), query)
    assert response.content == b"1616140317555161061"
    query["msg_signature"] = "0" * 40
    assert client.get(reverse("suite-callback", args=[team.slug]), query).status_code == 403


# --- sign-in ------------------------------------------------------------------------------------------------


def _scan(client, server, kind, slug):
    start = client.get(reverse("suite-login", args=[slug]))
    assert start.status_code == 302
    assert start["Location"].startswith(server.url)
    from urllib.parse import parse_qs, urlparse

    query = {k: v[0] for k, v in parse_qs(urlparse(start["Location"]).query).items()}
    server.oauth_user = server.oauth_user or USER
    code = server.code_for(server.oauth_user)
    return client.get(reverse("suite-signin", args=[slug]), {"code": code, "state": query["state"]})


@pytest.mark.parametrize("kind", KINDS)
def test_a_linked_member_signs_in_by_scanning_the_suite_s_qr_code(kind, suite, team, client, warehouse_member):
    server, _app = suite(kind)
    response = _scan(client, server, kind, team.slug)
    assert response.status_code == 302
    assert client.get(reverse("today")).status_code == 200
    assert int(client.session["_auth_user_id"]) == warehouse_member.user_id


def test_an_unlinked_suite_user_gets_a_clear_page_not_an_account(suite, team, client):
    server, _app = suite("feishu", link=False)
    server.users["stranger"] = {"name": "路人", "mobile": "13900000000"}
    server.oauth_user = "stranger"
    users_before = get_user_model().objects.count()
    response = _scan(client, server, "feishu", team.slug)
    assert response.status_code == 403
    assert 'data-testid="suite-signin-unlinked"' in response.content.decode()
    assert get_user_model().objects.count() == users_before
    assert "_auth_user_id" not in client.session


def test_a_deactivated_link_gets_a_clear_page(suite, team, client, warehouse_member):
    server, _app = suite("wecom")
    SuiteLink.objects.filter(member=warehouse_member).update(is_active=False)
    response = _scan(client, server, "wecom", team.slug)
    assert response.status_code == 403
    assert "suite-signin-deactivated" in response.content.decode()


def test_a_matching_mobile_is_linked_only_after_the_person_confirms(suite, team, client, warehouse_member):
    server, app = suite("dingtalk", link=False)
    warehouse_member.mobile = "+86 138-0000-0001"
    warehouse_member.save()
    response = _scan(client, server, "dingtalk", team.slug)
    assert response.status_code == 200
    assert "suite-signin-propose" in response.content.decode()
    assert not SuiteLink.objects.exists()
    assert "_auth_user_id" not in client.session

    confirmed = client.post(reverse("suite-confirm", args=[team.slug]))
    assert confirmed.status_code == 302
    assert SuiteLink.objects.get(app=app).member == warehouse_member
    assert int(client.session["_auth_user_id"]) == warehouse_member.user_id


def test_a_sign_in_with_a_forged_state_is_refused(suite, team, client):
    server, _app = suite("wecom")
    client.get(reverse("suite-login", args=[team.slug]))
    response = client.get(reverse("suite-signin", args=[team.slug]), {"code": server.code_for(USER), "state": "forged"})
    assert response.status_code == 400
    assert "_auth_user_id" not in client.session


# --- settings and import ------------------------------------------------------------------------------------


def test_the_director_saves_credentials_that_are_stored_sealed_and_never_shown_again(client, director, team):
    client.force_login(director.user)
    response = client.post(
        reverse("suite-settings"),
        {
            "op": "save",
            "kind": "wecom",
            "corp_id": "ww123",
            "agent_id": "1000002",
            "app_secret": "very-secret-value-1234",
            "callback_token": "tok-abcdef-9876",
            "callback_key": AES_KEY,
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    app = SuiteApp.objects.get(team=team)
    assert "very-secret" not in app.app_secret_sealed
    page = client.get(reverse("suite-settings")).content.decode()
    assert "very-secret-value-1234" not in page
    assert AES_KEY not in page
    assert "••••1234" in page
    # Saving again with the secrets left empty keeps them.
    client.post(reverse("suite-settings"), {"op": "save", "kind": "wecom", "corp_id": "ww123", "agent_id": "1000002", "is_active": "on"})
    from checklists.notify.suites import vault

    app.refresh_from_db()
    assert vault.unseal(app.app_secret_sealed) == "very-secret-value-1234"


def test_a_bad_encoding_aes_key_is_a_clear_400(client, director):
    client.force_login(director.user)
    response = client.post(
        reverse("suite-settings"),
        {
            "op": "save",
            "kind": "dingtalk",
            "corp_id": "ding1",
            "app_key": "k",
            "agent_id": "1",
            "app_secret": "s",
            "callback_token": "t",
            "callback_key": "short",
        },
    )
    assert response.status_code == 400
    assert not SuiteApp.objects.exists()


def test_only_the_director_sees_the_suite_settings(client, warehouse_member):
    client.force_login(warehouse_member.user)
    assert client.get(reverse("suite-settings")).status_code == 403


def test_the_org_import_proposes_and_creates_nothing_before_the_director_confirms(suite, team, client, director):
    server, app = suite("wecom", link=False)
    server.users["new-1"] = {"name": "新客服", "mobile": "13700000000", "department": "仓库部"}
    client.force_login(director.user)
    members_before = team.members.count()
    client.post(reverse("suite-settings"), {"op": "import_read"})
    assert team.members.count() == members_before
    proposal = app.import_proposals.get(suite_user_id="new-1")
    assert proposal.role_code == "warehouse"
    client.post(reverse("suite-settings"), {"op": "import_confirm", "proposal": [str(proposal.pk)], f"role_{proposal.pk}": "warehouse"})
    assert team.members.count() == members_before + 1
    assert SuiteLink.objects.filter(app=app, suite_user_id="new-1").exists()
