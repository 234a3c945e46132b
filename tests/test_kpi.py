"""KPIs: definitions loaded from the playbook, ratios from summed parts, targets split over days, grades, the import."""

from __future__ import annotations

import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from checklists.playbook.services import playbook_load
from roles.models import Kpi, Metric, MetricEntry, MetricKind, SplitKind, Target
from roles.models.kpi import MetricEntryChange
from roles.selectors.kpi import daily_targets, figures_by_day, metric_list, metric_value, totals_over
from roles.selectors.kpi_scorecard import grade, scorecard_get
from roles.selectors.kpi_week import week_view
from roles.services.kpi import entry_save, target_set
from roles.services.kpi_import import entries_import
from tests.conftest import MONDAY

PLAYBOOK_RATIOS = {
    "客单价": ("sales", "buyers"),
    "支付率": ("paid_orders", "orders"),
    "全店成交转化率": ("buyers", "visitors"),
    "成交回头率": ("returning_buyers", "buyers"),
    "人均成交件数": ("units", "buyers"),
    "人均成交笔数": ("paid_orders", "buyers"),
    "浏览回头率": ("returning_visitors", "visitors"),
    "跳失率": ("bounce_visits", "visits"),
    "点击率": ("clicks", "impressions"),
    "平均点击花费": ("ztc_spend", "clicks"),
    "订单有效率": ("valid_orders", "orders"),
    "毛利率": ("gross_profit", "sales"),
    "店铺 ROI": ("sales", "operating_cost"),
    "直通车投入产出比": ("ztc_sales", "ztc_spend"),
    "UV价值": ("sales", "visitors"),
    "宝贝页(促销)成交转化率": ("promo_buyers", "item_page_visitors"),
    "人均店内停留时间": ("online_seconds", "visits"),
}
# Every metric PLAYBOOK §6 names (daily, weekly, quarterly) by the name or other name it is loaded under.
PLAYBOOK_METRICS = [
    "IP", "PV", "在线时间", "老用户比例", "新用户比例", "总订单", "有效订单", "订单有效率", "总销售额", "客单价", "毛利率", "下单转化率",
    "付款转化率", "平均浏览页数", "访问深度", "毛利润", "退货率", "会员总数", "新/老会员购物比率", "复购率", "转化率",
]  # fmt: skip


def _metric(team, code: str) -> Metric:
    return Metric.objects.get(team=team, code=code)


def _figures(team, day: date, **figures) -> None:
    entry_save(team=team, day=day, figures=figures, actor=None, now=MONDAY)


# --- the playbook ------------------------------------------------------------------------------------------------


def test_every_formula_of_the_playbook_is_a_ratio_of_two_recorded_figures(team):
    for name, (numerator, denominator) in PLAYBOOK_RATIOS.items():
        metric = Metric.objects.get(team=team, name=name)
        assert metric.kind == MetricKind.RATIO
        assert (metric.numerator.code, metric.denominator.code) == (numerator, denominator), name
        assert {metric.numerator.kind, metric.denominator.kind} <= {MetricKind.BASE, MetricKind.SUM}


def test_every_metric_the_playbook_lists_is_defined_with_unit_direction_and_period(team):
    metrics = Metric.objects.filter(team=team)
    names = {m.name for m in metrics} | {alias for m in metrics for alias in m.alias_list}
    assert set(PLAYBOOK_METRICS) <= names
    assert all(m.unit or m.is_ratio for m in metrics)
    assert _metric(team, "bounce_rate").direction == "lower"
    assert "quarterly" in _metric(team, "repurchase_rate").period_list
    assert "weekly" in _metric(team, "return_rate").period_list


