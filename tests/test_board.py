"""The director's board: access, completion by role and person, drill-down, export, the API, and a fixed query count."""

from __future__ import annotations

import io
import uuid
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from checklists.board.export import cell
from checklists.board.selectors import board_get, board_scope
from checklists.duties.models import ProblemOrder, Task, TaskStatus
from checklists.escalation.models import Escalation, EscalationLevel, EscalationPolicy
from checklists.models import Checklist, ChecklistItem, ItemStatus
from roles.models import Member, MemberRole, Metric, MetricEntry, Role, Target, Team
from roles.services.kpi import entry_save, target_set
from tests.conftest import MONDAY
from tests.factories import PASSWORD

DAY = date(2026, 11, 23)
EVENING = MONDAY.replace(hour=20)


@pytest.fixture
def day_lists(team, generate, warehouse_member, warehouse_teammate, warehouse_lead, service_member, director):
    """MONDAY's lists; 陈仓库 ticked one item after its due time, 林仓库 ticked everything on time."""
    generate(MONDAY)
    late_item = ChecklistItem.objects.filter(checklist__member=warehouse_member, is_group=False).order_by("order").first()
    late_item.status, late_item.done_at = ItemStatus.DONE, late_item.due_at + timedelta(hours=1)
    late_item.save()
    on_time = ChecklistItem.objects.filter(checklist__member=warehouse_teammate, is_group=False)
    for item in on_time:
        item.status, item.done_at = ItemStatus.DONE, item.due_at - timedelta(hours=1)
        item.save()
    return late_item


def _login(client, member: Member) -> None:
    assert client.login(username=member.user.username, password=PASSWORD)


def _person(board, member: Member):
    return next(p for r in board.roles for p in r.people if p.member_id == member.pk)


# --- access ------------------------------------------------------------------------------------------------------


def test_the_director_sees_the_whole_team_with_the_late_member_highlighted(client, day_lists, director, warehouse_member):
    _login(client, director)
    response = client.get("/board/", {"date": "2026-11-23"})
    assert response.status_code == 200
    html = response.content.decode()
    assert f'class="person behind" data-testid="person-{warehouse_member.pk}"' in html
    assert "仓库" in html
    assert "客服" in html


def test_a_staff_member_gets_403_on_the_board_and_its_api(client, day_lists, warehouse_member):
    _login(client, warehouse_member)
    assert client.get("/board/").status_code == 403
    assert client.get("/board/items/").status_code == 403
    assert client.get("/board/export.xlsx").status_code == 403
    assert client.get("/api/v1/board/").status_code == 403
    assert client.get("/api/v1/kpi/scorecard/").status_code == 403


def test_a_role_lead_sees_only_their_role(client, team, day_lists, warehouse_lead, service_member):
    _login(client, warehouse_lead)
    response = client.get("/api/v1/board/", {"date": "2026-11-23"})
    assert response.status_code == 200
    assert [r["name"] for r in response.json()["roles"]] == ["仓库"]
    service = Role.objects.get(team=team, code="service")
    assert client.get("/board/", {"role": service.pk}).status_code == 404
    assert client.get("/board/items/", {"date": "2026-11-23", "member": service_member.pk}).content.count(b'class="item item-row"') == 0


def test_someone_from_another_team_cannot_reach_this_teams_role_or_member(client, team, day_lists, outsider, warehouse_member):
    outsider.is_director = True
    outsider.save()
    _login(client, outsider)
    role = Role.objects.get(team=team, code="warehouse")
    assert client.get("/board/", {"role": role.pk}).status_code == 404
    assert client.get("/board/items/", {"member": warehouse_member.pk}).status_code == 404
    assert client.get("/api/v1/board/", {"role": role.pk}).status_code == 404


def test_a_login_without_a_team_gets_403_and_anonymous_goes_to_login(client, db):
    assert client.get("/board/").status_code == 302
    get_user_model().objects.create_user(username="loner", password=PASSWORD)
    client.login(username="loner", password=PASSWORD)
    assert client.get("/board/").status_code == 403


# --- completion --------------------------------------------------------------------------------------------------


