"""Duties with deadlines: recurring duties, problem orders, campaigns, plans and assigned tasks (issue 4)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import translation

from checklists.duties.campaigns import campaign_create
from checklists.duties.problems import problem_order_close, problem_order_log
from checklists.duties.services import duties_generate_for_date, plan_create, task_assign, task_complete, task_create
from checklists.escalation.raising import escalation_sweep
from checklists.models import (
    Campaign,
    CampaignTemplate,
    DutyTemplate,
    Escalation,
    Notification,
    Plan,
    PlanStatus,
    ProblemOrder,
    Task,
    TaskEvent,
    TaskSource,
    TaskStatus,
)
from opsteam.lib.clock import business_tz
from roles.models import Role
from tests.factories import member_with_role


def at(day: date, hh: int = 8, mm: int = 0) -> datetime:
    return datetime.combine(day, time(hh, mm), tzinfo=business_tz())


MON, TUE, WED, THU, FRI = (date(2026, 11, 23) + timedelta(days=i) for i in range(5))


def generate(team, day: date) -> list[str]:
    """Generate the day's recurring duties at 08:00 and return their playbook IDs."""
    duties_generate_for_date(team=team, day=day, now=at(day))
    return sorted(Task.objects.filter(team=team, date=day, source=TaskSource.RECURRING).values_list("playbook_id", flat=True))


def msg(exc: pytest.ExceptionInfo) -> str:
    return " ".join(exc.value.messages)


@pytest.fixture
def service_lead(team):
    return member_with_role(team, "service", lead=True, username="cslead", display_name="王客服主管")


@pytest.fixture
def designer(team):
    return member_with_role(team, "design", username="art1", display_name="美工小李")


# --- recurring duties ----------------------------------------------------------------------------------


def test_the_restock_sheet_is_due_on_thursdays_only(team):
    days = {day: generate(team, day) for day in (MON, TUE, WED, THU, FRI)}
    assert [day for day, ids in days.items() if "T-RESTOCK" in ids] == [THU]
    restock = Task.objects.get(playbook_id="T-RESTOCK")
    assert (restock.due_at, restock.role.code, restock.owner) == (at(THU, 18), "operations", None)


def test_the_weekly_promotion_has_its_own_title_each_weekday(team):
    for day in (MON, TUE, WED, THU, FRI):
        generate(team, day)
    titles = dict(Task.objects.filter(playbook_id="T-WEEKLY-PROMO").values_list("date", "title"))
    assert titles == {
        MON: "店铺每周固定活动:团购",
        TUE: "店铺每周固定活动:特价",
        WED: "店铺每周固定活动:上新",
        THU: "店铺每周固定活动:免邮",
    }
    assert Task.objects.get(playbook_id="T-WEEKLY-PROMO", date=MON).due_at == at(MON, 12)


def test_content_posts_need_the_target_of_three(team, service_member):
    generate(team, MON)
    posts = Task.objects.get(playbook_id="T-CONTENT", date=MON)
    # 客服's 会员运营 work (000 五; PLAYBOOK v2), not 美工's.
    assert (posts.target, posts.unit, posts.role.code) == (3, "篇", "service")

    with translation.override("en"), pytest.raises(ValidationError) as refused:
        task_complete(task=posts, member=service_member, now=at(MON, 17))
    assert "the target is 3" in msg(refused)
    posts.refresh_from_db()
    assert posts.status == TaskStatus.OPEN

    done = task_complete(task=posts, member=service_member, value="3", now=at(MON, 17))
    assert (done.status, done.value, done.done_by, done.shortfall) == (TaskStatus.DONE, 3, service_member, 0)


def test_title_optimisation_comes_every_second_monday(team):
    mondays = [date(2026, 11, 9), date(2026, 11, 16), date(2026, 11, 23), date(2026, 11, 30), date(2026, 12, 7)]
    assert [day for day in mondays if "T-TITLE" in generate(team, day)] == [date(2026, 11, 9), date(2026, 11, 23), date(2026, 12, 7)]


def test_summaries_come_daily_weekly_on_friday_and_monthly_on_the_first(team):
    assert "T-SUMMARY-DAILY" in generate(team, MON)
    assert "T-SUMMARY-WEEKLY" not in generate(team, THU)
    assert {"T-SUMMARY-DAILY", "T-SUMMARY-WEEKLY"} <= set(generate(team, FRI))
    assert "T-SUMMARY-MONTHLY" in generate(team, date(2026, 12, 1))  # a Tuesday
    assert "T-SUMMARY-MONTHLY" not in generate(team, date(2026, 12, 2))


