"""Shared fixtures: a team with the default playbook, and its people (owner / teammate / lead / director / outsider)."""

from __future__ import annotations

from datetime import datetime

import pytest
from django.conf import settings
from django.utils import translation

from checklists.playbook.services import playbook_load
from opsteam.lib.clock import business_tz
from tests.factories import TeamFactory, member_with_role

# A normal working Monday, 08:00 in Shanghai.
MONDAY = datetime(2026, 11, 23, 8, 0, tzinfo=business_tz())


@pytest.fixture(autouse=True)
def default_language():
    """Each test starts in the site's language (zh-hans): a request in English must not leak into the next test."""
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture
def robot_server():
    """Start local HTTP servers standing in for DingTalk / WeCom / Feishu robots; stopped after the test."""
    from tests.robot_server import RobotServer

    servers = []

    def start(kind: str) -> RobotServer:
        servers.append(RobotServer(kind=kind).start())
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def team(db):
    team = TeamFactory(slug="shop", name="测试旗舰店")
    playbook_load(team=team)
    return team


@pytest.fixture
def other_team(db):
    team = TeamFactory(slug="other", name="别家店铺")
    playbook_load(team=team)
    return team


@pytest.fixture
def warehouse_member(team):
    return member_with_role(team, "warehouse", username="wh1", display_name="陈仓库")


@pytest.fixture
def warehouse_teammate(team):
    return member_with_role(team, "warehouse", username="wh2", display_name="林仓库")


@pytest.fixture
def warehouse_lead(team):
    return member_with_role(team, "warehouse", lead=True, username="whlead", display_name="冯仓库")


@pytest.fixture
def service_member(team):
    return member_with_role(team, "service", username="cs1", display_name="郑客服")


@pytest.fixture
def operations_member(team):
    return member_with_role(team, "operations", username="op1", display_name="吴运营")


@pytest.fixture
def director(team):
    return member_with_role(team, "director", lead=True, username="boss", display_name="张总监", is_director=True)


@pytest.fixture
def outsider(other_team):
    return member_with_role(other_team, "warehouse", username="outsider", display_name="外人")


@pytest.fixture
def generate(team):
    """Generate the team's lists for MONDAY (or another instant)."""
    from checklists.daily.generation import run_generate_due

    def run(now=MONDAY):
        return run_generate_due(team=team, now=now)

    return run


@pytest.fixture
def frozen():
    """The clock stopped at MONDAY 08:00 Shanghai."""
    import time_machine

    with time_machine.travel(MONDAY, tick=False) as traveller:
        yield traveller
