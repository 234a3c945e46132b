"""Issue 18: the shop's real numbers. Definitions checked against hand calculations, and every export layout built
here (never a copy of a shop's data) imports, is previewed before it is written, or is refused saying why."""

from __future__ import annotations

import codecs
import io
import json
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from roles.models import AgentName, ImportLayout, Kpi, Metric, MetricEntry, MetricKind, PeriodFigure
from roles.models.kpi import MetricEntryChange
from roles.selectors.kpi import metric_format
from roles.selectors.kpi_scorecard import grade, scorecard_get
from roles.selectors.kpi_week import week_view
from roles.services.kpi import entry_save, target_set
from roles.services.kpi_import import entries_import
from roles.services.kpi_layouts import number_parse, when_parse
from tests.conftest import MONDAY


def _figures(team, day: date, **figures) -> None:
    entry_save(team=team, day=day, figures=figures, actor=None, now=MONDAY)


def _card(team, start: date, end: date):
    return scorecard_get(team=team, start=start, end=end)


def _kpi(card, playbook_id: str):
    return next(k for k in card.kpis if k.kpi.playbook_id == playbook_id)


def _value(team, code: str, day: date, member=None) -> Decimal | None:
    entry = MetricEntry.objects.filter(team=team, metric__code=code, date=day, member=member).first()
    return entry.value if entry else None


# --- definitions ---------------------------------------------------------------------------------------------------------


def test_k_roi_is_sales_over_the_operating_cost_and_shows_the_cost_lines(team):
    # 5,990 ÷ (1,200 直通车 + 300 万相台 + 250 免邮费 + 250 打折促销) = 5,990 ÷ 2,000 = 2.995: below 1:3, 不及格.
    _figures(team, date(2026, 11, 20), sales="5990", ztc_spend="1200", wxt_spend="300", free_shipping="250", discounts="250")
    roi = _kpi(_card(team, date(2026, 11, 20), date(2026, 11, 20)), "K-ROI")
    assert roi.value == Decimal("2.995")
    assert roi.display == "1:2.99"  # truncated: "3.00" beside 不及格 contradicted the grade
    assert roi.grade["label"] == "不及格"
    assert "运营成本 2,000.00" in roi.detail
    assert "直通车花费 1,200.00" in roi.detail
    assert "免邮费 250.00" in roi.detail
    assert "打折促销 250.00" in roi.detail
    assert [line.code for line, _v in roi.row.parts][:5] == ["ztc_spend", "wxt_spend", "ad_spend", "free_shipping", "discounts"]


@pytest.mark.parametrize(
    ("sales", "cost", "shown", "label"),
    [
        ("5990", "2000", "1:2.99", "不及格"),
        ("29999", "10000", "1:2.99", "不及格"),
        ("6000", "2000", "1:3.00", "及格"),
        ("8000", "2000", "1:4.00", "良好"),
        ("7999", "2000", "1:3.99", "及格"),
        ("10000", "2000", "1:5.00", "优秀"),
    ],
)
def test_the_roi_shown_never_contradicts_its_grade_at_the_edges(team, sales, cost, shown, label):
    _figures(team, date(2026, 11, 20), sales=sales, free_shipping=cost)
    roi = _kpi(_card(team, date(2026, 11, 20), date(2026, 11, 20)), "K-ROI")
    assert (roi.display, roi.grade["label"]) == (shown, label)


def test_a_graded_share_is_cut_not_rounded_so_it_matches_its_band(team):
    metric = Metric.objects.get(team=team, code="conversion")
    assert metric_format(metric, Decimal("0.029999"), truncate=True) == "2.99%"
    kpi = Kpi(bands=[{"from": 0, "label": "低", "tone": "bad"}, {"from": 0.03, "label": "达标", "tone": "pass"}])
    assert grade(kpi, Decimal("0.029999"))["label"] == "低"