def test_a_monthly_duty_whose_day_is_off_comes_on_the_next_working_day(team):
    # 1 November 2026 is a Sunday: the month's summary must not be skipped.
    assert generate(team, date(2026, 11, 1)) == []
    assert "T-SUMMARY-MONTHLY" in generate(team, date(2026, 11, 2))
    assert "T-SUMMARY-MONTHLY" not in generate(team, date(2026, 11, 3))
    assert Task.objects.filter(playbook_id="T-SUMMARY-MONTHLY").count() == 1


def test_nothing_is_generated_on_a_holiday(team):
    result = duties_generate_for_date(team=team, day=date(2026, 10, 1), now=at(date(2026, 10, 1)))  # 国庆, a Thursday
    assert not result.workday
    assert not Task.objects.exists()


def test_a_make_up_working_saturday_generates_its_daily_duties(team):
    saturday = date(2026, 10, 10)  # 调休
    # PLAYBOOK v2 adds the daily analysis (A-DAILY), the daily ad plan (T-AD-PLAN) and 每天 watching the campaign
    # venues (T-CAMPAIGN-4).
    assert generate(team, saturday) == ["A-DAILY", "T-AD-PLAN", "T-CAMPAIGN-4", "T-CONTENT", "T-SUMMARY-DAILY"]
    assert generate(team, date(2026, 11, 21)) == []  # an ordinary Saturday


def test_generating_twice_creates_nothing_new(team):
    first = duties_generate_for_date(team=team, day=THU, now=at(THU))
    second = duties_generate_for_date(team=team, day=THU, now=at(THU, 9))
    # restock, promotion, content posts, daily summary; daily analysis, ad plan and T-CAMPAIGN-4 (PLAYBOOK v2)
    assert first.created == Task.objects.count() == 7
    assert second.created == 0


def test_duties_wait_for_their_generation_time(team):
    assert duties_generate_for_date(team=team, day=MON, now=at(MON, 6, 59)).created == 0
    assert duties_generate_for_date(team=team, day=MON, now=at(MON, 7)).created > 0


# --- problem orders (T-24H) ----------------------------------------------------------------------------


def test_a_problem_order_logged_at_10_is_due_at_10_the_next_day(team, service_member):
    problem = problem_order_log(member=service_member, order_no="TB20261123001", kind="refund", note="要退款", now=at(MON, 10))
    assert problem.due_at == at(TUE, 10)
    task = problem.task
    assert (task.due_at, task.role.code, task.owner, task.playbook_id) == (at(TUE, 10), "service", None, "T-24H")


def test_a_problem_order_still_open_escalates_to_the_service_lead_at_10_30_the_next_day(team, service_member, service_lead, director):
    problem = problem_order_log(member=service_member, order_no="TB1", kind="urge", now=at(MON, 10))
    for minute in range(31):
        escalation_sweep(team=team, now=at(TUE, 10, minute))
    lead_level = Escalation.objects.get(task=problem.task, level_order=2)
    assert (lead_level.raised_at, lead_level.recipient) == (at(TUE, 10, 30), service_lead)
    assert Notification.objects.filter(recipient=service_lead, escalations=lead_level, created_at=at(TUE, 10, 30)).count() == 1


def test_a_problem_order_closed_at_9_does_not_escalate(team, service_member, service_lead, director):
    problem = problem_order_log(member=service_member, order_no="TB1", kind="photo", now=at(MON, 10))
    problem_order_close(problem=problem, member=service_member, resolution="已补拍", now=at(TUE, 9))
    for minute in range(0, 181, 5):
        escalation_sweep(team=team, now=at(TUE, 9) + timedelta(minutes=minute))
    assert not Escalation.objects.exists()
    problem.refresh_from_db()
    assert problem.is_on_time
    assert problem.task.status == TaskStatus.DONE


@pytest.mark.parametrize("typed", ["3021 1234 5678", "３０２１１２３４５６７８", " 302112345678 "])
def test_an_order_number_pasted_with_spaces_or_full_width_digits_is_the_same_order(team, service_member, typed):
    problem_order_log(member=service_member, order_no="302112345678", kind="refund", now=at(MON, 10))
    with pytest.raises(ValidationError):
        problem_order_log(member=service_member, order_no=typed, kind="refund", now=at(MON, 11))


@pytest.mark.parametrize("typed", ["订单ABC!!", "3021/12", "x" * 65])
def test_an_order_number_with_other_characters_is_refused_as_the_message_says(team, service_member, typed):
    with translation.override("en"), pytest.raises(ValidationError, match="letters, digits, - or _"):
        problem_order_log(member=service_member, order_no=typed, kind="refund", now=at(MON, 10))