def test_completion_counts_done_late_and_missed_per_person(day_lists, director, warehouse_member, warehouse_teammate):
    board = board_get(scope=board_scope(viewer=director), day=DAY, now=EVENING)
    late = _person(board, warehouse_member).completion
    assert (late.done, late.late) == (1, 1)
    assert late.missed == late.total - 1  # everything else is open past its due time at 20:00
    assert late.is_behind
    teammate = _person(board, warehouse_teammate).completion
    assert teammate.percent == 100
    assert not teammate.is_behind


def test_before_the_due_time_open_items_are_not_missed(day_lists, director, warehouse_member):
    board = board_get(scope=board_scope(viewer=director), day=DAY, now=MONDAY)
    assert _person(board, warehouse_member).completion.missed == 0


def test_the_late_count_drills_down_to_the_late_item(client, day_lists, director, warehouse_member):
    _login(client, director)
    response = client.get("/board/items/", {"date": "2026-11-23", "member": warehouse_member.pk, "status": "late"})
    html = response.content.decode()
    assert f'id="item-{day_lists.pk}"' in html
    assert html.count('class="item item-row"') == 1


def test_open_escalations_show_who_acknowledged_and_overdue_duties_are_listed(team, day_lists, director, warehouse_lead, warehouse_member):
    policy = EscalationPolicy.objects.create(team=team, name="p", source="board-test")
    level = EscalationLevel.objects.create(policy=policy, order=1, offset_minutes=0, notify="lead")
    role = Role.objects.get(team=team, code="warehouse")
    Escalation.objects.create(
        team=team,
        item=day_lists,
        level=level,
        level_order=1,
        notify="lead",
        role=role,
        recipient=warehouse_lead,
        due_at=day_lists.due_at,
        raised_at=MONDAY,
        status="acknowledged",
        acknowledged_at=MONDAY,
        acknowledged_by=warehouse_lead,
        batch=uuid.uuid4(),
    )
    Task.objects.create(
        team=team, source="adhoc", title="补货需求表", role=role, owner=warehouse_member, date=DAY, due_at=MONDAY, created_at=MONDAY
    )
    Task.objects.create(
        team=team,
        source="adhoc",
        title="done",
        role=role,
        date=DAY,
        due_at=MONDAY,
        created_at=MONDAY,
        status=TaskStatus.DONE,
        done_at=MONDAY,
    )
    board = board_get(scope=board_scope(viewer=director), day=DAY, now=EVENING)
    assert [(e.recipient, e.acknowledged_by) for e in board.escalations] == [(warehouse_lead, warehouse_lead)]
    assert [t.title for t in board.overdue] == ["补货需求表"]


def test_k24h_issue_is_the_share_of_problem_orders_closed_on_time(team, director):
    for n, closed in enumerate([MONDAY - timedelta(hours=1), MONDAY + timedelta(hours=30), None]):
        ProblemOrder.objects.create(
            team=team,
            order_no=f"A{n}",
            kind="refund",
            logged_at=MONDAY - timedelta(hours=2),
            due_at=MONDAY + timedelta(hours=22),
            closed_at=closed,
        )
    board = board_get(scope=board_scope(viewer=director), day=DAY, now=MONDAY + timedelta(days=2))
    assert board.kpi("K-24H-ISSUE").display == "33%"  # 1 of 3: one late, one still open past its due time
    assert board.kpi("K-24H-SHIP").display == "–"  # no order to ship was logged: not counted with the problems


def test_k24h_ship_is_the_share_of_orders_to_ship_sent_on_time_apart_from_the_problem_orders(team, director):
    rows = [("ship", MONDAY - timedelta(hours=1)), ("ship", MONDAY - timedelta(hours=1)), ("ship", None), ("refund", None)]
    for n, (kind, closed) in enumerate(rows):
        ProblemOrder.objects.create(
            team=team,
            order_no=f"S{n}",
            kind=kind,
            logged_at=MONDAY - timedelta(hours=2),
            due_at=MONDAY + timedelta(hours=22),
            closed_at=closed,
        )
    board = board_get(scope=board_scope(viewer=director), day=DAY, now=MONDAY + timedelta(days=2))
    assert board.kpi("K-24H-SHIP").display == "67%"  # 2 of the 3 shipments
    assert board.kpi("K-24H-ISSUE").display == "0%"  # the one open problem order, past due