def test_the_targets_of_the_playbook_are_loaded_with_their_bands(team):
    roi = Kpi.objects.get(team=team, playbook_id="K-ROI")
    assert [(b["from"], b["label"]) for b in roi.bands] == [(0, "不及格"), (3, "及格"), (4, "良好"), (5, "优秀")]
    assert roi.metric.code == "roi"
    assert Kpi.objects.get(team=team, playbook_id="K-DAILY-SALES").min_share == Decimal("0.5")
    assert set(Kpi.objects.filter(team=team).values_list("playbook_id", flat=True)) == {
        "K-ROI",
        "K-DAILY-SALES",
        "K-CS-CONV",
        "K-24H-ISSUE",
        "K-24H-SHIP",
        "K-FIVE",
        # PLAYBOOK v2 §7.5: rules with no figure to grade them by
        "K-GOAL",
        "K-ART-BONUS",
        "K-BONUS-1",
        "K-BONUS-2",
        "K-BONUS-3",
        "K-CS-AFTER",
        "K-MATCH",
        "K-BUNDLE",
    }
    assert not Kpi.objects.get(team=team, playbook_id="K-MATCH").metric


def test_loading_the_playbook_again_keeps_an_owners_edited_bands(team):
    roi = Kpi.objects.get(team=team, playbook_id="K-ROI")
    roi.bands = [{"from": 0, "label": "差", "tone": "bad"}, {"from": 2.5, "label": "及格", "tone": "pass"}]
    roi.save()
    report = playbook_load(team=team)
    assert report.kept == {"roles.Kpi": 1}
    assert not report.created
    assert not report.updated
    roi.refresh_from_db()
    assert roi.bands[1]["from"] == 2.5


# --- grades ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("roi", "label"), [("2.99", "不及格"), ("3.00", "及格"), ("3.99", "及格"), ("4.00", "良好"), ("5.00", "优秀"), ("7", "优秀")]
)
def test_roi_is_graded_with_inclusive_bounds(team, roi, label):
    assert grade(Kpi.objects.get(team=team, playbook_id="K-ROI"), Decimal(roi))["label"] == label


def test_roi_of_the_scorecard_is_sales_over_the_operating_cost_and_graded(team):
    _figures(team, date(2026, 11, 20), sales="2990", ad_spend="1000")
    _figures(team, date(2026, 11, 21), sales="1010", ad_spend="0")
    card = scorecard_get(team=team, start=date(2026, 11, 20), end=date(2026, 11, 21))
    roi = next(k for k in card.kpis if k.kpi.playbook_id == "K-ROI")
    assert roi.value == Decimal(4)  # 4,000 ÷ 1,000: the only cost line recorded
    assert roi.grade["label"] == "良好"


# --- ratios over a period ----------------------------------------------------------------------------------------


def test_average_order_value_over_a_week_is_the_weeks_sales_over_its_buyers(team):
    monday = date(2026, 11, 16)
    days = [(Decimal("1000"), 10), (Decimal("9000"), 30), (Decimal("500"), 1)]
    for n, (sales, buyers) in enumerate(days):
        _figures(team, monday + timedelta(days=n), sales=sales, buyers=buyers)
    metrics = metric_list(team=team)
    totals = totals_over(figures_by_day(team=team, start=monday, end=monday + timedelta(days=6)), metrics=metrics)
    aov = metric_value(_metric(team, "aov"), totals)
    assert aov == Decimal("10500") / Decimal(41)
    # Not the average of the daily 100, 300 and 500.
    assert aov != Decimal(300)


def test_a_ratio_without_its_denominator_has_no_value_instead_of_dividing_by_zero(team):
    _figures(team, date(2026, 11, 20), sales="100", ad_spend="0")
    card = scorecard_get(team=team, start=date(2026, 11, 20), end=date(2026, 11, 20))
    assert card.row("roi").value is None
    assert card.row("roi").display == "–"


def test_a_stock_such_as_member_total_takes_the_last_day_not_the_sum(team):
    _figures(team, date(2026, 11, 1), members_total="100")
    _figures(team, date(2026, 11, 2), members_total="120")
    card = scorecard_get(team=team, start=date(2026, 11, 1), end=date(2026, 11, 30))
    assert card.row("members_total").value == Decimal(120)