def test_closing_a_problem_order_needs_how_it_was_settled(team, service_member):
    problem = problem_order_log(member=service_member, order_no="TB7", kind="refund", now=at(MON, 10))
    with translation.override("en"), pytest.raises(ValidationError, match="how it was settled"):
        problem_order_close(problem=problem, member=service_member, resolution="  ", now=at(MON, 11))
    problem.refresh_from_db()
    assert problem.closed_at is None


def test_the_same_open_problem_cannot_be_logged_twice(team, service_member):
    problem = problem_order_log(member=service_member, order_no="TB1", kind="refund", now=at(MON, 10))
    with translation.override("en"), pytest.raises(ValidationError) as refused:
        problem_order_log(member=service_member, order_no=" TB1 ", kind="refund", now=at(MON, 10, 1))
    assert "already logged" in msg(refused)
    # Another kind, or the same one once closed, is a new problem.
    problem_order_log(member=service_member, order_no="TB1", kind="photo", now=at(MON, 10, 2))
    problem_order_close(problem=problem, member=service_member, resolution="已退款", now=at(MON, 11))
    problem_order_log(member=service_member, order_no="TB1", kind="refund", now=at(MON, 12))
    assert ProblemOrder.objects.count() == 3


def test_an_order_to_ship_is_the_warehouse_s_duty(team, service_member):
    problem = problem_order_log(member=service_member, order_no="TB9", kind="ship", now=at(MON, 10))
    assert (problem.task.role.code, problem.task.playbook_id, problem.task.source) == ("warehouse", "T-SHIP", TaskSource.SHIPMENT)


# --- campaigns (T-CAMPAIGN) ----------------------------------------------------------------------------


SIGNUP = date(2026, 10, 24)  # 报名日 of 双11 (a Saturday)


def test_a_campaign_has_only_the_steps_the_seed_gives_each_on_its_anchor(team, director):
    template = CampaignTemplate.objects.get(team=team, playbook_id="T-CAMPAIGN")
    campaign = campaign_create(
        member=director, template=template, name="双11", day=date(2026, 11, 11), signup_date=SIGNUP, now=at(date(2026, 10, 5), 9)
    )
    tasks = {t.playbook_id: t for t in campaign.tasks.select_related("role")}
    # T-CAMPAIGN-11 waits for T-CAMPAIGN-10; the 日常 rows are standing duties, not steps.
    assert set(tasks) == {"T-CAMPAIGN-3", "T-CAMPAIGN-6", "T-CAMPAIGN-7", "T-CAMPAIGN-8", "T-CAMPAIGN-9", "T-CAMPAIGN-10"}
    assert {t.role.code for t in tasks.values()} == {"operations"}  # no invented 美工 / 客服 / 仓库 steps
    assert tasks["T-CAMPAIGN-3"].date == date(2026, 10, 23)  # 报名日 is a Saturday -> Friday
    assert "−14" in tasks["T-CAMPAIGN-3"].title or "-14" in tasks["T-CAMPAIGN-3"].title  # the key window 报名日−14…报名日
    assert {tasks[pid].date for pid in ("T-CAMPAIGN-6", "T-CAMPAIGN-7", "T-CAMPAIGN-8")} == {date(2026, 11, 11)}
    assert {tasks[pid].date for pid in ("T-CAMPAIGN-9", "T-CAMPAIGN-10")} == {date(2026, 11, 12)}  # after its last day


def test_t_campaign_11_opens_when_t_campaign_10_is_done(team, director, operations_member):
    template = CampaignTemplate.objects.get(team=team, playbook_id="T-CAMPAIGN")
    campaign = campaign_create(
        member=director, template=template, name="双11", day=date(2026, 11, 11), signup_date=SIGNUP, now=at(date(2026, 10, 5), 9)
    )
    assert not campaign.tasks.filter(playbook_id="T-CAMPAIGN-11").exists()
    task_complete(task=campaign.tasks.get(playbook_id="T-CAMPAIGN-10"), member=operations_member, now=at(date(2026, 11, 13), 10))
    follower = campaign.tasks.get(playbook_id="T-CAMPAIGN-11")
    assert follower.date == date(2026, 11, 16)  # one working day after Friday the 13th
    assert follower.role.code == "operations"


def test_a_campaign_without_a_sign_up_date_is_refused_when_a_step_counts_from_it(team, director):
    template = CampaignTemplate.objects.get(team=team, playbook_id="T-CAMPAIGN")
    with translation.override("en"), pytest.raises(ValidationError) as refused:
        campaign_create(member=director, template=template, name="双11", day=date(2026, 11, 11), now=at(date(2026, 10, 5), 9))
    assert "sign-up date" in msg(refused)
    assert not Campaign.objects.exists()