def test_the_ad_tools_own_roi_is_a_separate_ungraded_metric(team):
    _figures(team, date(2026, 11, 20), sales="9000", ztc_sales="4500", ztc_spend="1000", free_shipping="1000")
    card = _card(team, date(2026, 11, 20), date(2026, 11, 20))
    ztc = card.row("ztc_roi")
    assert ztc.metric.name == "直通车投入产出比"
    assert (ztc.value, ztc.display, ztc.grade) == (Decimal("4.5"), "1:4.50", None)  # 4,500 ÷ 1,000
    assert _kpi(card, "K-ROI").value == Decimal("4.5")  # 9,000 ÷ (1,000 + 1,000): the same number by chance only
    assert Kpi.objects.get(team=team, playbook_id="K-ROI").metric.code == "roi"


def test_a_cost_line_the_team_adds_counts_in_k_roi(team):
    cost = Metric.objects.get(team=team, code="operating_cost")
    Metric.objects.create(team=team, code="packaging", name="包装费", unit="元", part_of=cost, order=999)
    _figures(team, date(2026, 11, 20), sales="9000", ztc_spend="2000", packaging="1000")
    roi = _kpi(_card(team, date(2026, 11, 20), date(2026, 11, 20)), "K-ROI")
    assert roi.value == Decimal(3)  # 9,000 ÷ (2,000 + 1,000)
    assert "包装费 1,000.00" in roi.detail


def test_every_dm_metric_with_a_formula_is_on_the_board(team):
    codes = set(Metric.objects.filter(team=team).values_list("playbook_id", flat=True))
    for playbook_id in ("DM-ROI-SHOP", "DM-ROI-ZTC", "DM-UVIP", "DM-AOV-AVG", "DM-CVR-AVG", "DM-PROMO-CVR", "DM-DEPTH", "DM-STAY"):
        assert playbook_id in codes, playbook_id
    assert Metric.objects.get(team=team, code="aov_avg").kind == MetricKind.MEAN


def test_uv_value_and_the_two_averages_sit_beside_the_pooled_ratios(team):
    # Day 1: 1,000 from 10 buyers of 100 visitors; day 2: 9,000 from 30 buyers of 300 visitors.
    _figures(team, date(2026, 11, 20), sales="1000", buyers=10, visitors=100)
    _figures(team, date(2026, 11, 21), sales="9000", buyers=30, visitors=300)
    card = _card(team, date(2026, 11, 20), date(2026, 11, 21))
    assert card.row("uv_value").value == Decimal(25)  # 10,000 ÷ 400
    assert card.row("aov").value == Decimal(250)  # pooled: 10,000 ÷ 40
    assert card.row("aov_avg").value == Decimal(200)  # (100 + 300) ÷ 2
    assert card.row("aov_avg").mean_days == 2
    assert card.row("conversion").value == Decimal("0.1")  # 40 ÷ 400
    assert card.row("conversion_avg").value == Decimal("0.1")  # (0.1 + 0.1) ÷ 2
    assert card.row("aov_avg").display == "200.00"


def test_a_month_to_date_figure_says_which_days_have_no_figures(team):
    start, end = date(2026, 11, 1), date(2026, 11, 22)
    for offset in range(22):
        day = start + timedelta(days=offset)
        if day not in (date(2026, 11, 5), date(2026, 11, 12)):
            _figures(team, day, sales="100", buyers=1)
    with translation.override("en"):
        row = _card(team, start, end).row("aov")
        assert row.missing == [date(2026, 11, 5), date(2026, 11, 12)]
        assert row.coverage == "20 of 22 days; no figures for 11-05、11-12"


def test_a_day_without_sales_is_marked_missing_data_not_met_or_missed(team):
    target_set(
        team=team,
        metric=Metric.objects.get(team=team, code="sales"),
        month=date(2026, 11, 1),
        value="30000",
        split="even",
        actor=None,
        now=MONDAY,
    )
    _figures(team, date(2026, 11, 1), sales="1000")  # 达标: 1,000 a day
    _figures(team, date(2026, 11, 3), sales="400")  # 不达标, under 50%
    with translation.override("en"):
        sales = _kpi(_card(team, date(2026, 11, 1), date(2026, 11, 3)), "K-DAILY-SALES")
    assert [d.verdict for d in sales.days] == ["达标", "缺数据", "不达标"]
    assert sales.display == "1/3"
    assert "1 days 缺数据 (no figures): 11-02" in sales.detail


