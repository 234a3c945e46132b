"""Issue 20 on a phone: the director lands on the board, sees who is behind first (worst first), nudges, is refused
a second nudge within the limit; the member sees the reminder on today; a tick reaches the open board unreloaded."""

from __future__ import annotations

import shutil
from datetime import timedelta

from django.utils import timezone
from playwright.sync_api import expect

from checklists.daily.pace import behind_list
from checklists.daily.ticks import tick_record
from checklists.models import ChecklistItem, Robot
from opsteam.lib.clock import local_date
from tests.browser.conftest import PHONE, ROOT, login
from tests.robot_server import RobotServer

DOCS_IMG = ROOT / "docs" / "img"


def _open_due(checklist, count: int) -> list[ChecklistItem]:
    """The list's first `count` items were due an hour ago and are open; the rest are due tonight."""
    now = timezone.now()
    items = list(ChecklistItem.objects.filter(checklist=checklist, is_group=False).order_by("order", "pk"))
    for n, item in enumerate(items):
        item.due_at = now - timedelta(hours=1) if n < count else now + timedelta(hours=6)
        item.status, item.done_at = "open", None
        item.save()
    return items[:count]


def test_the_director_acts_from_the_board_on_a_phone(
    new_page, screenshots, settings, team, today_lists, director, warehouse_member, service_member, operations_member
):
    settings.OPSTEAM_BOARD_POLL_SECONDS = 2  # the live test waits seconds, not the real 30
    server = RobotServer(kind="dingtalk").start()
    try:
        Robot.objects.create(team=team, kind="dingtalk", name="运营总群", webhook_url=server.url)
        warehouse = _open_due(today_lists["warehouse"], 3)
        _open_due(today_lists["operations"], 1)
        _open_due(today_lists["service"], 0)  # nothing due yet: not behind
        expected = [r.member_id for r in behind_list(team_id=team.pk, role_ids=None, day=local_date(timezone.now()), now=timezone.now())]
        assert set(expected) == {warehouse_member.pk, operations_member.pk}  # the 客服 has nothing due yet

        board = new_page(**PHONE)
        login(board, "boss")
        board.wait_for_url("**/board/**")  # the director lands on the board

        rows = board.locator("[data-testid=behind] > li")
        expect(rows).to_have_count(len(expected))
        assert [int(m) for m in rows.evaluate_all("els => els.map(e => e.dataset.member)")] == expected
        for member_id in expected:  # both on the first screen
            assert board.get_by_test_id(f"behind-{member_id}").bounding_box()["y"] + 40 < PHONE["viewport"]["height"]
        expect(board.get_by_test_id(f"behind-{warehouse_member.pk}")).to_contain_text(warehouse[0].text)
        expect(board.get_by_test_id(f"behind-{service_member.pk}")).to_have_count(0)
        board.screenshot(path=screenshots / "board-behind-phone.png")
        DOCS_IMG.mkdir(parents=True, exist_ok=True)
        shutil.copy(screenshots / "board-behind-phone.png", DOCS_IMG / "board-phone.png")

        board.get_by_test_id(f"nudge-{warehouse_member.pk}").tap()
        expect(board.get_by_test_id("nudge-message")).to_contain_text("已提醒 陈仓库 3 项")
        expect(board.get_by_test_id(f"nudged-{warehouse_member.pk}")).to_contain_text("3 项中已完成 0 项")
        for _ in range(50):
            if any(warehouse[0].text in r.raw.decode() for r in server.received):
                break
            board.wait_for_timeout(100)
        assert any(warehouse[0].text in r.raw.decode() for r in server.received), "the robot was told"

        board.get_by_test_id(f"nudge-{warehouse_member.pk}").tap()
        expect(board.get_by_test_id("nudge-message")).to_contain_text("已被催过")

        member = new_page(**PHONE)
        login(member, "wh1")
        member.wait_for_url("**/today/")
        expect(member.get_by_test_id("nudge-banner")).to_contain_text(warehouse[0].text)
        member.screenshot(path=screenshots / "today-nudged-phone.png")

        tick_record(item=warehouse[0], actor=warehouse_member, now=timezone.now())
        expect(board.get_by_test_id(f"nudged-{warehouse_member.pk}")).to_contain_text("3 项中已完成 1 项", timeout=60_000)
    finally:
        server.stop()