def test_the_daily_campaign_rows_are_standing_duties_off_until_the_team_schedules_them(team):
    duties = {d.playbook_id: d for d in DutyTemplate.objects.filter(team=team, playbook_id__startswith="T-CAMPAIGN-")}
    assert set(duties) == {"T-CAMPAIGN-1", "T-CAMPAIGN-2", "T-CAMPAIGN-4", "T-CAMPAIGN-5"}
    assert {pid for pid, d in duties.items() if d.is_active} == {"T-CAMPAIGN-4"}  # 每天: the one with a schedule
    assert duties["T-CAMPAIGN-1"].note == "日常"


def test_the_same_campaign_cannot_be_created_twice(team, director):
    template = CampaignTemplate.objects.get(team=team, playbook_id="T-CAMPAIGN")
    campaign_create(member=director, template=template, name="双11", day=date(2026, 11, 11), signup_date=SIGNUP, now=at(date(2026, 10, 5)))
    with translation.override("en"), pytest.raises(ValidationError) as refused:
        campaign_create(
            member=director, template=template, name="双11", day=date(2026, 11, 11), signup_date=SIGNUP, now=at(date(2026, 10, 5))
        )
    assert "already exists" in msg(refused)
    assert Task.objects.filter(source=TaskSource.CAMPAIGN).count() == 6


def test_a_campaign_date_a_year_away_is_refused(team, director):
    template = CampaignTemplate.objects.get(team=team, playbook_id="T-CAMPAIGN")
    with translation.override("en"), pytest.raises(ValidationError) as refused:
        campaign_create(member=director, template=template, name="双11", day=date(2025, 11, 11), now=at(MON))  # a typo for 2026
    assert "within a year" in msg(refused)
    assert not Task.objects.exists()


def test_staff_cannot_create_a_campaign(team, warehouse_member):
    template = CampaignTemplate.objects.get(team=team, playbook_id="T-CAMPAIGN")
    with pytest.raises(PermissionDenied):
        campaign_create(member=warehouse_member, template=template, name="双12", day=date(2026, 12, 12), now=at(MON))


# --- plans (T-PLAN) ------------------------------------------------------------------------------------


def test_a_plan_moves_through_its_seven_stages_one_at_a_time(team, director, warehouse_lead, service_lead):
    plan = plan_create(member=director, title="春季上新方案", proposal="先做两款试水", now=at(MON, 9))

    stage_one = list(plan.tasks.all())
    assert [(t.plan_stage, t.owner) for t in stage_one] == [(1, director)]
    assert stage_one[0].due_at == at(WED, 9)  # two working days

    task_complete(task=stage_one[0], member=director, now=at(MON, 10))
    plan.refresh_from_db()
    assert plan.stage == 2
    stage_two = plan.tasks.filter(plan_stage=2)
    assert sorted((t.role.code, t.owner.display_name) for t in stage_two) == [("service", "王客服主管"), ("warehouse", "冯仓库")]

    # Stage 2 stays open until every lead is done.
    task_complete(task=stage_two.get(owner=warehouse_lead), member=warehouse_lead, now=at(MON, 11))
    plan.refresh_from_db()
    assert plan.stage == 2

    now = at(MON, 12)
    while plan.status == PlanStatus.OPEN:
        for task in plan.tasks.filter(status=TaskStatus.OPEN):
            task_complete(task=task, member=task.owner, now=now)
            now += timedelta(minutes=1)
        plan.refresh_from_db()
        assert now < at(MON, 14), "the plan never finished"

    assert plan.status == PlanStatus.DONE
    assert plan.stage == 7
    assert sorted(set(plan.tasks.values_list("plan_stage", flat=True))) == [1, 2, 3, 4, 5, 6, 7]
    assert Plan.objects.get(pk=plan.pk).tasks.filter(status=TaskStatus.OPEN).count() == 0


def test_a_leads_stage_goes_to_the_director_when_no_role_has_a_lead(team, director, warehouse_member):
    plan = plan_create(member=director, title="小团队的方案", now=at(MON, 9))
    task_complete(task=plan.tasks.get(), member=director, now=at(MON, 10))

    plan.refresh_from_db()
    stage_two = list(plan.tasks.filter(plan_stage=2))
    # Nobody but the director leads anything: the stage is theirs, so the plan does not wait for ever.
    assert [(t.owner, t.status) for t in stage_two] == [(director, TaskStatus.OPEN)]


