"""Reads for KPIs: the figures of a period, sums and ratios from summed parts, their format, daily targets, and who
may enter figures. The scorecard that grades them is roles.selectors.kpi_scorecard, the weekly view kpi_week."""

from __future__ import annotations

import calendar
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_DOWN, Decimal

from django.utils.translation import gettext as _

from roles.models import Aggregation, Metric, MetricEntry, MetricKind, PeriodFigure, SplitKind, Target, Team

Figures = dict[str, Decimal]  # metric code -> value


def metric_list(*, team: Team) -> list[Metric]:
    """The team's active metrics in playbook order (one query); a mean's ratio is the list's own, with its parts."""
    metrics = list(Metric.objects.filter(team=team, is_active=True).select_related("numerator", "denominator").order_by("order", "id"))
    by_id = {m.pk: m for m in metrics}
    for metric in metrics:
        if metric.kind == MetricKind.MEAN and metric.numerator_id in by_id:
            metric.numerator = by_id[metric.numerator_id]
    return metrics


def figures_by_day(*, team: Team, start: date, end: date) -> dict[date, Figures]:
    """The shop's recorded figures per day between two dates, inclusive (one query)."""
    rows = (
        MetricEntry.objects.filter(team=team, member__isnull=True, date__range=(start, end))
        .values_list("date", "metric__code", "value")
        .order_by("date")
    )
    result: dict[date, Figures] = defaultdict(dict)
    for day, code, value in rows:
        result[day][code] = value
    return dict(result)


@dataclass
class PeriodFigures:
    """A period's recorded figures: the shop's per day, and each member's summed, with the members' names."""

    by_day: dict[date, Figures]
    by_member: dict[int, Figures]
    names: dict[int, str]
    member_days: dict[int, dict[date, Figures]] = field(default_factory=dict)  # each member's figures per day


def figures_of_period(*, team: Team, start: date, end: date) -> PeriodFigures:
    """The shop's and the members' figures of a period in one query (the scorecard's; the board counts its queries)."""
    rows = (
        MetricEntry.objects.filter(team=team, date__range=(start, end))
        .values_list("date", "member_id", "member__display_name", "metric__code", "value")
        .order_by("date")
    )
    by_day: dict[date, Figures] = defaultdict(dict)
    by_member: dict[int, Figures] = defaultdict(dict)
    member_days: dict[int, dict[date, Figures]] = defaultdict(lambda: defaultdict(dict))
    names: dict[int, str] = {}
    for day, member_id, name, code, value in rows:
        if member_id is None:
            by_day[day][code] = value
        else:
            by_member[member_id][code] = by_member[member_id].get(code, Decimal(0)) + value
            member_days[member_id][day][code] = value
            names[member_id] = name
    return PeriodFigures(
        by_day=dict(by_day), by_member=dict(by_member), names=names, member_days={m: dict(d) for m, d in member_days.items()}
    )


def totals_over(days: dict[date, Figures], *, metrics: list[Metric]) -> Figures:
    """A period's figures: summed, or the last day's value for a stock such as 会员总数; then each sum (运营成本) as the
    total of its lines that have a figure."""
    last_codes = {m.code for m in metrics if m.aggregation == Aggregation.LAST}
    totals: Figures = {}
    for day in sorted(days):
        for code, value in days[day].items():
            totals[code] = value if code in last_codes else totals.get(code, Decimal(0)) + value
    return sums_add(totals, metrics=metrics)


def sum_lines(metrics: list[Metric]) -> dict[str, list[Metric]]:
    """Each sum's lines (K-ROI's 运营成本: 直通车花费, 万相台花费, 其他广告费, 免邮费, 打折促销, 其他运营成本, and any line
    the team adds), in playbook order."""
    by_id = {m.pk: m for m in metrics if m.kind == MetricKind.SUM}
    lines: dict[str, list[Metric]] = {m.code: [] for m in by_id.values()}
    for metric in metrics:
        if metric.part_of_id in by_id:
            lines[by_id[metric.part_of_id].code].append(metric)
    return lines


def sums_add(figures: Figures, *, metrics: list[Metric]) -> Figures:
    """The figures with each sum added: the total of its lines that have a figure (none: no figure for the sum)."""
    result = dict(figures)
    for code, lines in sum_lines(metrics).items():
        present = [figures[line.code] for line in lines if line.code in figures]
        if present:
            result[code] = sum(present, Decimal(0))
    return result


def metric_covered(metric: Metric, figures: Figures) -> bool:
    """Whether one day's figures (sums added) hold what the metric needs: itself, or both parts of a ratio."""
    if metric.kind == MetricKind.MEAN:
        metric = metric.numerator
    if metric.is_ratio:
        return metric.numerator.code in figures and metric.denominator.code in figures
    return metric.code in figures


def metric_mean(metric: Metric, days: dict[date, Figures]) -> tuple[Decimal | None, int]:
    """002's 均值 (客单价均值, 全店转化率均值): the days' ratios added up and divided by the days that have one."""
    values = [v for v in (metric_value(metric.numerator, figures) for figures in days.values()) if v is not None]
    return (sum(values, Decimal(0)) / len(values) if values else None), len(values)


