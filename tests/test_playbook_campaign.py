"""PLAYBOOK v2 T-CAMPAIGN-1…11 (issue 19): a campaign has a sign-up date (报名日) besides its days; v1's invented steps go."""

from __future__ import annotations

import copy
from datetime import date

from checklists.duties.campaigns import campaign_create
from checklists.models import Campaign, CampaignStep, CampaignTemplate, Task
from checklists.playbook.services import playbook_load
from opsteam.lib.playbook import playbook_read
from tests.conftest import MONDAY
from tests.factories import TeamFactory, member_with_role
from tests.test_api_duties import client_for

V1_STEPS = [
    {"id": "T-CAMPAIGN-1", "phase": "before", "offset": -14, "role": "operations", "title": "关注新活动和规则变化,确认报名条件"},
    {"id": "T-CAMPAIGN-3", "phase": "before", "offset": -7, "role": "design", "title": "活动页面和主图准备完毕"},
    {"id": "T-CAMPAIGN-4", "phase": "before", "offset": -3, "role": "service", "title": "客服熟悉活动规则、优惠和赠品,准备快捷回复"},
    {"id": "T-CAMPAIGN-5", "phase": "before", "offset": -1, "role": "warehouse", "title": "备货和包装物料到位"},
]


def _version_1(data: dict) -> dict:
    """The default playbook as v1 had T-CAMPAIGN: steps counted from the campaign date, 美工 / 客服 / 仓库 ones invented."""
    old = copy.deepcopy(data)
    old["duties"] = [row for row in old["duties"] if not row["id"].startswith("T-CAMPAIGN-")]
    campaign = next(row for row in old["duties"] if row["id"] == "T-CAMPAIGN")
    campaign["steps"] = copy.deepcopy(V1_STEPS)
    return old


def test_the_api_refuses_a_campaign_without_a_sign_up_date_with_a_clear_400(team, frozen):
    director = member_with_role(team, "director", username="dir_c", is_director=True)
    response = client_for(director).post("/api/v1/campaigns/", {"name": "双12", "date": "2026-12-12"}, format="json")
    assert response.status_code == 400
    assert "signup_date" in response.json()
    assert not Campaign.objects.exists()


def test_the_campaign_form_takes_the_sign_up_date(client, team, frozen):
    director = member_with_role(team, "director", username="dir_f", is_director=True)
    client.force_login(director.user)
    response = client.post("/campaigns/", {"name": "双12", "date": "2026-12-12", "signup_date": "2026-12-01"})
    assert response.status_code == 302
    assert Campaign.objects.get(name="双12").signup_date == date(2026, 12, 1)
    missing = client.post("/campaigns/", {"name": "年货节", "date": "2026-12-20"})
    assert missing.status_code == 400
    assert "signup_date" in missing.context["error_fields"]


def test_a_team_loaded_before_loses_the_invented_steps_and_its_campaigns_keep_their_duties(db):
    team = TeamFactory(slug="v1-campaign")
    playbook_load(team=team, data=_version_1(playbook_read()))
    director = member_with_role(team, "director", username="dir_v1", is_director=True)
    template = CampaignTemplate.objects.get(team=team, playbook_id="T-CAMPAIGN")
    old = campaign_create(member=director, template=template, name="双11", day=date(2026, 12, 11), now=MONDAY)
    before = sorted(old.tasks.values_list("playbook_id", "role__code"))
    assert ("T-CAMPAIGN-5", "warehouse") in before
    playbook_load(team=team)
    steps = dict(CampaignStep.objects.filter(template=template).values_list("playbook_id", "role__code"))
    assert set(steps) == {"T-CAMPAIGN-3", "T-CAMPAIGN-6", "T-CAMPAIGN-7", "T-CAMPAIGN-8", "T-CAMPAIGN-9", "T-CAMPAIGN-10", "T-CAMPAIGN-11"}
    assert set(steps.values()) == {"operations"}
    assert sorted(Task.objects.filter(campaign=old).values_list("playbook_id", "role__code")) == before


def test_an_invented_step_the_team_edited_is_kept(db):
    team = TeamFactory(slug="v1-campaign-edited")
    playbook_load(team=team, data=_version_1(playbook_read()))
    CampaignStep.objects.filter(template__team=team, playbook_id="T-CAMPAIGN-5").update(title="我们自己的备货")
    playbook_load(team=team)
    assert CampaignStep.objects.filter(template__team=team, playbook_id="T-CAMPAIGN-5").exists()
    assert not CampaignStep.objects.filter(template__team=team, playbook_id="T-CAMPAIGN-4").exists()