def test_only_the_director_starts_a_plan(team, warehouse_lead):
    with pytest.raises(PermissionDenied):
        plan_create(member=warehouse_lead, title="方案", now=at(MON))


# --- ad-hoc duties -------------------------------------------------------------------------------------


def test_a_lead_assigns_a_duty_to_a_member_of_their_role(team, warehouse_lead, warehouse_member):
    task = task_assign(member=warehouse_lead, owner=warehouse_member, title="盘点库存", due_at=at(MON, 17), now=at(MON, 9))
    assert (task.owner, task.assignee, task.created_by, task.source) == (
        warehouse_member,
        warehouse_member,
        warehouse_lead,
        TaskSource.ADHOC,
    )
    assert TaskEvent.objects.filter(task=task, action="create", actor=warehouse_lead).count() == 1


def test_a_lead_cannot_assign_to_another_role_s_member(team, warehouse_lead, service_member):
    with pytest.raises(PermissionDenied):
        task_assign(member=warehouse_lead, owner=service_member, title="盘点库存", due_at=at(MON, 17), now=at(MON, 9))
    with pytest.raises(PermissionDenied):
        task_assign(
            member=warehouse_lead, role=Role.objects.get(team=team, code="service"), title="盘点", due_at=at(MON, 17), now=at(MON, 9)
        )
    assert not Task.objects.exists()


def test_staff_cannot_assign_duties(team, warehouse_member, warehouse_teammate):
    with pytest.raises(PermissionDenied):
        task_assign(member=warehouse_member, owner=warehouse_teammate, title="帮我打包", due_at=at(MON, 17), now=at(MON, 9))


def test_the_director_assigns_to_anyone_in_the_team(team, director, service_member):
    task = task_assign(member=director, owner=service_member, title="回访差评客户", due_at=at(MON, 17), now=at(MON, 9))
    assert task.owner == service_member


def test_completing_a_duty_twice_records_one_event(team, warehouse_lead, warehouse_member):
    task = task_assign(member=warehouse_lead, owner=warehouse_member, title="盘点库存", due_at=at(MON, 17), now=at(MON, 9))
    first = task_complete(task=task, member=warehouse_member, note="完成", now=at(MON, 15), ip="10.0.0.5")
    second = task_complete(task=task, member=warehouse_member, note="又点了一次", now=at(MON, 16))
    assert (second.status, second.done_at, second.note) == (TaskStatus.DONE, first.done_at, "完成")
    events = TaskEvent.objects.filter(task=task, action="complete")
    assert [(e.actor, e.at, e.ip) for e in events] == [(warehouse_member, at(MON, 15), "10.0.0.5")]


def test_the_member_covering_the_owner_may_complete_the_duty_they_are_reminded_of(team, warehouse_lead, warehouse_member, service_member):
    from roles.services import cover_create

    task = task_assign(member=warehouse_lead, owner=warehouse_member, title="盘点库存", due_at=at(MON, 17), now=at(MON, 7))
    # Called in sick after the duty was made: the reminder goes to the cover, who must be able to close it.
    cover_create(absent=warehouse_member, cover=service_member, start_date=MON, end_date=MON)

    done = task_complete(task=task, member=service_member, now=at(MON, 15))

    assert (done.status, done.done_by) == (TaskStatus.DONE, service_member)


def test_someone_else_cannot_complete_a_member_s_duty(team, warehouse_lead, warehouse_member, service_member):
    task = task_assign(member=warehouse_lead, owner=warehouse_member, title="盘点库存", due_at=at(MON, 17), now=at(MON, 9))
    with pytest.raises(PermissionDenied):
        task_complete(task=task, member=service_member, now=at(MON, 15))


def test_a_duty_due_in_2062_is_refused(team, director, warehouse_member):
    with translation.override("en"), pytest.raises(ValidationError) as refused:
        task_assign(
            member=director, owner=warehouse_member, title="盘点", due_at=datetime(2062, 11, 23, 17, tzinfo=business_tz()), now=at(MON)
        )
    assert "too far ahead" in msg(refused)
    with pytest.raises(ValidationError):
        task_create(
            team=team,
            title="盘点",
            due_at=datetime(2062, 1, 1, tzinfo=business_tz()),
            source=TaskSource.ADHOC,
            now=at(MON),
            owner=warehouse_member,
        )
    assert not Task.objects.exists()


def test_a_duty_due_in_the_past_is_refused(team, director, warehouse_member):
    with translation.override("en"), pytest.raises(ValidationError) as refused:
        task_assign(member=director, owner=warehouse_member, title="盘点", due_at=at(MON) - timedelta(days=3), now=at(MON))
    assert "in the past" in msg(refused)