# --- targets -----------------------------------------------------------------------------------------------------


def test_a_monthly_target_of_300000_in_a_30_day_month_is_10000_a_day_evenly(team):
    target = target_set(
        team=team, metric=_metric(team, "sales"), month=date(2026, 11, 1), value="300000", split=SplitKind.EVEN, actor=None, now=MONDAY
    )
    per_day = daily_targets([target], code="sales", start=date(2026, 11, 1), end=date(2026, 11, 30))
    assert len(per_day) == 30
    assert set(per_day.values()) == {Decimal(10000)}


def test_weekday_weights_give_the_weekend_more_of_the_month(team):
    # November 2026: 30 days, starting on a Sunday: 4 Mondays ... 5 Sundays and 5 Mondays.
    weights = [1, 1, 1, 1, 1, 2, 2]
    target = target_set(
        team=team,
        metric=_metric(team, "sales"),
        month=date(2026, 11, 1),
        value="300000",
        split=SplitKind.WEEKDAY,
        weekday_weights=weights,
        actor=None,
        now=MONDAY,
    )
    per_day = daily_targets([target], code="sales", start=date(2026, 11, 1), end=date(2026, 11, 30))
    total_weight = sum(weights[d.weekday()] for d in per_day)
    assert per_day[date(2026, 11, 7)] == 2 * per_day[date(2026, 11, 4)]  # a Saturday, a Wednesday
    assert per_day[date(2026, 11, 4)] == Decimal(300000) / total_weight
    assert sum(per_day.values()).quantize(Decimal("0.01")) == Decimal("300000.00")


def test_a_ratio_cannot_be_split_over_days_and_weights_need_seven_numbers(team):
    with translation.override("en"), pytest.raises(ValidationError, match="adds up over days"):
        target_set(team=team, metric=_metric(team, "roi"), month=date(2026, 11, 1), value="4", split="even", actor=None, now=MONDAY)
    with translation.override("en"), pytest.raises(ValidationError, match="seven weekday weights"):
        target_set(
            team=team,
            metric=_metric(team, "sales"),
            month=date(2026, 11, 1),
            value="1",
            split="weekday",
            weekday_weights=[1, 2],
            actor=None,
            now=MONDAY,
        )


def test_a_share_target_over_100_percent_is_refused(team):
    conversion = _metric(team, "conversion")
    with translation.override("en"), pytest.raises(ValidationError, match="cannot be over 100%"):
        target_set(team=team, metric=conversion, month=date(2026, 11, 1), value="5", actor=None, now=MONDAY)
    target = target_set(team=team, metric=conversion, month=date(2026, 11, 1), value="5", actor=None, now=MONDAY, in_percent=True)
    assert target.value == Decimal("0.05")


def test_setting_a_target_again_changes_it_rather_than_adding_one(team, director):
    for value in ("100", "200"):
        target_set(
            team=team, metric=_metric(team, "sales"), month=date(2026, 11, 15), value=value, split="even", actor=director, now=MONDAY
        )
    target = Target.objects.get(team=team)
    assert (target.value, target.month) == (Decimal(200), date(2026, 11, 1))


def test_each_day_is_judged_against_its_target_and_flagged_under_half(team):
    target_set(team=team, metric=_metric(team, "sales"), month=date(2026, 11, 1), value="300000", split="even", actor=None, now=MONDAY)
    _figures(team, date(2026, 11, 16), sales="10000")
    _figures(team, date(2026, 11, 17), sales="6000")
    _figures(team, date(2026, 11, 18), sales="4999")
    card = scorecard_get(team=team, start=date(2026, 11, 16), end=date(2026, 11, 18))
    sales = next(k for k in card.kpis if k.kpi.playbook_id == "K-DAILY-SALES")
    assert [(d.verdict, d.flagged) for d in sales.days] == [("达标", False), ("不达标", False), ("不达标", True)]
    assert sales.display == "1/3"


