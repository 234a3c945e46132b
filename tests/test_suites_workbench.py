"""Issue 21 follow-up: signing in inside each suite's workbench (DingTalk 免登 authCode through the JSAPI page,
WeCom's and Feishu's in-app OAuth code), and the org import of DingTalk and Feishu."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

import pytest
from django.urls import reverse

from checklists.models import SuiteLink
from tests.test_suites import USER, suite  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db


def _signed_in_as(client, member) -> bool:
    return int(client.session.get("_auth_user_id", 0)) == member.user_id


def test_dingtalk_s_workbench_page_trades_the_jsapi_authcode_for_a_sign_in(suite, team, client, warehouse_member):  # noqa: F811
    server, app = suite("dingtalk")
    page = client.get(reverse("suite-app", args=[team.slug]), {"next": "/today/"})

    assert page.status_code == 200
    html = page.content.decode()
    assert f'data-corp-id="{app.corp_id}"' in html  # what dd.runtime.permission.requestAuthCode needs
    assert "dingtalk-h5.js" in html
    assert "https://g.alicdn.com" in page["Content-Security-Policy"]  # only this page may load the JSAPI
    state = re.search(r'data-state="([^"]+)"', html).group(1)

    code = server.code_for(USER)  # what the JSAPI's onSuccess hands the page
    response = client.get(reverse("suite-signin", args=[team.slug]), {"state": state, "code": code})

    assert response.status_code == 302
    assert response["Location"] == "/today/"
    assert _signed_in_as(client, warehouse_member)
    (exchange,) = server.calls("/topapi/v2/user/getuserinfo")
    assert exchange.body == {"code": code}
    assert not server.calls("userAccessToken")  # the 免登 code, not the QR login's OAuth exchange


def test_a_dingtalk_authcode_without_the_page_s_state_signs_nobody_in(suite, team, client):  # noqa: F811
    server, _app = suite("dingtalk")
    client.get(reverse("suite-app", args=[team.slug]))
    response = client.get(reverse("suite-signin", args=[team.slug]), {"state": "forged", "code": server.code_for(USER)})
    assert response.status_code == 400
    assert "_auth_user_id" not in client.session
    assert not server.calls("getuserinfo")


def _in_app_redirect(client, server, team) -> dict:
    start = client.get(reverse("suite-app", args=[team.slug]), {"next": "/today/"})
    assert start.status_code == 302
    location = urlparse(start["Location"])
    assert start["Location"].startswith(server.url)
    return {"path": location.path, "fragment": location.fragment, **{k: v[0] for k, v in parse_qs(location.query).items()}}


def test_wecom_s_workbench_signs_in_through_the_in_app_oauth_code(suite, team, client, warehouse_member, settings):  # noqa: F811
    server, app = suite("wecom")
    query = _in_app_redirect(client, server, team)

    # WeCom's in-app page (open.weixin.qq.com), silent inside the client: snsapi_base for the corp's agent.
    assert query["path"] == "/connect/oauth2/authorize"
    assert query["fragment"] == "wechat_redirect"
    assert (query["appid"], query["agentid"], query["scope"]) == (app.corp_id, app.agent_id, "snsapi_base")
    assert query["redirect_uri"] == settings.OPSTEAM_BASE_URL + reverse("suite-signin", args=[team.slug])

    code = server.code_for(USER)
    response = client.get(reverse("suite-signin", args=[team.slug]), {"code": code, "state": query["state"]})

    assert response.status_code == 302
    assert response["Location"] == "/today/"
    assert _signed_in_as(client, warehouse_member)
    (exchange,) = server.calls("/cgi-bin/auth/getuserinfo")
    assert exchange.query["code"] == code
    assert server.calls("/cgi-bin/user/get")[0].query["userid"] == USER


def test_feishu_s_workbench_signs_in_through_the_in_app_oauth_code(suite, team, client, warehouse_member, settings):  # noqa: F811
    server, app = suite("feishu")
    query = _in_app_redirect(client, server, team)

    assert query["path"] == "/open-apis/authen/v1/authorize"
    assert (query["client_id"], query["response_type"]) == (app.app_key, "code")
    signin_uri = settings.OPSTEAM_BASE_URL + reverse("suite-signin", args=[team.slug])
    assert query["redirect_uri"] == signin_uri

    code = server.code_for(USER)
    response = client.get(reverse("suite-signin", args=[team.slug]), {"code": code, "state": query["state"]})

    assert response.status_code == 302
    assert _signed_in_as(client, warehouse_member)
    (exchange,) = server.calls("/open-apis/authen/v2/oauth/token")
    assert exchange.body["code"] == code
    assert exchange.body["grant_type"] == "authorization_code"
    assert exchange.body["redirect_uri"] == signin_uri  # the v2 token endpoint checks it against the authorize call


@pytest.mark.parametrize("kind", ["wecom", "feishu"])
def test_an_in_app_code_for_an_unlinked_suite_user_gets_a_page_not_an_account(kind, suite, team, client):  # noqa: F811
    server, _app = suite(kind, link=False)
    server.users["stranger"] = {"name": "路人"}
    query = _in_app_redirect(client, server, team)
    response = client.get(reverse("suite-signin", args=[team.slug]), {"code": server.code_for("stranger"), "state": query["state"]})
    assert response.status_code == 403
    assert "suite-signin-unlinked" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_member_already_signed_in_goes_straight_in_from_the_workbench(suite, team, client, warehouse_member):  # noqa: F811
    server, _app = suite("wecom")
    client.force_login(warehouse_member.user)
    response = client.get(reverse("suite-app", args=[team.slug]), {"next": "/today/"})
    assert response.status_code == 302
    assert response["Location"] == "/today/"
    assert not server.received


# --- org import -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["dingtalk", "feishu"])
def test_the_org_import_reads_every_department_and_creates_nothing_before_the_director_confirms(
    kind,
    suite,  # noqa: F811
    team,
    client,
    director,
):
    server, app = suite(kind, link=False)
    # A shop's tree: 仓库部 under the root, 客服组 under 仓库部, someone at the root.
    server.departments[3] = ("客服组", 2)
    server.users.update(
        {
            "new-wh": {"name": "新仓库", "mobile": "13700000001", "department": "仓库部"},
            "new-cs": {"name": "新客服", "mobile": "13700000002", "department": "客服组"},
            "boss": {"name": "老板", "mobile": "13700000003"},
        }
    )
    client.force_login(director.user)
    members_before = team.members.count()

    response = client.post(reverse("suite-settings"), {"op": "import_read"})

    assert response.status_code == 302
    assert team.members.count() == members_before
    proposals = {p.suite_user_id: p for p in app.import_proposals.all()}
    assert set(proposals) == {USER, "new-wh", "new-cs", "boss"}
    assert (proposals["new-wh"].department, proposals["new-wh"].role_code) == ("仓库部", "warehouse")
    assert (proposals["new-cs"].department, proposals["new-cs"].role_code) == ("客服组", "service")
    assert proposals["boss"].role_code == ""
    assert proposals["new-cs"].mobile == "13700000002"

    chosen = proposals["new-cs"]
    client.post(reverse("suite-settings"), {"op": "import_confirm", "proposal": [str(chosen.pk)], f"role_{chosen.pk}": "service"})
    assert team.members.count() == members_before + 1
    link = SuiteLink.objects.get(app=app, suite_user_id="new-cs")
    assert link.member.display_name == "新客服"
    assert link.member.roles.filter(code="service").exists()
