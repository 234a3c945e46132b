"""The bell, the notification list and the robots page on a phone: screenshots, no overflow, thumb-sized targets."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from checklists.models import Delivery, Robot, RobotSend
from checklists.notify.services import notification_create
from tests.browser.conftest import PHONE, login
from tests.browser.test_screens import _assert_tap_targets, _no_horizontal_overflow
from tests.robot_server import RobotServer


@pytest.fixture
def robot_server():
    server = RobotServer(kind="dingtalk").start()
    yield server
    server.stop()


def _notify(member, title: str, body: str, *, urgent: bool = False, minutes_ago: int = 0):
    now = timezone.now() - timedelta(minutes=minutes_ago)
    return notification_create(
        team=member.team, recipient=member, kind="escalation", title=title, body=body, url="/today/", urgent=urgent, not_before=now, now=now
    )


def test_notifications_on_a_phone(new_page, screenshots, warehouse_member):
    _notify(warehouse_member, "提醒:仓库每日自查 30 分钟后到期", "检查产品配件:包装盒、快递单、胶带、塑封袋", minutes_ago=40)
    _notify(warehouse_member, "已超时:提供店铺产品补货需求表", "截止 17:00,已超时 30 分钟,已通知组长。", urgent=True, minutes_ago=5)
    _notify(warehouse_member, "已读的提醒", "这一条已经读过", minutes_ago=120).__class__.objects.filter(title="已读的提醒").update(
        read_at=timezone.now()
    )
    page = new_page(**PHONE)
    login(page, "wh1")
    expect(page.locator("[data-testid=bell-count]")).to_have_text("2")
    page.locator("a.bell").click()
    page.wait_for_url("**/notifications/")
    expect(page.locator("li.notification.unread")).to_have_count(2)
    page.screenshot(path=screenshots / "notifications-phone.png", full_page=True)
    _no_horizontal_overflow(page)
    _assert_tap_targets(page, "main button, main a.n-link")
    # Mark one read with htmx: the row and the bell change without a reload.
    page.locator("li.notification.unread button").first.click()
    expect(page.locator("li.notification.unread")).to_have_count(1)
    expect(page.locator("[data-testid=bell-count]")).to_have_text("1")


def test_robots_page_on_a_phone(new_page, screenshots, director, warehouse_member, robot_server):
    team = director.team
    robot = Robot.objects.create(team=team, kind="dingtalk", name="运营总群", webhook_url=robot_server.url, secret="SECtest")
    Robot.objects.create(
        team=team,
        kind="wecom",
        name="仓库群",
        webhook_url="https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=x",
        role=team.roles.get(code="warehouse"),
    )
    _notify(warehouse_member, "已超时:提供店铺产品补货需求表", "截止 17:00")
    Delivery.objects.filter(robot=robot).update(status="failed", attempts=8, error_code="310000", error="sign not match")
    RobotSend.objects.create(robot=robot, send_id="00000000-0000-0000-0000-000000000001", at=timezone.now(), ok=False, error_code="310000")
    page = new_page(**PHONE)
    login(page, "boss")
    page.goto("/robots/")
    expect(page.get_by_text("310000").first).to_be_visible()
    before = len(robot_server.received)  # the notification itself went out on commit
    page.locator(f"[data-testid=robot-test-{robot.pk}]").click()
    expect(page.locator("[data-testid=test-result-ok]")).to_be_visible()
    assert len(robot_server.received) == before + 1
    page.screenshot(path=screenshots / "robots-phone.png", full_page=True)
    _no_horizontal_overflow(page)
    _assert_tap_targets(page, "main button, main a.button")