def test_the_week_view_says_which_figure_is_missing_instead_of_answering(team):
    this_monday, last_monday = date(2026, 11, 23), date(2026, 11, 16)
    _figures(team, last_monday, orders=100, sales="10000", buyers=100)  # no 毛利润 last week
    _figures(team, this_monday, orders=80, sales="12000", buyers=80, gross_profit="2700")
    with translation.override("en"):
        view = week_view(team=team, day=this_monday)
    first = view.answers[0]
    assert first.verdict == "n/a"
    assert "毛利润 for last week" in first.text
    assert "good sign" not in first.text
    assert "毛利率 for last week" in view.answers[2].text


def test_a_weeks_own_visitors_replace_the_days_summed_for_that_weeks_ratios(team):
    monday, sunday = date(2026, 11, 9), date(2026, 11, 15)
    for offset in range(7):
        _figures(team, monday + timedelta(days=offset), visitors=1000, buyers=20, sales="2000")
    with translation.override("en"):
        summed = _card(team, monday, sunday).row("conversion")
        assert summed.value == Decimal("0.02")  # 140 ÷ 7,000, each returning visitor counted every day
        assert "支付买家数、访客数 summed by day" in summed.notes[0]
    content = "统计日期,访客数,支付买家数,支付金额\n2026-11-09~2026-11-15,5000,125,14000\n"
    result = entries_import(team=team, content=content.encode(), filename="week.csv", actor=None, now=MONDAY)
    assert result.plan.per_period[0].start == monday
    assert PeriodFigure.objects.get(team=team, metric__code="visitors").value == 5000
    assert not PeriodFigure.objects.filter(metric__code="sales").exists()  # the days add up to a week's sales
    with translation.override("en"):
        row = _card(team, monday, sunday).row("conversion")
        assert row.value == Decimal("0.025")  # 125 ÷ 5,000, as 生意参谋 shows the week
        assert "from the period's own export" in row.notes[0]
        assert _card(team, monday, sunday).row("aov").value == Decimal(112)  # 14,000 ÷ 125
    assert week_view(team=team, day=sunday).rows  # the week view reads the same period figures


# --- cells ----------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("1,234", "1234"),
        ("2.51%", "0.03"),
        ("12.3万", "123000"),
        ("¥1,234.50", "1234.50"),
        ("-", None),
        ("--", None),
        ("", None),
        (12.5, "12.5"),
    ],
)
def test_export_numbers_are_read(raw, value):
    assert number_parse(raw, label="x") == (Decimal(value) if value else None)


@pytest.mark.parametrize("raw", ["2026-11-16", "2026/11/16", "20261116", "2026年11月16日", "2026-11-16 00:00:00"])
def test_the_date_forms_are_read(raw):
    assert when_parse(raw) == (date(2026, 11, 16), date(2026, 11, 16))


def test_a_month_and_a_range_are_periods():
    assert when_parse("2026-10") == (date(2026, 10, 1), date(2026, 10, 31))
    assert when_parse("2026-11-09 ~ 2026-11-15") == (date(2026, 11, 9), date(2026, 11, 15))


# --- real layouts, built here ----------------------------------------------------------------------------------------------

SYCM_ROWS = [
    ["生意参谋-整体看板-日报"],
    ["注：数据来源于生意参谋,统计口径以平台为准"],
    ["统计日期", "访客数", "浏览量", "支付金额", "支付买家数", "支付子订单数", "支付老买家数", "直通车消耗", "支付转化率", "客单价"],
    ["2026-11-16", "1,234", "3,456", "12,345.60", "45", "49", "12", "1,500.00", "3.65%", "274.35"],
    ["2026-11-17", "1,100", "-", "9,000.00", "40", "43", "10", "--", "3.64%", "225.00"],
]


def _xls(rows: list[list]) -> bytes:
    import xlwt

    workbook = xlwt.Workbook(encoding="utf-8")
    sheet = workbook.add_sheet("sheet1")
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            sheet.write(r, c, value)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _xlsx(rows: list[list]) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _import(team, content: bytes, filename: str, **kwargs):
    return entries_import(team=team, content=content, filename=filename, actor=None, now=MONDAY, **kwargs)