def test_the_board_shows_both_24h_measures_as_tiles(client, team, day_lists, director):
    _login(client, director)
    page = client.get("/board/").content.decode()
    assert 'data-testid="tile-K-24H-ISSUE"' in page
    assert 'data-testid="tile-K-24H-SHIP"' in page
    assert 'data-testid="tile-K-24H"' not in page


# --- KPI tiles, export, API --------------------------------------------------------------------------------------


def _shop_figures(team):
    sales = Metric.objects.get(team=team, code="sales")
    target_set(team=team, metric=sales, month=DAY, value="300000", split="even", actor=None, now=MONDAY)
    entry_save(
        team=team, day=DAY, figures={"sales": "12000", "ad_spend": "3000", "buyers": "100", "visitors": "2000"}, actor=None, now=MONDAY
    )
    entry_save(team=team, day=DAY - timedelta(days=1), figures={"sales": "4000", "ad_spend": "1000"}, actor=None, now=MONDAY)


def test_the_tiles_grade_roi_and_judge_the_days_sales(client, team, day_lists, director):
    _shop_figures(team)
    _login(client, director)
    html = client.get("/board/", {"date": "2026-11-23"}).content.decode()
    assert 'data-testid="tile-K-ROI"' in html
    assert "良好" in html  # (12000 + 4000) / (3000 + 1000) = 4.00
    assert "达标" in html  # 12,000 against 10,000
    assert "/board/kpi/?metric=roi" in html


def test_the_kpi_page_shows_the_days_behind_a_ratio(client, team, director):
    _shop_figures(team)
    _login(client, director)
    response = client.get("/board/kpi/", {"metric": "roi", "start": "2026-11-22", "end": "2026-11-23"})
    html = response.content.decode()
    assert 'data-testid="period-value">1:4.00<' in html  # a return is written 1:x (001 §1 B)
    assert "3000" in html
    assert "12000" in html
    assert client.get("/board/kpi/", {"metric": "nope"}).status_code == 404


def test_the_excel_export_has_chinese_headers_and_escapes_formulas(client, team, day_lists, director, warehouse_member):
    _shop_figures(team)
    Member.objects.filter(pk=warehouse_member.pk).update(display_name="=HYPERLINK(1)")
    _login(client, director)
    response = client.get("/board/export.xlsx", {"date": "2026-11-23"})
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    workbook = load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames[:2] == ["完成情况", "KPI"]
    sheet = workbook["完成情况"]
    assert [c.value for c in sheet[2]][:3] == ["岗位", "成员", "应完成"]
    names = [row[1].value for row in sheet.iter_rows(min_row=3)]
    assert "'=HYPERLINK(1)" in names
    assert all(c.data_type != "f" for row in sheet.iter_rows() for c in row)
    kpi = {row[0].value: row for row in workbook["KPI"].iter_rows(min_row=2)}
    assert kpi["店铺 ROI"][1].value == 4.0


def test_the_excel_export_writes_numbers_as_numbers_with_number_formats(client, team, day_lists, director):
    _shop_figures(team)
    _login(client, director)
    workbook = load_workbook(io.BytesIO(client.get("/board/export.xlsx", {"date": "2026-11-23"}).content))
    kpi = {row[0].value: row for row in workbook["KPI"].iter_rows(min_row=2)}
    sales, conversion = kpi["支付金额"], kpi["全店成交转化率"]
    assert (sales[1].value, sales[1].number_format) == (16000.0, "#,##0.00")
    assert (sales[2].value, sales[2].number_format) == (230000.0, "#,##0.00")  # 23 days of 10,000
    assert (conversion[1].value, conversion[1].number_format) == (0.05, "0.00%")  # 100 buyers of 2,000 visitors
    assert (conversion[5].value, conversion[5].number_format) == (100.0, "#,##0")
    judged = {row[0].value: row for row in workbook["考核目标"].iter_rows(min_row=2)}
    assert (judged["K-ROI"][2].value, judged["K-ROI"][2].number_format) == (4.0, "#,##0.00")
    assert isinstance(judged["K-DAILY-SALES"][2].value, float)
    assert judged["K-DAILY-SALES"][2].number_format == "0%"
    day = next(row for row in workbook["日销售达标"].iter_rows(min_row=2) if row[0].value.date() == DAY)
    assert (day[2].value, day[2].number_format) == (10000.0, "#,##0.00")
    daily = workbook["每日数据"]
    sales_column = [c.value for c in daily[1]].index("支付金额")
    assert daily.cell(row=daily.max_row, column=sales_column + 1).value == 12000.0


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1", "@SUM(A1)"])
def test_a_cell_that_would_be_a_formula_gets_a_leading_apostrophe(text):
    assert cell(text) == "'" + text
    assert cell("普通") == "普通"
    assert cell(5) == 5


