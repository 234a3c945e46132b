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


# --- the loader's rule for teams loaded before (issue 19) ------------------------------------------------------------


def _version_1(data: dict) -> dict:
    """The default playbook as v1 had it in one respect: SC-CS-5 in 客服's own list (SC-CS), not in 运营's."""
    import copy

    old = copy.deepcopy(data)
    lists = {row["id"]: row for row in old["checklist_templates"]}
    chats = next(item for item in lists["SC-OPS-PM"]["items"] if item["id"] == "SC-CS-5")
    lists["SC-OPS-PM"]["items"].remove(chats)
    lists["SC-CS"]["items"].append(dict(chats, text="抽查客服聊天记录 10 条,检查服务质量"))
    return old


def _chats(team):
    return dict(TemplateItem.objects.filter(template__team=team, playbook_id="SC-CS-5").values_list("template__role__code", "is_active"))


def test_a_team_loaded_before_gets_a_moved_item_in_its_new_list_and_the_old_one_switched_off(db):
    from checklists.playbook.services import playbook_load
    from opsteam.lib.playbook import playbook_read
    from tests.factories import TeamFactory

    team = TeamFactory(slug="v1-shop")
    playbook_load(team=team, data=_version_1(playbook_read()))
    assert _chats(team) == {"service": True}
    report = playbook_load(team=team)
    assert _chats(team) == {"service": False, "operations": True}
    assert report.retired == {"checklists.TemplateItem": 1}
    again = playbook_load(team=team)  # a second load changes nothing
    assert (again.created, again.updated, again.retired, again.kept) == ({}, {}, {}, {})
    assert _chats(team) == {"service": False, "operations": True}


def test_a_moved_item_an_owner_edited_stays_where_it_is_and_the_director_sees_the_difference(db):
    from checklists.models import PlaybookDifference
    from checklists.playbook.services import playbook_load
    from opsteam.lib.playbook import playbook_read
    from tests.factories import TeamFactory

    team = TeamFactory(slug="v1-edited")
    playbook_load(team=team, data=_version_1(playbook_read()))
    TemplateItem.objects.filter(template__team=team, playbook_id="SC-CS-5").update(target=12)
    playbook_load(team=team)
    assert _chats(team) == {"service": True, "operations": True}
    difference = PlaybookDifference.objects.get(team=team, playbook_id="SC-CS-5")
    assert (difference.model, difference.field, difference.team_value, difference.playbook_value) == (
        "checklists.TemplateItem",
        "is_active",
        "True",
        "False",
    )


def test_an_edited_text_is_kept_and_its_difference_from_the_new_playbook_recorded_once(team):
    from checklists.models import PlaybookDifference
    from checklists.playbook.differences import playbook_difference_list
    from checklists.playbook.services import playbook_load
    from opsteam.lib.playbook import playbook_read

    item = TemplateItem.objects.get(template__team=team, playbook_id="SC-WH-2")
    item.text = "店长改过的文字"
    item.save()
    data = playbook_read()
    newer = {**data, "checklist_templates": [dict(t) for t in data["checklist_templates"]]}
    wh = next(t for t in newer["checklist_templates"] if t["id"] == "SC-WH")
    wh["items"] = [dict(i, text="新版文字") if i["id"] == "SC-WH-2" else i for i in wh["items"]]
    playbook_load(team=team, data=newer)
    item.refresh_from_db()
    assert item.text == "店长改过的文字"
    [difference] = playbook_difference_list(team=team)
    assert (difference.playbook_id, difference.field, difference.team_value, difference.playbook_value) == (
        "SC-WH-2",
        "text",
        "店长改过的文字",
        "新版文字",
    )
    recorded_at = difference.recorded_at
    playbook_load(team=team, data=newer)
    assert PlaybookDifference.objects.get().recorded_at == recorded_at  # nothing written the second time
    item.text = "新版文字"  # the owner takes the playbook's wording: nothing left to show
    item.save()
    playbook_load(team=team, data=newer)
    assert not PlaybookDifference.objects.exists()