def _refused(team, content: bytes, filename: str, **kwargs) -> str:
    with translation.override("en"), pytest.raises(ValidationError) as caught:
        _import(team, content, filename, **kwargs)
    assert not MetricEntry.objects.exists()
    assert not MetricEntryChange.objects.exists()
    return " ".join(caught.value.messages)


@pytest.mark.parametrize("kind", ["xls", "xlsx"])
def test_a_sycm_overview_download_imports_with_every_figure_it_carries(team, kind):
    content = _xls(SYCM_ROWS) if kind == "xls" else _xlsx(SYCM_ROWS)
    result = _import(team, content, f"生意参谋.{kind}")
    day = date(2026, 11, 16)
    assert result.plan.layout.code == "sycm_overview"
    assert _value(team, "paid_orders", day) == 49  # 支付子订单数
    assert _value(team, "returning_buyers", day) == 12  # 支付老买家数
    assert _value(team, "ztc_spend", day) == Decimal("1500")  # 直通车消耗
    assert _value(team, "visitors", day) == 1234
    assert _value(team, "page_views", date(2026, 11, 17)) is None  # "-" is empty
    assert _value(team, "ztc_spend", date(2026, 11, 17)) is None  # "--" is empty
    skipped = dict(result.plan.skipped)
    assert set(skipped) == {1, 2}  # the title and the note
    reasons = {c.header: c.reason for c in result.plan.columns}
    assert reasons["支付转化率"]
    assert not reasons["支付子订单数"]
    assert MetricEntry.objects.filter(team=team, date=day).count() == 7


def test_a_sycm_fetch_csv_in_gbk_with_compact_dates_skips_and_lists_its_totals_row(team):
    text = (
        "统计日期,访客数,支付金额,支付买家数,支付父订单数,支付子订单数\n"
        "20261116,1000,10000,40,41,44\n20261117,900,9000,36,37,39\n合计,1900,19000,76,78,83\n"
    )
    result = _import(team, text.encode("gbk"), "取数.csv")
    assert result.plan.layout.code == "sycm_fetch"
    assert result.days == [date(2026, 11, 16), date(2026, 11, 17)]
    assert result.plan.skipped[0][0] == 4
    assert "合计" in result.plan.skipped[0][1]
    assert _value(team, "sales", date(2026, 11, 17)) == 9000


def test_a_utf16_tab_separated_export_imports(team):
    text = "日期\t访客数\t支付金额\t支付买家数\n2026/11/16\t800\t¥8,000.00\t32\n2026年11月17日\t700\t1.2万\t30\n平均\t750\t10000\t31\n"
    result = _import(team, codecs.BOM_UTF16_LE + text.encode("utf-16-le"), "export.xls")
    assert result.days == [date(2026, 11, 16), date(2026, 11, 17)]
    assert _value(team, "sales", date(2026, 11, 17)) == 12000
    assert "平均" in result.plan.skipped[0][1]


def test_a_jd_overview_brings_its_buyers_and_orders_so_its_ratios_are_jds(team):
    text = "日期,访客数,浏览量,成交金额,成交客户数,成交单量,转化率,客单价\n2026-11-16,2000,6000,30000,100,104,5.00%,300\n"
    result = _import(team, text.encode(), "京东商智.csv")
    assert result.plan.layout.code == "jd_overview"
    assert (_value(team, "buyers", date(2026, 11, 16)), _value(team, "paid_orders", date(2026, 11, 16))) == (100, 104)
    assert _card(team, date(2026, 11, 16), date(2026, 11, 16)).row("aov").value == Decimal(300)


