"""The pages speak Chinese by default and switch to English (and back) with the buttons in the top bar."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import language_switch, login


def test_login_page_is_chinese_by_default_and_switches_both_ways(page, warehouse_member):
    page.goto("/")
    page.wait_for_url("**/accounts/login/**")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.get_by_role("heading", level=1)).to_have_text("登录")
    expect(page.locator("form.lang button.current")).to_have_text("简体中文")

    language_switch(page, "en")
    expect(page.get_by_role("heading", level=1)).to_have_text("Log in")
    expect(page.get_by_role("button", name="Log in")).to_be_visible()

    language_switch(page, "zh-hans")
    expect(page.get_by_role("heading", level=1)).to_have_text("登录")


def test_member_switches_language_after_logging_in(page, warehouse_member, today_lists):
    login(page, "wh1")
    nav = page.locator(".topbar nav")
    expect(nav.get_by_role("link", name="今天")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_contain_text("我的一天")

    language_switch(page, "en")
    assert page.url.endswith("/today/"), "the switch comes back to the page it was pressed on"
    expect(nav.get_by_role("link", name="Today")).to_be_visible()
    expect(nav.get_by_role("link", name="History")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_contain_text("My day")

    # The choice sticks across pages until switched back.
    nav.get_by_role("link", name="History").click()
    page.wait_for_url("**/history/")
    expect(page.locator("html")).to_have_attribute("lang", "en")

    language_switch(page, "zh-hans")
    assert page.url.endswith("/history/")
    nav.get_by_role("link", name="今天").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("我的一天")