def test_a_row_loaded_before_the_loader_wrote_a_new_field_is_not_taken_for_an_edit(team):
    from checklists.playbook.services import playbook_load
    from opsteam.lib.playbook import _checksum

    template = ChecklistTemplate.objects.get(team=team, playbook_id="SC-WH")
    names = ["role", "name", "source", "schedule", "weekdays", "month_day", "interval_weeks", "anchor_date", "generate_at", "due_at"]
    # As a load before lead_only existed stored it, and with a name a newer playbook changes.
    ChecklistTemplate.objects.filter(pk=template.pk).update(
        name="仓库自查(旧)", playbook_checksum=_checksum({name: getattr(template, name) for name in names} | {"name": "仓库自查(旧)"})
    )
    report = playbook_load(team=team)
    template.refresh_from_db()
    assert template.name == "仓库每日自查"
    assert report.updated.get("checklists.ChecklistTemplate") == 1
    assert not report.kept


# --- the remaining rows of v2 (§7.3-7.6) -----------------------------------------------------------------------------


def test_a_duty_the_seeds_give_no_schedule_is_loaded_switched_off_and_a_scheduled_one_on(team):
    from checklists.models import DutyTemplate

    duties = {d.playbook_id: d for d in DutyTemplate.objects.filter(team=team).select_related("role")}
    assert (duties["T-RIVAL"].is_active, duties["T-RIVAL"].role.code) == (False, "operations")  # 无排期
    assert (duties["T-IMG-CHECK"].is_active, duties["T-IMG-CHECK"].note) == (False, "每次商品上架")
    assert (duties["T-CAMP-EVAL"].is_active, duties["T-CAMP-EVAL"].schedule, duties["T-CAMP-EVAL"].month_day) == (True, "monthly", 1)
    assert (duties["T-DELIST"].role.code, duties["A-CONTENT"].role.code, duties["CSA-2"].role.code) == ("promotion", "director", "service")
    assert duties["A-DAILY"].is_active
    assert duties["A-WEEKLY-Q2"].name == "客单价提高而利润率降低,是否好事?"


def test_the_meetings_the_seeds_give_no_schedule_are_called_when_needed_without_approval(team):
    from checklists.models import MeetingSeries

    for playbook_id, chair in (("M-1ON1", "operations"), ("M-TECH", "operations"), ("M-CONTENT", "director")):
        series = MeetingSeries.objects.select_related("chair_role").get(team=team, playbook_id=playbook_id)
        assert (series.cadence, series.needs_approval, series.chair_role.code) == ("on_demand", False, chair), playbook_id


def test_the_team_s_questions_take_their_v2_ids_and_the_answers_given_follow_them(db):
    from checklists.models import ReflectionQuestion, WeeklyReflection
    from checklists.playbook.services import playbook_load
    from opsteam.lib.playbook import playbook_read
    from tests.factories import TeamFactory

    team = TeamFactory(slug="v1-questions")
    data = playbook_read()
    old = {**data, "reflection_questions": [dict(q, id=q["id"].replace("Q-THINK-", "Q-")) for q in data["reflection_questions"]]}
    playbook_load(team=team, data=old)
    first = ReflectionQuestion.objects.get(team=team, playbook_id="Q-1")
    member = member_with_role(team, "warehouse", username="wh_q")
    answers = {"Q-1": "面料认知清楚了", "Q-9": "效率"}
    WeeklyReflection.objects.create(team=team, member=member, week=MONDAY.date(), answers=answers, updated_at=MONDAY)
    playbook_load(team=team)
    first.refresh_from_db()
    assert first.playbook_id == "Q-THINK-1"
    assert first.is_active
    assert WeeklyReflection.objects.get(member=member).answers == {"Q-THINK-1": "面料认知清楚了", "Q-THINK-9": "效率"}
    assert ReflectionQuestion.objects.filter(team=team).count() == 14