def test_each_service_member_is_compared_with_the_team_average(team, service_member, warehouse_member):
    entry_save(
        team=team,
        day=date(2026, 11, 20),
        member=service_member,
        figures={"cs_inquiries": 100, "cs_inquiry_buyers": 40},
        actor=None,
        now=MONDAY,
    )
    entry_save(
        team=team,
        day=date(2026, 11, 20),
        member=warehouse_member,
        figures={"cs_inquiries": 100, "cs_inquiry_buyers": 20},
        actor=None,
        now=MONDAY,
    )
    card = scorecard_get(team=team, start=date(2026, 11, 20), end=date(2026, 11, 20))
    conv = next(k for k in card.kpis if k.kpi.playbook_id == "K-CS-CONV")
    assert conv.value == Decimal("0.3")
    assert {(m.name, m.above_average) for m in conv.members} == {("郑客服", True), ("陈仓库", False)}


# --- entering figures --------------------------------------------------------------------------------------------


def test_a_figure_for_a_day_in_the_future_is_refused(team):
    with translation.override("en"), pytest.raises(ValidationError, match="has not happened yet"):
        _figures(team, date(2026, 11, 24), sales="1")


def test_a_bad_figure_names_the_field_and_saves_nothing(team):
    with translation.override("en"), pytest.raises(ValidationError) as caught:
        _figures(team, date(2026, 11, 20), sales="12", visitors="lots")
    assert "访客数: “lots” is not a number." in caught.value.messages
    assert not MetricEntry.objects.exists()


def test_an_empty_figure_removes_the_days_value(team):
    _figures(team, date(2026, 11, 20), sales="12")
    _figures(team, date(2026, 11, 20), sales="")
    assert not MetricEntry.objects.exists()


# --- the import --------------------------------------------------------------------------------------------------

CSV = (
    "日期,访客数,浏览量,支付金额,支付买家数,支付订单数,店铺名\n"
    '2026-11-20,1000,3500,"12,000.50",120,130,测试\n'
    "2026/11/21,900,3000,9000,90,95,测试\n"
)


def _import(team, text_or_bytes, filename="export.csv"):
    content = text_or_bytes.encode("utf-8") if isinstance(text_or_bytes, str) else text_or_bytes
    return entries_import(team=team, content=content, filename=filename, actor=None, now=MONDAY)


def _sales(team) -> dict[date, Decimal]:
    return dict(MetricEntry.objects.filter(team=team, metric__code="sales").values_list("date", "value"))


def test_a_utf8_csv_without_bom_imports(team):
    result = _import(team, CSV)
    assert result.days == [date(2026, 11, 20), date(2026, 11, 21)]
    assert result.figures == 10
    assert result.ignored_columns == ["店铺名"]
    assert _sales(team) == {date(2026, 11, 20): Decimal("12000.50"), date(2026, 11, 21): Decimal(9000)}


def test_a_utf8_csv_with_a_bom_imports(team):
    _import(team, "\ufeff".encode() + CSV.encode("utf-8"))
    assert len(_sales(team)) == 2


def test_a_gbk_csv_imports(team):
    _import(team, CSV.encode("gbk"))
    assert _sales(team)[date(2026, 11, 21)] == Decimal(9000)
    assert MetricEntry.objects.get(metric__code="visitors", date=date(2026, 11, 20)).value == 1000


def test_an_xlsx_export_with_a_title_row_imports(team):
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["店铺经营概况 2026-11"])
    sheet.append(["统计日期", "访客数", "支付金额", "支付买家数"])
    sheet.append([date(2026, 11, 20), 1000, 12000.5, 120])
    sheet.append(["2026-11-21", "900", "9,000", 90])
    buffer = io.BytesIO()
    workbook.save(buffer)
    result = _import(team, buffer.getvalue(), filename="生意参谋.xlsx")
    assert result.days == [date(2026, 11, 20), date(2026, 11, 21)]
    assert _sales(team) == {date(2026, 11, 20): Decimal("12000.50"), date(2026, 11, 21): Decimal(9000)}


