"""Group robots are only ever called on their vendor's own host (SSRF), and the page says plainly what happened.

The suites' settings also allow the local stand-in server (http://127.0.0.1:*); tests of the rule itself run
with the vendor-only value every deployment gets (`VENDOR_ONLY`).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import urllib.error
from pathlib import Path
from unittest import mock

import pytest
from django.contrib.admin.sites import site as admin_site
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.test import override_settings
from django.utils import translation

from checklists.models import Delivery, Robot, RobotSend
from checklists.notify.flush import deliveries_flush
from checklists.notify.robots import RobotRequest, robot_post
from checklists.notify.services import notification_create
from opsteam.lib.env import env_origins_by_key, origin_parse
from opsteam.settings import base
from tests.conftest import MONDAY

ROOT = Path(__file__).resolve().parent.parent
VENDOR_ONLY = override_settings(OPSTEAM_ROBOT_HOSTS=base.OPSTEAM_ROBOT_HOSTS)
KINDS = {"dingtalk", "wecom", "feishu"}


@pytest.fixture
def english(client, director, settings):
    """The director's page in English, in a shop whose language is English (a send's reason is stored in it)."""
    settings.LANGUAGE_CODE = "en"
    client.force_login(director.user)
    with translation.override("en"):
        yield client


def add_robot(client, **fields):
    data = {"kind": "dingtalk", "name": "运营群", "webhook_url": "", "secret": "", "is_active": "on", **fields}
    return client.post("/robots/", data, HTTP_ACCEPT_LANGUAGE="en")


def old_robot(team, url, *, kind="dingtalk") -> Robot:
    """A robot stored before addresses were checked: objects.create() skips full_clean()."""
    return Robot.objects.create(team=team, kind=kind, name="旧群", webhook_url=url, rate_per_minute=20)


def notify(member):
    return notification_create(
        team=member.team,
        recipient=member,
        kind="escalation",
        title="补货表未交",
        body="已超时",
        url="/today/",
        not_before=MONDAY,
        now=MONDAY,
    )


def press_test_button(client, robot) -> str:
    return client.post(f"/robots/{robot.pk}/test/", HTTP_HX_REQUEST="true", HTTP_ACCEPT_LANGUAGE="en").content.decode()


# --- the address rule ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "url"),
    [
        ("dingtalk", "https://oapi.dingtalk.com/robot/send?access_token=abc"),
        ("dingtalk", "https://OAPI.dingtalk.com:443/robot/send?access_token=abc"),
        ("wecom", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc"),
        ("feishu", "https://open.feishu.cn/open-apis/bot/v2/hook/abc"),
        ("feishu", "https://open.larksuite.com/open-apis/bot/v2/hook/abc"),
    ],
)
def test_a_vendors_own_https_webhook_is_accepted(english, team, kind, url):
    with VENDOR_ONLY:
        assert add_robot(english, kind=kind, webhook_url=url).status_code == 302
    assert Robot.objects.get(team=team).webhook_url == url


@pytest.mark.parametrize(
    ("kind", "url"),
    [
        ("dingtalk", "http://127.0.0.1:8123/admin/"),  # the QA case
        ("dingtalk", "http://oapi.dingtalk.com/robot/send?access_token=abc"),  # not https
        ("dingtalk", "https://oapi.dingtalk.com:8443/robot/send?access_token=abc"),  # another port
        ("dingtalk", "https://oapi.dingtalk.com.example.com/robot/send"),
        ("dingtalk", "https://oapi.dingtalk.com@127.0.0.1/robot/send"),
        ("dingtalk", "https://user:pw@oapi.dingtalk.com/robot/send"),
        ("dingtalk", "https://10.0.0.5/robot/send"),
        ("dingtalk", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc"),  # another vendor's host
        ("wecom", "https://oapi.dingtalk.com/robot/send?access_token=abc"),
        ("feishu", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc"),
    ],
)
def test_a_webhook_off_the_vendors_host_is_refused_with_the_expected_address(english, team, kind, url):
    with VENDOR_ONLY:
        response = add_robot(english, kind=kind, webhook_url=url)
    assert response.status_code == 400
    assert not Robot.objects.exists()
    expected = {
        "dingtalk": "https://oapi.dingtalk.com/robot/send?access_token=…",
        "wecom": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…",
        "feishu": "https://open.feishu.cn/open-apis/bot/v2/hook/… / https://open.larksuite.com/open-apis/bot/v2/hook/…",
    }[kind]
    assert f"It must look like {expected}" in response.content.decode()


def test_the_refusal_is_worded_in_the_directors_language(client, director):
    client.force_login(director.user)
    with VENDOR_ONLY, translation.override("en"):
        Robot(team=director.team, kind="wecom", name="x", webhook_url="https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=a").full_clean()
        with pytest.raises(ValidationError) as refused:
            Robot(team=director.team, kind="wecom", name="x", webhook_url="http://127.0.0.1:8123/admin/").full_clean()
    assert refused.value.message_dict["webhook_url"][0].startswith("This is not a WeCom webhook address.")


def test_the_admin_refuses_an_address_off_the_vendors_host(rf, team):
    from django.contrib.auth import get_user_model

    admin_user = get_user_model().objects.create_superuser("root", "root@example.com", "pw")
    request = rf.post("/admin/checklists/robot/add/")
    request.user = admin_user
    form_class = admin_site._registry[Robot].get_form(request)
    data = {"team": team.pk, "kind": "dingtalk", "name": "x", "webhook_url": "http://127.0.0.1:8123/admin/", "rate_per_minute": 20}
    with VENDOR_ONLY:
        form = form_class(data)
        assert not form.is_valid()
    assert "webhook_url" in form.errors
    good = {**data, "webhook_url": "https://oapi.dingtalk.com/robot/send?access_token=a", "is_active": "on"}
    with VENDOR_ONLY:
        assert form_class(good).is_valid()


def test_editing_a_robot_onto_an_internal_address_is_refused(english, team):
    robot = Robot.objects.create(team=team, kind="dingtalk", name="群", webhook_url="https://oapi.dingtalk.com/robot/send?access_token=a")
    with VENDOR_ONLY:
        response = english.post(
            f"/robots/{robot.pk}/",
            {"kind": "dingtalk", "name": "群", "webhook_url": "http://169.254.169.254/latest/meta-data/", "rate_per_minute": 20},
            HTTP_ACCEPT_LANGUAGE="en",
        )
    assert response.status_code == 400
    robot.refresh_from_db()
    assert robot.webhook_url == "https://oapi.dingtalk.com/robot/send?access_token=a"


# --- at send time: rows saved before the rule ----------------------------------------------------------


def test_a_robot_saved_before_the_rule_is_never_called_and_the_delivery_records_why(team, warehouse_member, robot_server):
    server = robot_server("dingtalk")
    old_robot(team, server.url)
    notify(warehouse_member)
    with VENDOR_ONLY:
        deliveries_flush(now=MONDAY)
    assert server.received == []
    delivery = Delivery.objects.get(channel="robot")
    # No retry can make the address allowed: failed at once, without using the robot's sends for the minute.
    assert (delivery.status, delivery.error_code) == ("failed", "address")
    assert "https://oapi.dingtalk.com/robot/send?access_token=…" in delivery.error
    assert not RobotSend.objects.exists()


def test_the_test_button_refuses_an_old_robots_address_without_calling_it(english, team, robot_server):
    server = robot_server("dingtalk")
    robot = old_robot(team, server.url)
    with VENDOR_ONLY:
        page = press_test_button(english, robot)
    assert 'data-testid="test-result-refused"' in page
    assert "It must look like https://oapi.dingtalk.com/robot/send?access_token=…" in page
    assert server.received == []
    assert not RobotSend.objects.exists()  # the robot's minute is not spent on a call that cannot happen


def test_the_sender_checks_the_final_address_too():
    with VENDOR_ONLY:
        result = robot_post(kind="wecom", request=RobotRequest(url="http://127.0.0.1:9/hook", payload={}))
    assert (result.ok, result.error_code) == (False, "address")


def test_a_redirect_is_not_followed(english, team, robot_server):
    server, elsewhere = robot_server("dingtalk"), robot_server("dingtalk")
    server.fail_next(302, b"", headers={"Location": elsewhere.url})
    robot = old_robot(team, server.url)
    page = press_test_button(english, robot)
    assert elsewhere.received == []
    assert "(HTTP 302)" in page


# --- what the page shows ----------------------------------------------------------------------------------


def test_the_robots_reply_body_is_never_shown(english, team, director, warehouse_member, robot_server):
    server = robot_server("dingtalk")
    robot = old_robot(team, server.url)
    secret_page = b"<html><h1>Django administration</h1><p>internal-secret-token</p></html>"
    server.fail_next(404, secret_page)
    page = press_test_button(english, robot)
    assert "internal-secret-token" not in page
    assert "server refused the message (HTTP 404)." in page
    server.fail_next(200, secret_page)
    notify(warehouse_member)
    deliveries_flush(now=MONDAY)
    assert Delivery.objects.get(channel="robot").error == ""
    assert "internal-secret-token" not in english.get("/robots/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert not RobotSend.objects.filter(error__contains="internal-secret-token").exists()


@pytest.mark.parametrize(
    ("kind", "answer", "shown"),
    [
        ("dingtalk", {"errcode": 310000, "errmsg": "sign not match", "extra": "<b>x</b>"}, "(code 310000): sign not match"),
        ("feishu", {"code": 19021, "msg": "sign match fail or timestamp is not within one hour from current time"}, "(code 19021)"),
        ("wecom", {"errcode": 93000, "errmsg": {"nested": "not a message"}}, "The robot refused the message (code 93000)."),
    ],
)
def test_a_refusal_shows_the_vendors_code_and_message_only(english, team, robot_server, kind, answer, shown):
    server = robot_server(kind)
    robot = old_robot(team, server.url, kind=kind)
    server.fail_next(200, answer)
    page = press_test_button(english, robot)
    assert 'data-reason="refused"' in page
    assert shown in page
    assert "extra" not in page
    assert "nested" not in page


def test_an_unresolvable_host_says_the_robot_was_not_reached_without_errno_text(english, team, robot_server):
    robot = old_robot(team, robot_server("dingtalk").url)
    lookup_failed = urllib.error.URLError(socket.gaierror(-2, "Name or service not known"))
    with mock.patch("checklists.notify.robots._opener.open", side_effect=lookup_failed):
        page = press_test_button(english, robot)
    assert 'data-reason="network"' in page
    assert "Could not reach the robot (network): the address&#x27;s host name does not resolve." in page
    assert "refused" not in page
    assert "Errno" not in page
    assert "Name or service" not in page
    assert RobotSend.objects.get().error_code == "network"


def test_a_closed_port_says_the_connection_was_refused(english, team, robot_server):
    server = robot_server("wecom")
    robot = old_robot(team, server.url, kind="wecom")
    server.stop()
    page = press_test_button(english, robot)
    assert "Could not reach the robot (network): the connection was refused." in page


def test_a_silent_robot_says_there_was_no_answer(english, team, robot_server):
    robot = old_robot(team, robot_server("feishu").url, kind="feishu")
    with mock.patch("checklists.notify.robots._opener.open", side_effect=TimeoutError("timed out")):
        page = press_test_button(english, robot)
    assert "Could not reach the robot (network): no answer within 5 seconds." in page


def test_without_htmx_the_result_comes_back_as_a_message(english, team, robot_server):
    robot = old_robot(team, robot_server("dingtalk").url)
    with mock.patch("checklists.notify.robots._opener.open", side_effect=urllib.error.URLError(socket.gaierror(-2, "x"))):
        page = english.post(f"/robots/{robot.pk}/test/", follow=True, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Could not reach the robot (network)" in page
    assert "Errno" not in page


# --- messages per minute ----------------------------------------------------------------------------------


def test_the_add_form_does_not_require_messages_per_minute(english):
    page = english.get("/robots/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    (field,) = [tag for tag in page.split("<input")[1:] if 'name="rate_per_minute"' in tag]
    assert " required" not in field.split(">")[0]


@pytest.mark.parametrize(
    ("kind", "url", "rate"),
    [
        ("dingtalk", "https://oapi.dingtalk.com/robot/send?access_token=a", 20),
        ("wecom", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=a", 20),
        ("feishu", "https://open.feishu.cn/open-apis/bot/v2/hook/a", 100),
    ],
)
def test_an_empty_messages_per_minute_is_the_vendors_limit(english, team, kind, url, rate):
    assert add_robot(english, kind=kind, webhook_url=url, rate_per_minute="").status_code == 302
    robot = Robot.objects.get(team=team)
    assert robot.rate_per_minute == rate
    assert f'value="{rate}"' in english.get(f"/robots/{robot.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()


def test_a_chosen_messages_per_minute_is_kept(english, team):
    add_robot(english, kind="feishu", webhook_url="https://open.feishu.cn/open-apis/bot/v2/hook/a", rate_per_minute="30")
    assert Robot.objects.get(team=team).rate_per_minute == 30


# --- the setting --------------------------------------------------------------------------------------------


def test_the_default_setting_allows_only_the_vendors_over_https():
    hosts = {kind: [str(origin) for origin in origins] for kind, origins in base.OPSTEAM_ROBOT_HOSTS.items()}
    assert hosts == {
        "dingtalk": ["https://oapi.dingtalk.com"],
        "wecom": ["https://qyapi.weixin.qq.com"],
        "feishu": ["https://open.feishu.cn", "https://open.larksuite.com"],
    }


def test_the_setting_reads_kinds_hosts_schemes_and_ports(monkeypatch):
    monkeypatch.setenv("X_ROBOT_HOSTS", "dingtalk=oapi.dingtalk.com, wecom=http://127.0.0.1:*,feishu=https://open.feishu.cn:8443")
    hosts = env_origins_by_key("X_ROBOT_HOSTS", "", keys=KINDS)
    (wecom,) = hosts["wecom"]
    assert wecom.admits("http://127.0.0.1:50123/hook")
    assert not wecom.admits("https://127.0.0.1:50123/hook")
    (feishu,) = hosts["feishu"]
    assert feishu.admits("https://open.feishu.cn:8443/x")
    assert not feishu.admits("https://open.feishu.cn/x")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("dingtalk=oapi.dingtalk.com", "lists no host for: feishu, wecom"),
        ("dingtalk=oapi.dingtalk.com,wecom=qyapi.weixin.qq.com,slack=hooks.slack.com", "not <kind>=<host>"),
        ("oapi.dingtalk.com,wecom=qyapi.weixin.qq.com,feishu=open.feishu.cn", "not <kind>=<host>"),
        ("dingtalk=ftp://oapi.dingtalk.com,wecom=qyapi.weixin.qq.com,feishu=open.feishu.cn", "is not a host name"),
        ("dingtalk=https://oapi.dingtalk.com/robot,wecom=qyapi.weixin.qq.com,feishu=open.feishu.cn", "is not a host name"),
        ("dingtalk=oapi.dingtalk.com:99999,wecom=qyapi.weixin.qq.com,feishu=open.feishu.cn", "no valid port"),
    ],
)
def test_a_malformed_setting_raises_a_clear_message(monkeypatch, value, message):
    monkeypatch.setenv("X_ROBOT_HOSTS", value)
    with pytest.raises(ImproperlyConfigured, match=message):
        env_origins_by_key("X_ROBOT_HOSTS", "", keys=KINDS)


def test_start_up_stops_on_a_malformed_robot_hosts_setting():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "opsteam.settings.dev", "OPSTEAM_ROBOT_HOSTS": "dingtalk=127.0.0.1:*/admin"}
    out = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert out.returncode != 0
    assert "OPSTEAM_ROBOT_HOSTS" in out.stderr


def test_an_origin_prints_as_it_is_written():
    assert str(origin_parse("X", "oapi.dingtalk.com")) == "https://oapi.dingtalk.com"
    assert str(origin_parse("X", "http://127.0.0.1:*")) == "http://127.0.0.1:*"
