"""PLAYBOOK v2 (issue 19): every row of the handbook as data, with the role and the schedule it gives."""

from __future__ import annotations

from checklists.models import Checklist, ChecklistTemplate, TemplateItem
from roles.models import Responsibility
from tests.conftest import MONDAY
from tests.factories import member_with_role


def _responsibility(team, playbook_id):
    return Responsibility.objects.select_related("role").get(team=team, playbook_id=playbook_id)


def test_the_responsibilities_of_each_role_are_rows_with_their_role_and_schedule(team):
    assert _responsibility(team, "R-DIR-9").role.code == "director"
    assert _responsibility(team, "R-DIR-9").schedule == "出现问题时"
    assert _responsibility(team, "R-DIR-1").schedule == ""  # 无排期
    pre = _responsibility(team, "R-CS-PRE-1")
    assert (pre.role.code, pre.heading, pre.text, pre.schedule) == ("service", "售前", "回答问题(熟悉产品)", "每日")
    assert _responsibility(team, "R-PRO-9").text == "QQ群的建立"
    assert _responsibility(team, "R-OPS-5").text == "推广计划"
    assert _responsibility(team, "R-OPS-12").text == "制定网络推广方案"
    assert _responsibility(team, "R-OPS-9").text == "跟踪网店平台运营规则、市场环境和竞争对手,及时调整网店的运营"


def test_rows_the_seeds_give_to_the_whole_team_or_to_no_role_have_no_role(team):
    for playbook_id in ("R-TEAM-1", "R-MKT-5", "R-PHOTO-3", "R-LEVEL"):
        assert _responsibility(team, playbook_id).role is None, playbook_id
    assert _responsibility(team, "R-PHOTO-1").heading == "基本拍照"  # its own heading, not 美工's


def test_responsibility_texts_leave_out_the_playbook_s_notes(team):
    assert _responsibility(team, "R-DIR-7").text == "内容分析后写出报告"  # (A-CONTENT) is a cross-reference
    assert _responsibility(team, "R-LEVEL").text == "岗位:总监、运营专员、运营助理"


def test_the_director_has_a_daily_list_of_their_own(team):
    template = ChecklistTemplate.objects.get(team=team, playbook_id="SC-DIR")
    assert template.role.code == "director"
    items = list(template.items.order_by("order").values_list("playbook_id", flat=True))
    assert items == ["SC-DIR-1", "SC-DIR-2"]


def test_the_service_lead_s_record_goes_to_the_lead_alone(team, generate):
    lead = member_with_role(team, "service", lead=True, username="cs_lead")
    agent = member_with_role(team, "service", username="cs_agent")
    generate()
    lead_lists = set(Checklist.objects.filter(member=lead, date=MONDAY.date()).values_list("template__playbook_id", flat=True))
    agent_lists = set(Checklist.objects.filter(member=agent, date=MONDAY.date()).values_list("template__playbook_id", flat=True))
    assert lead_lists == {"SC-CS", "SC-CS-LEAD"}
    assert agent_lists == {"SC-CS"}


def test_the_new_self_checks_of_version_2_sit_in_their_role_s_list(team):
    where = dict(TemplateItem.objects.filter(template__team=team).values_list("playbook_id", "template__role__code"))
    assert where["SC-OPS-13"] == "operations"
    assert where["SC-PRO-8"] == "promotion"
    assert where["SC-CS-7"] == "service"


def test_the_items_that_check_another_role_s_work_are_operations_items(team):
    """PLAYBOOK v2: SC-CS-5, SC-CS-6 and SC-WH-4 sit in 运营's list in 001 (运营 checks 客服's chats, sees to problem
    orders, contacts the warehouse); no 客服 or 仓库 list carries them."""
    for playbook_id in ("SC-CS-5", "SC-CS-6", "SC-WH-4"):
        roles = set(
            TemplateItem.objects.filter(template__team=team, playbook_id=playbook_id).values_list("template__role__code", flat=True)
        )
        assert roles == {"operations"}, playbook_id
    chats = TemplateItem.objects.get(template__team=team, playbook_id="SC-CS-5")
    assert (chats.kind, chats.target) == ("count", 10)


def test_the_daily_posts_are_customer_service_work(team):
    from checklists.models import DutyTemplate

    assert DutyTemplate.objects.get(team=team, playbook_id="T-CONTENT").role.code == "service"  # 会员运营 (000 五)
