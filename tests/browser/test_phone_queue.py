"""Issue 17: ticks survive an ended session, no network and a lost answer (static/js/queue.js, static/sw.js)."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from checklists.daily.ticks import tick_record
from checklists.models import ChecklistItem, ItemStatus, TickEvent
from roles.models import Member
from tests.browser.conftest import PHONE, item_ids, login
from tests.factories import PASSWORD

PHONE_390 = {**PHONE, "viewport": {"width": 390, "height": 844}}
PLAIN = ["SC-WH-1a", "SC-WH-1b", "SC-WH-1c", "SC-WH-1d", "SC-WH-1e", "SC-WH-1f", "SC-WH-2", "SC-WH-3"]


def _tap(page, item_id: int) -> None:
    page.locator(f"#item-{item_id} > .line [data-testid=tick]").tap()


def _queue_empty(page) -> None:
    expect(page.locator("html")).to_have_attribute("data-queue-pending", "0")


def test_a_tick_after_the_session_cookie_is_removed_is_recorded_once_after_login(new_page, today_lists):
    page = new_page(**PHONE_390)
    ids = item_ids(today_lists["warehouse"])
    login(page, "wh1")
    page.context.clear_cookies(name="sessionid")
    _tap(page, ids["SC-WH-2"])
    # Sent to the login page, and back to the same day after it.
    page.wait_for_url(re.compile(r"/accounts/login/\?next=/today/"))
    page.fill("#id_username", "wh1")
    page.fill("#id_password", PASSWORD)
    page.locator("form[action='/accounts/login/'] button[type=submit]").click()
    page.wait_for_url("**/today/")
    expect(page.locator(f"#item-{ids['SC-WH-2']} > .line [data-testid=undo]")).to_be_visible()
    _queue_empty(page)
    page.reload()
    _queue_empty(page)
    item = ChecklistItem.objects.get(pk=ids["SC-WH-2"])
    assert item.status == ItemStatus.DONE
    assert TickEvent.objects.filter(item=item).count() == 1


def test_ten_ticks_made_offline_are_recorded_once_each_in_order_and_a_refused_one_is_shown(new_page, today_lists, warehouse_lead):
    page = new_page(**PHONE_390)
    ids = item_ids(today_lists["warehouse"])
    login(page, "wh1")
    page.context.set_offline(True)
    order = [*PLAIN, "SC-WH-1a", "SC-WH-2"]  # eight ticks, then undo two of them: ten changes
    for playbook_id in PLAIN:
        _tap(page, ids[playbook_id])
        expect(page.locator(f"#item-{ids[playbook_id]} [data-testid=pending]")).to_be_visible()
    for playbook_id in order[8:]:
        # The item shows done (waiting) at once; its undo button is not drawn until the server answers, so the
        # undo is queued through its form as the page would send it.
        page.evaluate(
            """([id, url]) => { const f = document.createElement('form'); f.method = 'post'; f.action = url;
               f.setAttribute('data-queue', ''); f.setAttribute('data-item', id); document.body.appendChild(f); f.requestSubmit(); }""",
            [ids[playbook_id], f"/items/{ids[playbook_id]}/untick/"],
        )
    expect(page.get_by_test_id("sync")).to_contain_text("10")
    # Meanwhile the lead closed SC-WH-3 as not done: that tick is refused when it arrives.
    tick_record(item=ChecklistItem.objects.get(pk=ids["SC-WH-3"]), actor=warehouse_lead, status="not_done", note="停电")
    page.context.set_offline(False)
    _queue_empty(page)
    refused = page.get_by_test_id("refused")
    expect(refused).to_have_count(1)
    expect(refused).to_contain_text("已")  # the reason: already marked by the lead
    events = list(TickEvent.objects.filter(item__checklist=today_lists["warehouse"], actor__user__username="wh1").order_by("id"))
    assert [(e.item_id, e.action) for e in events] == [
        *[(ids[p], "tick") for p in PLAIN if p != "SC-WH-3"],
        (ids["SC-WH-1a"], "untick"),
        (ids["SC-WH-2"], "untick"),
    ]
    # Still shown after a reload, until dismissed.
    page.reload()
    expect(page.get_by_test_id("refused")).to_have_count(1)
    page.get_by_test_id("refused").get_by_role("button").click()
    expect(page.get_by_test_id("refused")).to_have_count(0)


def test_a_tick_retried_after_its_answer_was_lost_is_one_change(new_page, today_lists):
    page = new_page(**PHONE_390)
    ids = item_ids(today_lists["warehouse"])
    login(page, "wh1")
    lost = []

    def lose_answer(route):
        if not lost:
            route.fetch()  # the server records the tick...
            lost.append(1)
            route.abort("connectionreset")  # ...and the answer never reaches the phone
        else:
            route.continue_()

    page.route("**/items/*/tick/", lose_answer)
    _tap(page, ids["SC-WH-2"])
    expect(page.get_by_test_id("sync").get_by_role("button", name="重试")).to_be_visible()
    page.get_by_test_id("sync").get_by_role("button", name="重试").tap()
    _queue_empty(page)
    expect(page.locator(f"#item-{ids['SC-WH-2']} > .line [data-testid=undo]")).to_be_visible()
    assert TickEvent.objects.filter(item_id=ids["SC-WH-2"]).count() == 1
    assert lost == [1]


def test_the_today_page_opens_offline_from_the_phone(new_page, today_lists):
    page = new_page(**PHONE_390)
    login(page, "wh1")
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.reload()
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.wait_for_timeout(800)  # the worker keeps the page and its assets (the page's message after `ready`)
    page.context.set_offline(True)
    page.reload()
    expect(page.get_by_text("仓库每日自查")).to_be_visible()
    assert Member.objects.filter(user__username="wh1").exists()