def test_an_import_with_one_bad_row_saves_nothing_and_names_the_row(team):
    bad = CSV + "2026-11-22,800,abc,100,1,1,测试\n"
    with translation.override("en"), pytest.raises(ValidationError) as caught:
        _import(team, bad)
    assert caught.value.messages[0] == "Row 4: 浏览量: “abc” is not a number."
    assert "Nothing was imported" in caught.value.messages[-1]
    assert not MetricEntry.objects.exists()


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ("11/20/2026,1,1,1,1,1,x", "is not a date"),
        ("2026-11-22,-5,1,1,1,1,x", "cannot be negative"),
        ("2026-12-01,1,1,1,1,1,x", "has not happened yet"),
    ],
)
def test_an_import_refuses_a_row_with_its_reason(team, row, reason):
    with translation.override("en"), pytest.raises(ValidationError, match=reason):
        _import(team, CSV + row + "\n")
    assert not MetricEntry.objects.exists()


def test_reimporting_a_day_replaces_the_files_figures_and_keeps_the_others(team):
    _import(team, CSV)
    _figures(team, date(2026, 11, 20), gross_profit="500", ad_spend="3000")
    with translation.override("en"):
        result = _import(team, "日期,支付金额,访客数\n2026-11-20,777,1000\n")
        summary = result.per_day[0].summary
    assert result.replaced == [date(2026, 11, 20)]
    assert _sales(team) == {date(2026, 11, 20): Decimal(777), date(2026, 11, 21): Decimal(9000)}
    # 浏览量, 支付买家数, 支付订单数 from the first file and 毛利润, 花费 entered by hand are not in the new file: kept.
    kept = dict(MetricEntry.objects.filter(date=date(2026, 11, 20)).values_list("metric__code", "value"))
    assert kept["gross_profit"] == Decimal(500)
    assert kept["ad_spend"] == Decimal(3000)
    assert kept["page_views"] == Decimal(3500)
    assert len(kept) == 7
    assert summary == "2026-11-20: 2 replaced, 0 added, 5 kept (not in the file)."


def test_an_empty_cell_in_a_reimport_keeps_the_recorded_figure(team):
    _import(team, CSV)
    _import(team, "日期,支付金额,访客数\n2026-11-20,,1100\n")
    assert _sales(team)[date(2026, 11, 20)] == Decimal("12000.50")
    assert MetricEntry.objects.get(metric__code="visitors", date=date(2026, 11, 20)).value == 1100


def test_a_reimport_records_before_and_after_of_each_changed_figure(team, director):
    _figures(team, date(2026, 11, 20), sales="100", visitors="50", ad_spend="30")
    entries_import(
        team=team,
        content="日期,支付金额,访客数,浏览量\n2026-11-20,150,50,400\n".encode("gbk"),
        filename="x.csv",
        actor=director,
        now=MONDAY,
    )
    changes = MetricEntryChange.objects.filter(actor=director)
    # 访客数 is unchanged and 花费 untouched: no change recorded for them.
    assert sorted((c.metric.code, c.before, c.after, c.source) for c in changes) == [
        ("page_views", None, Decimal(400), "import"),
        ("sales", Decimal(100), Decimal(150), "import"),
    ]


def test_entering_and_clearing_a_figure_records_before_and_after(team, director):
    entry_save(team=team, day=date(2026, 11, 20), figures={"sales": "12"}, actor=director, now=MONDAY)
    entry_save(team=team, day=date(2026, 11, 20), figures={"sales": "15"}, actor=director, now=MONDAY + timedelta(minutes=1))
    entry_save(team=team, day=date(2026, 11, 20), figures={"sales": ""}, actor=director, now=MONDAY + timedelta(minutes=2))
    assert list(MetricEntryChange.objects.order_by("at").values_list("before", "after")) == [
        (None, Decimal(12)),
        (Decimal(12), Decimal(15)),
        (Decimal(15), None),
    ]
    assert not MetricEntry.objects.exists()


