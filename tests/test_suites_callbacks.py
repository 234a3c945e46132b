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
    suite,
    team,
    warehouse_member,
    monkeypatch,
    django_capture_on_commit_callbacks,  # noqa: F811
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
