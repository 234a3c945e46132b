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