def test_a_failed_import_records_no_change(team):
    with pytest.raises(ValidationError):
        _import(team, CSV + "2026-11-22,800,abc,100,1,1,测试\n")
    assert not MetricEntryChange.objects.exists()


def test_import_messages_use_the_full_width_colon_in_chinese(team):
    with translation.override("zh-hans"):
        assert translation.gettext("%(line)s: %(message)s") == "%(line)s：%(message)s"
    with translation.override("zh-hans"), pytest.raises(ValidationError) as caught:
        _import(team, CSV + "2026-11-22,800,abc,100,1,1,测试\n")
    first = caught.value.messages[0]
    assert first.startswith("第 4 行")
    assert ":" not in first


def test_a_file_that_is_neither_csv_nor_xlsx_is_refused_clearly(team):
    with translation.override("en"), pytest.raises(ValidationError, match=r"Upload an \.xlsx or \.csv file"):
        _import(team, b"x", filename="data.pdf")
    with translation.override("en"), pytest.raises(ValidationError, match="not an Excel workbook"):
        _import(team, b"not a zip", filename="data.xlsx")
    with translation.override("en"), pytest.raises(ValidationError, match="日期"):
        _import(team, "访客数\n1\n")


# --- the weekly view ---------------------------------------------------------------------------------------------


def test_the_weekly_view_answers_fewer_orders_but_more_sales(team):
    this_monday, last_monday = date(2026, 11, 23), date(2026, 11, 16)
    _figures(team, last_monday, orders=100, sales="10000", buyers=100, gross_profit="3000")
    _figures(team, this_monday, orders=80, sales="12000", buyers=80, gross_profit="3600")
    view = week_view(team=team, day=this_monday)
    assert view.weeks[:2] == [(this_monday, this_monday), (last_monday, last_monday)]  # like for like: Monday against Monday
    assert view.answers[0].verdict == "yes"
    assert "150.00" in view.answers[0].text  # 客单价 12000 / 80
    assert view.answers[2].verdict == "no"  # orders fell


def test_a_team_with_its_metrics_and_targets_can_be_deleted(team, director):
    target_set(team=team, metric=_metric(team, "sales"), month=date(2026, 11, 1), value="1", actor=director, now=MONDAY)
    _figures(team, date(2026, 11, 20), sales="1")
    team.delete()
    assert not Metric.objects.exists()
    assert not Kpi.objects.exists()


def test_a_member_target_is_set_against_that_members_own_figures(team, service_member, director):
    target_set(
        team=team,
        metric=_metric(team, "cs_conversion"),
        month=date(2026, 11, 1),
        value="0.5",
        member=service_member,
        actor=director,
        now=MONDAY,
    )
    entry_save(
        team=team,
        day=date(2026, 11, 20),
        member=service_member,
        figures={"cs_inquiries": 100, "cs_inquiry_buyers": 40},
        actor=None,
        now=MONDAY,
    )
    card = scorecard_get(team=team, start=date(2026, 11, 1), end=date(2026, 11, 23))
    member = next(k for k in card.kpis if k.kpi.playbook_id == "K-CS-CONV").members[0]
    assert (member.target, member.on_target) == (Decimal("0.5"), False)


def test_headers_with_their_unit_in_brackets_are_recognised(team):
    _import(team, "日期,支付金额(元),访客数（人）,总停留时长(秒)\n2026-11-20,100,10,600\n")
    assert _sales(team) == {date(2026, 11, 20): Decimal(100)}
    assert MetricEntry.objects.get(metric__code="visitors").value == 10
    assert MetricEntry.objects.get(metric__code="online_seconds").value == 600