def test_the_api_posts_and_reads_entries_and_the_scorecard(client, team, director):
    _login(client, director)
    response = client.post(
        "/api/v1/kpi/entries/", {"date": "2026-11-23", "figures": {"sales": "9000", "buyers": "90"}}, content_type="application/json"
    )
    assert response.status_code == 200, response.content
    assert client.get("/api/v1/kpi/entries/", {"start": "2026-11-23", "end": "2026-11-23"}).json() == [
        {"date": "2026-11-23", "figures": {"sales": 9000.0, "buyers": 90.0}}
    ]
    card = client.get("/api/v1/kpi/scorecard/", {"start": "2026-11-01", "end": "2026-11-23"}).json()
    aov = next(m for m in card["metrics"] if m["code"] == "aov")
    assert aov["value"] == 100.0


def test_the_api_answers_400_with_a_clear_message_for_bad_input(client, team, director):
    _login(client, director)
    response = client.post(
        "/api/v1/kpi/entries/",
        {"date": "2026-11-23", "figures": {"sales": "lots"}},
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 400
    assert "支付金额: “lots” is not a number." in str(response.json())
    assert client.get("/api/v1/kpi/scorecard/", {"start": "2026-11-23", "end": "2026-11-01"}).status_code == 400
    assert client.get("/api/v1/board/", {"date": "yesterday"}).status_code == 400


def test_the_api_import_is_all_or_nothing(client, team, director):
    _login(client, director)
    bad = io.BytesIO("日期,支付金额\n2026-11-20,100\n2026-11-21,x\n".encode("gbk"))
    bad.name = "export.csv"
    response = client.post("/api/v1/kpi/import/", {"file": bad}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert "Row 3: 支付金额: “x” is not a number." in str(response.json())
    assert not MetricEntry.objects.exists()
    good = io.BytesIO("日期,支付金额\n2026-11-20,100\n".encode())
    good.name = "export.csv"
    assert client.post("/api/v1/kpi/import/", {"file": good}).json()["days"] == ["2026-11-20"]


def test_the_import_page_names_the_bad_row_and_says_when_a_day_is_replaced(client, team, director):
    _login(client, director)
    upload = io.BytesIO("日期,支付金额\n2026-11-20,abc\n".encode())
    upload.name = "x.csv"
    response = client.post("/board/import/", {"file": upload}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert "Row 2: 支付金额: “abc” is not a number." in response.content.decode()
    for _ in range(2):  # the file gives a preview, its confirm writes it
        upload = io.BytesIO("日期,支付金额\n2026-11-20,100\n".encode())
        upload.name = "x.csv"
        preview = client.post("/board/import/", {"file": upload}, HTTP_ACCEPT_LANGUAGE="en")
        token = preview.context["token"]
        response = client.post("/board/import/", {"token": token}, HTTP_ACCEPT_LANGUAGE="en")
    html = response.content.decode()
    assert "Some days were already recorded: the file's figures replaced those, the others were kept." in html
    assert "2026-11-20: 1 replaced, 0 added, 0 kept (not in the file)." in html


def test_the_figures_page_saves_the_days_figures(client, team, director, service_member):
    _login(client, director)
    response = client.post(
        "/board/figures/", {"date": "2026-11-23", "fig-sales": "1,234.50", "fig-visitors": "", f"m{service_member.pk}-cs_inquiries": "30"}
    )
    assert response.status_code == 302
    assert MetricEntry.objects.get(metric__code="sales").value == Decimal("1234.50")
    assert MetricEntry.objects.get(metric__code="cs_inquiries").member == service_member


def test_only_the_director_sets_targets_from_the_page(client, team, director, warehouse_lead):
    _login(client, warehouse_lead)
    assert client.get("/board/targets/").status_code == 403
    _login(client, director)
    response = client.post("/board/targets/", {"month": "2026-11", "metric": "sales", "value": "300000", "split": "even"})
    assert response.status_code == 302
    assert 'data-testid="target-value">300,000.00<' in client.get("/board/targets/", {"month": "2026-11-01"}).content.decode()


def test_a_percentage_target_is_typed_as_a_percent_on_the_targets_page(client, team, director):
    _login(client, director)
    page = client.get("/board/targets/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "type the percent: 5 means 5%" in page
    response = client.post("/board/targets/", {"month": "2026-11", "metric": "conversion", "value": "5", "split": "none"})
    assert response.status_code == 302
    target = Target.objects.get(metric__code="conversion")
    assert target.value == Decimal("0.05")
    assert 'data-testid="target-value">5.00%<' in client.get("/board/targets/", {"month": "2026-11-01"}).content.decode()
    edit = client.get("/board/targets/", {"month": "2026-11-01", "edit": target.pk}).content.decode()
    assert 'name="value" value="5"' in edit


def test_a_percentage_target_over_100_percent_is_refused_with_a_clear_message(client, team, director):
    _login(client, director)
    response = client.post(
        "/board/targets/", {"month": "2026-11", "metric": "conversion", "value": "500", "split": "none"}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 400  # the form drawn again with the message (issue 15)
    assert "全店成交转化率 is a percentage: a target cannot be over 100% (type 5 for 5%)." in response.content.decode()
    assert 'name="value" value="500"' in response.content.decode()
    assert not Target.objects.exists()


def test_changing_a_target_shows_its_current_weekday_weights(client, team, director):
    sales = Metric.objects.get(team=team, code="sales")
    target = target_set(
        team=team,
        metric=sales,
        month=DAY,
        value="300000",
        split="weekday",
        weekday_weights=[1, 1, 1, 1, 1.2, 1.4, 1.4],
        actor=None,
        now=MONDAY,
    )
    _login(client, director)
    html = client.get("/board/targets/", {"month": "2026-11-01", "edit": target.pk}).content.decode()
    assert 'name="w4" value="1.2"' in html
    assert 'name="w6" value="1.4"' in html
    assert '<option value="weekday" selected>' in html
    assert 'name="value" value="300000"' in html


def test_the_trends_give_one_point_per_day(client, team, day_lists, director):
    _shop_figures(team)
    _login(client, director)
    data = client.get("/board/trends/", {"date": "2026-11-23", "days": 7}).json()
    assert len(data["labels"]) == 7
    assert data["sales"][-1] == 12000.0
    assert data["sales_target"][-1] == 10000.0
    assert data["roi"][-1] == 4.0


def test_the_week_view_answers_the_three_questions(client, team, director):
    _shop_figures(team)
    _login(client, director)
    html = client.get("/board/week/", {"date": "2026-11-23"}).content.decode()
    assert "订单数减少而销售额增加,是否好事?" in html
    assert "能否做到销售额增长、利润率提高、订单数增加?" in html


# --- a fixed number of queries -----------------------------------------------------------------------------------


def crowd(team: Team, n: int, day: date, prefix: str) -> None:
    """n warehouse members with one list of four items each on `day`, made in a few bulk inserts."""
    User = get_user_model()
    role = Role.objects.get(team=team, code="warehouse")
    users = User.objects.bulk_create([User(username=f"{prefix}{i}") for i in range(n)])
    members = Member.objects.bulk_create([Member(user=u, team=team, display_name=f"{prefix}{i}") for i, u in enumerate(users)])
    MemberRole.objects.bulk_create([MemberRole(member=m, role=role) for m in members])
    batch = uuid.uuid4()
    lists = Checklist.objects.bulk_create(
        [Checklist(team=team, role=role, member=m, assignee=m, date=day, name="仓库每日自查", batch=batch) for m in members]
    )
    due = MONDAY.replace(hour=18)
    ChecklistItem.objects.bulk_create(
        [
            ChecklistItem(
                checklist=c,
                order=k,
                text=f"item {k}",
                due_at=due,
                status=ItemStatus.DONE if k == 0 else ItemStatus.OPEN,
                done_at=due + timedelta(minutes=5) if k == 0 else None,
            )
            for c in lists
            for k in range(4)
        ]
    )


# completion, escalations, duties, problem orders; metrics, KPIs, figures, targets, the period exports' figures (issue 18);
# who is behind: their open items and the day's nudges (issue 20)
BOARD_QUERIES = 11


def test_the_board_costs_the_same_queries_for_5_and_500_members(team, director, django_assert_num_queries):
    scope = board_scope(viewer=director)
    crowd(team, 5, DAY, "few")
    with django_assert_num_queries(BOARD_QUERIES):
        small = board_get(scope=scope, day=DAY, now=EVENING)
    crowd(team, 495, DAY, "many")
    with django_assert_num_queries(BOARD_QUERIES):
        big = board_get(scope=scope, day=DAY, now=EVENING)
    assert big.total.total == 2000
    assert small.total.total == 20
    assert len(big.behind) == 500


def test_the_board_page_costs_a_fixed_number_of_queries(client, team, director, django_assert_max_num_queries):
    crowd(team, 50, DAY, "page")
    _login(client, director)
    with CaptureQueriesContext(connection) as few:
        assert client.get("/board/", {"date": "2026-11-23"}).status_code == 200
    crowd(team, 200, DAY, "more")
    with django_assert_max_num_queries(len(few)):
        assert client.get("/board/", {"date": "2026-11-23"}).status_code == 200


def test_the_kpi_page_of_service_conversion_lists_each_member_against_the_average(client, team, director, service_member):
    entry_save(team=team, day=DAY, member=service_member, figures={"cs_inquiries": "50", "cs_inquiry_buyers": "20"}, actor=None, now=MONDAY)
    _login(client, director)
    html = client.get("/board/kpi/", {"metric": "cs_conversion", "start": "2026-11-01", "end": "2026-11-23"}).content.decode()
    assert "郑客服" in html
    assert "40.00%" in html


def test_the_demo_gets_a_month_of_figures_and_ticked_history_and_a_second_run_adds_nothing(db, frozen):
    from django.core.management import call_command

    call_command("load_demo", stdout=io.StringIO())
    call_command("load_demo_history", stdout=io.StringIO())
    team = Team.objects.get(slug="demo")
    days = set(Checklist.objects.filter(team=team).values_list("date", flat=True))
    assert len(days) >= 15
    recent = ChecklistItem.objects.filter(checklist__team=team, checklist__date__gte=DAY - timedelta(days=3), is_group=False)
    assert not recent.filter(status=ItemStatus.OPEN).exists()  # nothing for the escalation sweep to chase
    assert MetricEntry.objects.filter(team=team, member__isnull=True).values("date").distinct().count() == 30
    before = (ChecklistItem.objects.count(), MetricEntry.objects.count())
    call_command("load_demo", stdout=io.StringIO())
    call_command("load_demo_history", stdout=io.StringIO())
    assert (ChecklistItem.objects.count(), MetricEntry.objects.count()) == before


def test_the_week_view_defaults_to_the_weeks_up_to_yesterday(client, team, director, frozen):
    _login(client, director)
    html = client.get("/board/week/").content.decode()
    assert "2026-11-16 – 11-22" in html  # on Monday 2026-11-23: last week, Monday to Sunday


def test_a_future_day_on_the_board_says_so_and_shows_today(client, team, director, frozen):
    _login(client, director)
    response = client.get("/board/", {"date": "2099-12-31"}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert response.context["day"] == DAY
    assert response.context["board"].scorecard.end == DAY
    assert "2099-12-31 has not happened yet: the board shows today, 2026-11-23." in response.content.decode()
    assert 'data-testid="future-day"' not in client.get("/board/", {"date": "2026-11-23"}).content.decode()


def test_the_figures_page_for_a_future_day_says_figures_go_up_to_today_and_has_no_form(client, team, director, frozen):
    _login(client, director)
    html = client.get("/board/figures/", {"date": "2099-01-01"}, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "2099-01-01 has not happened yet: figures can only be entered up to today, 2026-11-23." in html
    assert 'name="fig-sales"' not in html
    assert 'name="fig-sales"' in client.get("/board/figures/", {"date": "2026-11-23"}).content.decode()


def test_the_api_board_refuses_a_day_that_has_not_happened(client, team, director, frozen):
    _login(client, director)
    response = client.get("/api/v1/board/", {"date": "2026-11-24"})  # frozen on Monday 2026-11-23
    assert response.status_code == 400
    assert "2026-11-24 还没到" in str(response.json())
    assert client.get("/api/v1/board/", {"date": "2026-11-23"}).status_code == 200
