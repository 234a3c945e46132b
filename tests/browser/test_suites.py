"""Issue 21: signing in through each suite's (fake) QR page, from the login page's button to the today page."""

from __future__ import annotations

import pytest

from tests.test_suites import KINDS, suite  # noqa: F401 - the fixture

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("kind", KINDS)
def test_a_member_signs_in_through_the_suite_s_qr_page(kind, suite, page, live_server, settings):  # noqa: F811
    settings.OPSTEAM_BASE_URL = live_server.url
    server, _app = suite(kind)
    server.oauth_user = "wh-user-1"

    page.goto("/accounts/login/")
    page.locator(f"[data-testid=suite-login-{kind}]").click()
    page.wait_for_url(f"{server.url}/**")
    page.locator("#scan").click()
    page.wait_for_url("**/today/")
    assert page.locator("#id_password").count() == 0
    assert "今天没有你的清单" in page.content()  # the member's own today page, signed in


# The DingTalk client injects `dd` through its JSAPI script; in the test the script's address answers a stand-in
# whose requestAuthCode hands over a code the fake DingTalk issued, as the client does inside the workbench.
DD_STUB = """
window.dd = {
  ready: function (run) { setTimeout(run, 0); },
  runtime: { permission: { requestAuthCode: function (options) {
    options.onSuccess({ code: "%s" });
  } } }
};
"""


def test_a_member_opening_opsteam_in_dingtalk_s_workbench_is_signed_in_by_the_authcode(
    suite,  # noqa: F811
    page,
    live_server,
    settings,
):
    settings.OPSTEAM_BASE_URL = live_server.url
    server, app = suite("dingtalk")
    code = server.code_for("wh-user-1")
    page.route("https://g.alicdn.com/**", lambda route: route.fulfill(body=DD_STUB % code, content_type="application/javascript"))

    page.goto(f"/suite/{app.team.slug}/app/?next=/today/")
    page.wait_for_url("**/today/")

    assert "今天没有你的清单" in page.content()  # the member's own today page, signed in without a password
    (exchange,) = server.calls("/topapi/v2/user/getuserinfo")
    assert exchange.body == {"code": code}


@pytest.mark.parametrize("kind", ["wecom", "feishu"])
def test_a_member_opening_opsteam_in_the_workbench_is_signed_in_through_the_in_app_oauth_page(
    kind,
    suite,  # noqa: F811
    page,
    live_server,
    settings,
):
    settings.OPSTEAM_BASE_URL = live_server.url
    server, app = suite(kind)
    server.oauth_user = "wh-user-1"

    page.goto(f"/suite/{app.team.slug}/app/?next=/today/")
    page.wait_for_url(f"{server.url}/**")  # the suite's in-app OAuth page (silent inside the client)
    page.locator("#scan").click()
    page.wait_for_url("**/today/")
    assert "今天没有你的清单" in page.content()