@pytest.mark.parametrize(
    ("header", "row", "layout"),
    [
        ("日期,商品访客数,商品浏览量,成交金额,成交买家数,成交订单数", "2026-11-16,500,1500,5000,25,26", "pdd_overview"),
        ("日期,商品访客数,成交金额,成交人数,成交订单数", "2026-11-16,500,5000,25,26", "douyin_compass"),
    ],
)
def test_pinduoduo_and_douyin_exports_import(team, header, row, layout):
    result = _import(team, f"{header}\n{row}\n".encode(), "export.csv")
    assert result.plan.layout.code == layout
    assert _value(team, "buyers", date(2026, 11, 16)) == 25
    assert _value(team, "visitors", date(2026, 11, 16)) == 500


def test_a_ztc_plan_report_sums_its_plans_by_day_and_keeps_its_sales_apart(team):
    text = (
        "日期,计划名称,展现量,点击量,花费,总成交金额,投入产出比\n"
        "2026-11-16,计划A,10000,300,120.00,480.00,4.00\n"
        "2026-11-16,计划B,5000,200,80.00,160.00,2.00\n"
        "2026-11-16,计划C,2000,100,50.00,0,0\n"
        "2026-11-17,计划A,9000,280,110.00,330.00,3.00\n"
        "汇总,,26000,880,360.00,970.00,2.69\n"
    )
    result = _import(team, text.encode(), "直通车.csv")
    day = date(2026, 11, 16)
    assert result.plan.layout.code == "ztc_plans"
    assert _value(team, "ztc_spend", day) == 250  # 120 + 80 + 50
    assert _value(team, "ztc_sales", day) == 640
    assert _value(team, "sales", day) is None  # the tool's 成交金额 is not the shop's 支付金额
    change = next(c for d in result.plan.per_day if d.day == day for c in d.changes if c.metric.code == "ztc_spend")
    assert change.sum_text == "120.00 + 80.00 + 50.00 = 250.00"
    assert "汇总" in result.plan.skipped[0][1]


CS_EXPORT = (
    "日期,客服,咨询人数,询单人数,付款人数,询单转化率,销售额\n"
    "2026-11-16,店铺:郑客服,80,50,20,40.00%,4000\n2026-11-16,小王,60,40,10,25.00%,2000\n"
)


def test_a_cs_export_goes_to_members_and_an_unknown_name_is_mapped_once(team, service_member, director):
    message = _refused(team, CS_EXPORT.encode(), "赤兔.csv")
    assert "小王" in message
    assert "not mapped to a member" in message
    result = _import(team, CS_EXPORT.encode(), "赤兔.csv", agents={"小王": director.pk})
    assert result.plan.layout.code == "cs_agents"
    day = date(2026, 11, 16)
    assert _value(team, "cs_inquiries", day, service_member) == 50  # "店铺:郑客服" is 郑客服 by nickname
    assert _value(team, "cs_inquiry_buyers", day, director) == 10
    assert AgentName.objects.get(team=team, name="小王").member == director
    again = _import(team, CS_EXPORT.replace(",50,20,", ",55,22,").encode(), "赤兔.csv")  # mapped once: no choice asked
    assert not again.plan.unmapped_agents
    conv = _kpi(_card(team, day, day), "K-CS-CONV")
    assert {m.name: m.value for m in conv.members}["郑客服"] == Decimal("0.4")  # 22 ÷ 55


def test_a_dry_run_previews_before_and_after_and_what_stays_and_writes_nothing(team):
    day = date(2026, 11, 16)
    _figures(team, day, sales="500", paid_orders=100, gross_profit="200")
    text = "日期,支付金额,支付买家数\n2026-11-16,777,40\n"
    with translation.override("en"):
        result = _import(team, text.encode(), "export.csv", dry_run=True)
    assert not result.written
    plan = result.plan.per_day[0]
    assert [(c.metric.code, c.before, c.after) for c in plan.changes] == [("buyers", None, 40), ("sales", Decimal(500), 777)] or [
        (c.metric.code, c.before, c.after) for c in plan.changes
    ] == [("sales", Decimal(500), 777), ("buyers", None, 40)]
    assert {m.code for m, _v in plan.kept} == {"paid_orders", "gross_profit"}
    # 人均成交笔数 would divide the old 支付订单数 by this file's 支付买家数: said before anything is written.
    assert any("人均成交笔数" in w and "支付订单数" in w for w in result.plan.warnings)
    assert _value(team, "sales", day) == 500
    assert MetricEntryChange.objects.filter(after=777).count() == 0