def period_figures_get(*, team: Team, start: date, end: date) -> Figures:
    """Figures of a period export for exactly this period (a week's or a month's 访客数, counted once each)."""
    if start == end:
        return {}
    return dict(PeriodFigure.objects.filter(team=team, start=start, end=end).values_list("metric__code", "value"))


def metric_value(metric: Metric, totals: Figures) -> Decimal | None:
    """A figure's total, or a ratio of two totals (never an average of daily ratios); None when a part is missing or zero.

    A sum's total is in `totals` (totals_over adds it); a mean needs the days (metric_mean), not totals.
    """
    if metric.kind == MetricKind.MEAN:
        return None
    if not metric.is_ratio:
        return totals.get(metric.code)
    numerator = totals.get(metric.numerator.code)
    denominator = totals.get(metric.denominator.code)
    if numerator is None or not denominator:
        return None
    return numerator / denominator


def summed_by_day_note(names: list[str]) -> str:
    """Said under a period's figure that counts people (访客数, 支付买家数) when it is the days' sum, not the period's own."""
    return _("%(names)s summed by day: the shop's own figure for the period counts each person once (import the period's export).") % {
        "names": "、".join(names)
    }


ROI_UNIT = "1:"  # a return shown as 1:2.99 (001 §1 B writes the bands 1:3, 1:4, 1:5)
HUNDREDTH = Decimal("0.01")


def metric_format(metric: Metric, value: Decimal | None, *, truncate: bool = False) -> str:
    """For people: 12.34% for a share, 1:2.99 for a return, 2 decimals for other ratios and money, whole numbers for counts.

    A return, and any graded value (truncate), is cut, not rounded: 2.995 is 1:2.99, graded 不及格, where rounding
    showed "3.00" beside 不及格. Grades are decided on the exact value (grade()); a band's bound has at most 2 decimals.
    """
    if value is None:
        return "–"
    if metric.unit == ROI_UNIT:
        return f"1:{value.quantize(HUNDREDTH, rounding=ROUND_DOWN):,.2f}"
    if metric.is_share:
        shown = (value * 100).quantize(HUNDREDTH, rounding=ROUND_DOWN) if truncate else value * 100
        return f"{shown:.2f}%"
    if metric.kind in (MetricKind.RATIO, MetricKind.MEAN) or metric.unit == "元":
        return f"{value.quantize(HUNDREDTH, rounding=ROUND_DOWN) if truncate else value:,.2f}"
    return f"{value:,.0f}"


def month_days(month: date) -> list[date]:
    first = month.replace(day=1)
    return [first + timedelta(days=n) for n in range(calendar.monthrange(first.year, first.month)[1])]


def target_for_day(target: Target, day: date) -> Decimal:
    """K-DAILY-SALES: the month's target split over its days, evenly or by weekday weights; a level target as is."""
    if target.split == SplitKind.NONE:
        return target.value
    days = month_days(target.month)
    if target.split == SplitKind.EVEN:
        return target.value / len(days)
    weights = [Decimal(str(w)) for w in target.weekday_weights]
    return target.value * weights[day.weekday()] / sum(weights[d.weekday()] for d in days)


def targets_in(*, team: Team, start: date, end: date) -> list[Target]:
    """Team-wide, role and member targets of the months the period touches (one query)."""
    return list(
        Target.objects.filter(team=team, month__gte=start.replace(day=1), month__lte=end).select_related("metric", "role", "member")
    )


def daily_targets(targets: list[Target], *, code: str, start: date, end: date) -> dict[date, Decimal]:
    """The team-wide target of one metric for each day of the period that has one."""
    by_month = {t.month: t for t in targets if t.metric.code == code and t.role_id is None and t.member_id is None}
    result = {}
    day = start
    while day <= end:
        target = by_month.get(day.replace(day=1))
        if target is not None:
            result[day] = target_for_day(target, day)
        day += timedelta(days=1)
    return result


def period_target(targets: list[Target], *, metric: Metric, start: date, end: date) -> Decimal | None:
    """The team's target over a period: the split days summed for a split target, the month's level otherwise."""
    team_targets = [t for t in targets if t.metric_id == metric.pk and t.role_id is None and t.member_id is None]
    if not team_targets:
        return None
    if all(t.split == SplitKind.NONE for t in team_targets):
        return next(t.value for t in sorted(team_targets, key=lambda t: t.month, reverse=True))
    per_day = daily_targets(team_targets, code=metric.code, start=start, end=end)
    return sum(per_day.values(), Decimal(0)) if per_day else None


# --- who may do what -----------------------------------------------------------------------------------------------


def member_can_enter_figures(*, member) -> bool:
    """The director and the role leads enter and import the day's figures (运营 reads them first every morning)."""
    from roles.selectors import Level, member_level

    return member_level(member=member) in (Level.LEAD, Level.DIRECTOR, Level.ADMIN)


def member_can_set_targets(*, member) -> bool:
    """R-DIR sets strategy and targets (PLAYBOOK §1)."""
    from roles.selectors import Level, member_level

    return member_level(member=member) in (Level.DIRECTOR, Level.ADMIN)


def members_recording_figures(*, team: Team) -> list:
    """Who records per-member figures: the 客服, whose 询单 figures K-CS-CONV compares (PLAYBOOK §5)."""
    from roles.models import Member, RoleCode

    return list(Member.objects.filter(team=team, role_links__role__code=RoleCode.SERVICE).active().distinct().order_by("display_name"))
