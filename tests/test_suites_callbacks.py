"""Issue 21 follow-up: a callback's retry after a crash, and DingTalk's work notification updated after a press."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from checklists.models import CardAction, TaskStatus
from tests.test_suites import press, reminder, suite  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db


def _post_again(client, slug, signed):
    url = reverse("suite-callback", args=[slug]) + signed.path_query
    headers = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in signed.headers.items()}
    return client.post(url, data=signed.body, content_type=signed.content_type, **headers)


@pytest.mark.parametrize("kind", ["wecom", "feishu"])
def test_a_vendor_retry_after_a_crash_while_acting_is_acted_on_once(
    kind,
    suite,  # noqa: F811
    team,
    warehouse_member,
    monkeypatch,
    django_capture_on_commit_callbacks,
):
    _server, app = suite(kind)
    task, notification = reminder(team, warehouse_member)
    client = Client(raise_request_exception=False)
    from checklists.notify.suites import callbacks

    real_perform = callbacks._perform
    crashes = []

    def crash_once(**kwargs):
        if not crashes:
            crashes.append(1)
            raise RuntimeError("the database went away mid-callback")
        return real_perform(**kwargs)

    monkeypatch.setattr(callbacks, "_perform", crash_once)

    with django_capture_on_commit_callbacks(execute=True):
        crashed, signed = press(client, kind, app, notification=notification, callback_id="evt-crash")
    assert crashed.status_code == 500
    task.refresh_from_db()
    assert task.status == TaskStatus.OPEN
    assert not CardAction.objects.exists()

    # The vendor sends the very same request again (same timestamp, nonce and signature): it is acted on.
    with django_capture_on_commit_callbacks(execute=True):
        retried = _post_again(client, team.slug, signed)
    assert retried.status_code == 200
    task.refresh_from_db()
    assert task.status == TaskStatus.DONE
    assert CardAction.objects.filter(notification=notification).count() == 1

    # Once it succeeded, the same request again is a replay.
    with django_capture_on_commit_callbacks(execute=True):
        replayed = _post_again(client, team.slug, signed)
    assert replayed.status_code == 403
    assert CardAction.objects.filter(notification=notification).count() == 1


def test_a_dingtalk_press_sets_the_work_notification_s_status_bar_once(
    suite,  # noqa: F811
    team,
    warehouse_member,
    client,
    django_capture_on_commit_callbacks,
):
    from checklists.models import Delivery
    from checklists.notify.flush import deliveries_flush
    from tests.test_escalation import monday
    from tests.test_suites import dingtalk_card_buttons

    server, _app = suite("dingtalk")
    task, notification = reminder(team, warehouse_member)
    deliveries_flush(now=monday(9, 30))
    (send,) = server.calls("asyncsend_v2")
    assert send.body["msg"]["oa"]["status_bar"] == {"status_value": "待处理", "status_bg": "0xFFFF9A2E"}
    buttons = dingtalk_card_buttons(client, send)
    card_page = send.body["msg"]["oa"]["message_url"].removeprefix("http://127.0.0.1:8000")
    assert client.post(card_page).status_code == 400  # the card page itself never acts
    assert not server.calls("status_bar/update")

    with django_capture_on_commit_callbacks(execute=True):
        client.post(buttons["done"])
    with django_capture_on_commit_callbacks(execute=True):
        client.post(buttons["done"])

    task.refresh_from_db()
    assert task.status == TaskStatus.DONE
    (update,) = server.calls("status_bar/update")
    message = Delivery.objects.get(notification=notification, channel="suite").suite_message
    assert update.body["task_id"] == int(message.vendor_ref)
    assert update.body["agent_id"] == 1000002
    assert update.body["status_value"].startswith("已完成 · ")
    assert update.body["status_bg"] == "0xFF78C06E"