def test_a_bad_file_is_refused_naming_the_row_the_column_and_what_was_expected(team):
    message = _refused(team, "统计日期,访客数,支付金额\n2026-13-45,1,1\n".encode(), "x.csv")
    assert "Row 2, column 统计日期: “2026-13-45” is not a date (write 2026-11-16" in message
    message = _refused(team, "日期,访客数,支付金额\n2026-11-16,1,一千\n".encode(), "x.csv")
    assert "Row 2: 支付金额: “一千” is not a number." in message
    assert "no 客服 column" in _refused(team, "日期,询单人数,付款人数\n2026-11-16,1,1\n".encode(), "x.csv", layout="cs_agents")
    assert "no 日期 column" in _refused(team, "客服,询单人数,付款人数\n小王,1,1\n".encode(), "x.csv")
    assert "not an Excel 97-2003 workbook" in _refused(team, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "x.xls")


# --- the pages and the API -------------------------------------------------------------------------------------------------


def test_the_api_dry_run_answers_the_preview_and_writes_nothing(client, team, director, service_member):
    client.force_login(director.user)
    upload = io.BytesIO("日期,支付金额,支付买家数\n2026-11-16,100,2\n".encode())
    upload.name = "x.csv"
    response = client.post("/api/v1/kpi/import/", {"file": upload, "dry_run": "true"})
    assert response.status_code == 200, response.json()
    data = response.json()
    assert data["dry_run"] is True
    assert data["preview"]["days"][0]["changes"][0]["after"] in (100.0, 2.0)
    assert not MetricEntry.objects.exists()
    upload = io.BytesIO(CS_EXPORT.encode())
    upload.name = "cs.csv"
    response = client.post("/api/v1/kpi/import/", {"file": upload, "agents": json.dumps({"小王": director.pk})})
    assert response.status_code == 200
    assert response.json()["dry_run"] is False
    assert MetricEntry.objects.filter(member=director, metric__code="cs_inquiries").exists()


def test_the_import_page_previews_then_confirms_with_the_agents_mapped(client, team, director, service_member):
    client.force_login(director.user)
    upload = io.BytesIO(CS_EXPORT.encode())
    upload.name = "cs.csv"
    preview = client.post("/board/import/", {"file": upload}, HTTP_ACCEPT_LANGUAGE="en")
    html = preview.content.decode()
    assert preview.status_code == 200
    assert 'data-testid="import-preview"' in html
    assert "小王" in html
    assert not MetricEntry.objects.exists()
    response = client.post(
        "/board/import/",
        {"token": preview.context["token"], "agent-name-1": "小王", "agent-1": str(director.pk)},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 200
    assert 'data-testid="import-result"' in response.content.decode()
    assert _value(team, "cs_sales", date(2026, 11, 16), director) == 2000
    assert client.post("/board/import/", {"token": "forged"}, HTTP_ACCEPT_LANGUAGE="en").status_code == 400


def test_the_director_maps_the_teams_own_columns_and_a_lead_cannot(client, team, director, warehouse_lead):
    client.force_login(warehouse_lead.user)
    assert client.get("/board/import/layouts/").status_code == 403
    client.force_login(director.user)
    bad = client.post(
        "/board/import/layouts/", {"code": "erp", "name": "ERP 日报", "columns": "单据日期 = @date\n实收 = nope"}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert bad.status_code == 400
    assert "“nope” is not a recorded figure" in bad.content.decode()
    response = client.post(
        "/board/import/layouts/",
        {"code": "erp", "name": "ERP 日报", "columns": "单据日期 = @date\n实收金额 = sales", "signature": "单据日期|实收金额"},
    )
    assert response.status_code == 302
    assert ImportLayout.objects.get(team=team, code="erp").columns == {"单据日期": "@date", "实收金额": "sales"}
    result = _import(team, "单据日期,实收金额\n2026-11-16,321\n".encode(), "erp.csv")
    assert result.plan.layout.code == "erp"
    assert _value(team, "sales", date(2026, 11, 16)) == 321
