"""Screenshots of each page at phone and desktop width, with checks for what a person would notice first:
nothing wider than the screen, tap targets big enough for a thumb."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, PHONE, item_ids, language_switch, login

MIN_TAP = 36  # px: the smallest comfortable target for a thumb


def _no_horizontal_overflow(page) -> None:
    widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"the page is {widths[0]} px wide in a {widths[1]} px window"


SMALL_TARGETS_JS = """(els, min) => els
    .filter(e => e.offsetParent !== null)
    .map(e => [e, e.getBoundingClientRect()])
    .filter(([e, r]) => r.width < min || r.height < min)
    .map(([e, r]) => {
        const name = (e.innerText || e.value || e.getAttribute('aria-label') || '').trim();
        return `${e.tagName} "${name}" ${Math.round(r.width)}x${Math.round(r.height)}`;
    })"""


def _small_targets(page, selector: str) -> list[str]:
    """Visible controls under `selector` smaller than MIN_TAP in either direction."""
    return page.eval_on_selector_all(selector, SMALL_TARGETS_JS, MIN_TAP)


def _assert_tap_targets(page, selector: str) -> None:
    small = _small_targets(page, selector)
    assert not small, f"tap targets under {MIN_TAP} px:\n" + "\n".join(small)


@pytest.mark.parametrize(("size", "options"), [("phone", PHONE), ("desktop", DESKTOP)])
def test_login_page(new_page, screenshots, size, options):
    page = new_page(**options)
    page.goto("/accounts/login/")
    expect(page.locator("#id_username")).to_be_focused()
    # Each language is offered in its own name, so a reader of either can find theirs.
    expect(page.locator("form.lang button[value=en]")).to_have_text("English")
    expect(page.locator("form.lang button[value=zh-hans]")).to_have_text("简体中文")
    page.screenshot(path=screenshots / f"login-{size}.png", full_page=True)
    _no_horizontal_overflow(page)
    _assert_tap_targets(page, "button, input:not([type=hidden])")


@pytest.mark.parametrize(("size", "options"), [("phone", PHONE), ("desktop", DESKTOP)])
def test_today_page(new_page, screenshots, today_lists, size, options):
    page = new_page(**options)
    ids = item_ids(today_lists["warehouse"])
    login(page, "wh1")
    for playbook_id in ("SC-WH-1a", "SC-WH-1b", "SC-WH-2"):
        page.locator(f"#item-{ids[playbook_id]} > .line [data-testid=tick]").click()
        expect(page.locator(f"#item-{ids[playbook_id]} > .line [data-testid=undo]")).to_be_visible()
    name = "today-desktop.png" if size == "desktop" else "today-phone-partial.png"
    page.screenshot(path=screenshots / name, full_page=True)
    _no_horizontal_overflow(page)
    _assert_tap_targets(page, "button, summary, input:not([type=hidden]), .topbar a")


def test_today_page_with_inputs(new_page, screenshots, today_lists):
    """The service list has a count item with its input, and notes behind a disclosure."""
    page = new_page(**PHONE)
    login(page, "cs1")
    page.locator("details summary").first.click()
    page.screenshot(path=screenshots / "today-service-phone.png", full_page=True)
    _no_horizontal_overflow(page)
    _assert_tap_targets(page, "button, summary, input:not([type=hidden]), textarea")


@pytest.mark.parametrize(("size", "options"), [("phone", PHONE), ("desktop", DESKTOP)])
def test_history_page(new_page, screenshots, warehouse_lead, today_lists, size, options):
    page = new_page(**options)
    login(page, "wh1")  # some of today's work, so the history has a row to show
    ids = item_ids(today_lists["warehouse"])
    page.locator(f"#item-{ids['SC-WH-2']} > .line [data-testid=tick]").click()
    expect(page.locator(f"#item-{ids['SC-WH-2']} > .line [data-testid=undo]")).to_be_visible()
    page.context.clear_cookies()

    login(page, "whlead")  # a lead also sees the team section
    page.goto("/history/")
    expect(page.get_by_role("heading", level=1)).to_have_text("我最近 30 天")
    expect(page.get_by_role("heading", level=2)).to_have_text("我的团队")
    page.locator("details.card summary").first.click()
    page.screenshot(path=screenshots / f"history-{size}.png", full_page=True)
    _no_horizontal_overflow(page)
    language_switch(page, "en")  # English headers are longer
    page.screenshot(path=screenshots / f"history-{size}-en.png", full_page=True)
    _no_horizontal_overflow(page)


def test_lead_opens_a_members_day_on_a_phone(new_page, screenshots, warehouse_lead, today_lists):
    """A lead picks a member's day from the picker and ticks for them."""
    page = new_page(**PHONE)
    ids = item_ids(today_lists["warehouse"])
    login(page, "whlead")
    # A lead lands on their role's board (issue 20); the picker is on the today page.
    assert "/board/" in page.url
    page.goto("/today/")
    with page.expect_navigation():
        page.select_option("#member-pick", label="陈仓库")
    page.locator(f"#item-{ids['SC-WH-2']} > .line [data-testid=tick]").tap()
    expect(page.locator(f"#item-{ids['SC-WH-2']} > .line [data-testid=undo]")).to_be_visible()
    expect(page.locator(f"#item-{ids['SC-WH-2']}")).to_contain_text("冯仓库")  # done by the lead, on their behalf
    page.screenshot(path=screenshots / "today-lead-phone.png", full_page=True)
    _no_horizontal_overflow(page)
    _assert_tap_targets(page, "button, summary, select, input:not([type=hidden]), .topbar a")
