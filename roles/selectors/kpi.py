"""Reads for KPIs: figures over a period, ratios from summed parts, daily targets, grades, the scorecard, the weekly view."""

from __future__ import annotations

import calendar
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_DOWN, Decimal

from django.utils.translation import gettext as _

from opsteam.lib.playbook import playbook_read
from roles.models import Aggregation, Kpi, KpiKind, Metric, MetricEntry, MetricKind, MetricScope, PeriodFigure, SplitKind, Target, Team

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


def figures_of_period(*, team: Team, start: date, end: date) -> PeriodFigures:
    """The shop's and the members' figures of a period in one query (the scorecard's; the board counts its queries)."""
    rows = (
        MetricEntry.objects.filter(team=team, date__range=(start, end))
        .values_list("date", "member_id", "member__display_name", "metric__code", "value")
        .order_by("date")
    )
    by_day: dict[date, Figures] = defaultdict(dict)
    by_member: dict[int, Figures] = defaultdict(dict)
    names: dict[int, str] = {}
    for day, member_id, name, code, value in rows:
        if member_id is None:
            by_day[day][code] = value
        else:
            by_member[member_id][code] = by_member[member_id].get(code, Decimal(0)) + value
            names[member_id] = name
    return PeriodFigures(by_day=dict(by_day), by_member=dict(by_member), names=names)


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


def grade(kpi: Kpi, value: Decimal | None) -> dict | None:
    """The highest band whose lower bound the value reaches (bounds inclusive: ROI 3.00 is 及格)."""
    if value is None or not kpi.bands:
        return None
    reached = [band for band in kpi.bands if value >= Decimal(str(band["from"]))]
    if not reached:
        return kpi.bands[0]
    return max(reached, key=lambda band: Decimal(str(band["from"])))


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


# --- the scorecard -----------------------------------------------------------------------------------------------


@dataclass
class ScoreRow:
    """One metric over the period, with its parts for a ratio, its target and its grade."""

    metric: Metric
    value: Decimal | None
    numerator: Decimal | None = None
    denominator: Decimal | None = None
    target: Decimal | None = None
    grade: dict | None = None
    days: int = 0  # the period's days
    missing: list[date] = field(default_factory=list)  # days with no figure for it (or for a part of it)
    parts: list[tuple[Metric, Decimal | None]] = field(default_factory=list)  # a sum's lines (运营成本 behind K-ROI)
    notes: list[str] = field(default_factory=list)  # e.g. "访客数 summed by day"
    mean_days: int = 0  # the days a mean averages

    @property
    def display(self) -> str:
        return metric_format(self.metric, self.value, truncate=self.grade is not None)

    @property
    def coverage(self) -> str:
        """Over how many days the figure is, and which have none: never a period figure that hides missing days."""
        return days_covered_text(days=self.days, missing=self.missing)

    @property
    def target_display(self) -> str:
        return metric_format(self.metric, self.target) if self.target is not None else ""

    @property
    def on_target(self) -> bool | None:
        if self.target is None or self.value is None:
            return None
        return self.value >= self.target if self.metric.direction == "higher" else self.value <= self.target


def days_covered_text(*, days: int, missing: list[date]) -> str:
    if not missing:
        return _("all %(days)d days") % {"days": days} if days > 1 else ""
    shown = "、".join(d.strftime("%m-%d") for d in missing[:10]) + ("…" if len(missing) > 10 else "")
    return _("%(with)d of %(days)d days; no figures for %(missing)s") % {"with": days - len(missing), "days": days, "missing": shown}


@dataclass
class SalesDay:
    """K-DAILY-SALES for one day: 达标 when sales reach the day's target, flagged under the lowest share."""

    day: date
    sales: Decimal | None
    target: Decimal | None
    min_share: Decimal

    @property
    def share(self) -> Decimal | None:
        if self.sales is None or not self.target:
            return None
        return self.sales / self.target

    @property
    def met(self) -> bool | None:
        return None if self.share is None else self.share >= 1

    @property
    def flagged(self) -> bool:
        return self.share is not None and self.share < self.min_share

    @property
    def missing(self) -> bool:
        """A day with a target and no sales figure: 缺数据, neither met nor missed."""
        return self.target is not None and self.target > 0 and self.sales is None

    @property
    def verdict(self) -> str:
        if self.missing:
            return "缺数据"
        if self.share is None:
            return ""
        return "达标" if self.met else "不达标"


@dataclass
class MemberScore:
    member_id: int
    name: str
    value: Decimal | None
    above_average: bool | None
    target: Decimal | None = None  # the member's own target for the month, when the director set one

    @property
    def on_target(self) -> bool | None:
        return None if self.target is None or self.value is None else self.value >= self.target


@dataclass
class KpiResult:
    """One §5 target judged over the period."""

    kpi: Kpi
    value: Decimal | None = None
    display: str = "–"
    grade: dict | None = None
    days: list[SalesDay] = field(default_factory=list)
    members: list[MemberScore] = field(default_factory=list)
    tracked: list[ScoreRow] = field(default_factory=list)
    detail: str = ""
    row: ScoreRow | None = None  # a graded KPI's metric over the period (its parts, its days)

    @property
    def tone(self) -> str:
        if self.grade:
            return self.grade.get("tone", "pass")
        return ""


@dataclass
class Scorecard:
    start: date
    end: date
    rows: list[ScoreRow]
    kpis: list[KpiResult]
    by_day: dict[date, Figures]
    metrics: list[Metric]

    def row(self, code: str) -> ScoreRow | None:
        return next((r for r in self.rows if r.metric.code == code), None)


def period_notes(metric: Metric, *, days_with: int, from_period: set[str]) -> list[str]:
    """Say where a figure that counts people once per period came from: the period's own export, or the days summed."""
    if metric.kind == MetricKind.MEAN:
        return []
    parts = [metric.numerator, metric.denominator] if metric.is_ratio else [metric]
    notes = []
    summed = [p.name for p in parts if p.distinct and p.code not in from_period]
    if summed and days_with > 1:
        notes.append(
            _("%(names)s summed by day: the shop's own figure for the period counts each person once (import the period's export).")
            % {"names": "、".join(summed)}
        )
    own = [p.name for p in parts if p.code in from_period]
    if own:
        notes.append(_("%(names)s from the period's own export (each person counted once).") % {"names": "、".join(own)})
    return notes


def _rows(
    metrics: list[Metric],
    by_day: dict[date, Figures],
    totals: Figures,
    targets: list[Target],
    *,
    start: date,
    end: date,
    kpis: list[Kpi],
    from_period: set[str],
) -> list[ScoreRow]:
    """Each shop metric over the period, with the days that have no figure for it and, for a sum, its lines."""
    banded = {k.metric_id: k for k in kpis if k.kind == KpiKind.BANDS and k.metric_id}
    lines = sum_lines(metrics)
    period = _days(start, end)
    rows = []
    for metric in metrics:
        if metric.scope != MetricScope.SHOP:
            continue
        mean_days = 0
        if metric.kind == MetricKind.MEAN:
            value, mean_days = metric_mean(metric, by_day)
        else:
            value = metric_value(metric, totals)
        missing = [d for d in period if not metric_covered(metric, by_day.get(d, {}))]
        row = ScoreRow(
            metric=metric,
            value=value,
            target=period_target(targets, metric=metric, start=start, end=end),
            days=len(period),
            missing=missing,
            mean_days=mean_days,
        )
        row.notes = period_notes(metric, days_with=len(period) - len(missing), from_period=from_period)
        if metric.is_ratio:
            row.numerator, row.denominator = totals.get(metric.numerator.code), totals.get(metric.denominator.code)
            for part in (metric.numerator, metric.denominator):
                if part.kind == MetricKind.SUM:  # K-ROI: the cost lines behind 运营成本
                    row.parts = [(line, totals.get(line.code)) for line in lines.get(part.code, [])]
        if metric.kind == MetricKind.SUM:
            row.parts = [(line, totals.get(line.code)) for line in lines.get(metric.code, [])]
        if metric.pk in banded:
            row.grade = grade(banded[metric.pk], value)
        rows.append(row)
    return rows


def scorecard_get(*, team: Team, start: date, end: date, on_time: tuple[int, int] | None = None) -> Scorecard:
    """Every metric and every §5 target over a period, in four queries (metrics, KPIs, figures, targets).

    `on_time` is K-24H's (closed on time, closed or due) from the problem orders, which live in checklists.
    """
    metrics = metric_list(team=team)
    kpis = list(Kpi.objects.filter(team=team, is_active=True).order_by("order", "id"))
    by_id = {m.pk: m for m in metrics}
    for kpi in kpis:  # the metrics already read, with their parts: no query per KPI
        kpi.metric = by_id.get(kpi.metric_id)
    period = figures_of_period(team=team, start=start, end=end)
    by_day = {day: sums_add(figures, metrics=metrics) for day, figures in period.by_day.items()}
    targets = targets_in(team=team, start=start, end=end)
    totals = totals_over(period.by_day, metrics=metrics)
    # A week's or month's 访客数 / 支付买家数 from the period's own export replaces the days summed (issue 18).
    own = period_figures_get(team=team, start=start, end=end)
    totals.update(own)
    rows = _rows(metrics, by_day, totals, targets, start=start, end=end, kpis=kpis, from_period=set(own))
    by_code = {row.metric.code: row for row in rows}
    member_metrics = [m for m in metrics if m.scope == MetricScope.MEMBER]
    results = []
    for kpi in kpis:
        result = KpiResult(kpi=kpi)
        if kpi.kind == KpiKind.BANDS and kpi.metric and kpi.metric.code in by_code:
            row = by_code[kpi.metric.code]
            result.value, result.display, result.grade = row.value, row.display, row.grade
            result.row = row
            result.detail = "; ".join(p for p in (row_parts_text(row), row.coverage, *row.notes) if p)
        elif kpi.kind == KpiKind.DAILY_TARGET and kpi.metric:
            code = kpi.metric.code
            per_day = daily_targets(targets, code=code, start=start, end=end)
            min_share = kpi.min_share if kpi.min_share is not None else Decimal("0.5")
            result.days = [
                SalesDay(day=day, sales=by_day.get(day, {}).get(code), target=per_day.get(day), min_share=min_share)
                for day in _days(start, end)
            ]
            judged = [d for d in result.days if d.met is not None]
            missing = [d.day for d in result.days if d.missing]
            met = sum(1 for d in judged if d.met)
            # Over every day that has a target: a day with no figures is 缺数据, counted and named, never dropped.
            with_target = len(judged) + len(missing)
            result.value = Decimal(met) / len(judged) if judged else None
            result.display = f"{met}/{with_target}" if with_target else "–"
            flagged = sum(1 for d in judged if d.flagged)
            tone = None if not judged else "best" if met == len(judged) and not missing else "bad" if flagged else "pass"
            result.grade = _tone_grade(tone)
            result.detail = _("%(met)d of %(days)d days met the target; %(flagged)d under %(share)s%%") % {
                "met": met,
                "days": with_target,
                "flagged": flagged,
                "share": f"{min_share * 100:.0f}",
            }
            if missing:
                result.detail += "; " + _("%(count)d days 缺数据 (no figures): %(days)s") % {
                    "count": len(missing),
                    "days": "、".join(d.strftime("%m-%d") for d in missing),
                }
        elif kpi.kind == KpiKind.MEMBER_VS_TEAM and kpi.metric and kpi.metric in member_metrics:
            result = _member_vs_team(result, period=period, end=end, targets=targets)
        elif kpi.kind == KpiKind.ON_TIME and on_time is not None:
            on_time_count, total = on_time
            result.value = Decimal(on_time_count) / total if total else None
            result.display = f"{result.value * 100:.0f}%" if total else "–"
            result.detail = _("%(on_time)d of %(total)d on time") % {"on_time": on_time_count, "total": total}
            result.grade = _tone_grade(None if not total else "best" if on_time_count == total else "bad")
        elif kpi.kind == KpiKind.TRACKED:
            result.tracked = [by_code[code] for code in kpi.tracked_codes if code in by_code]
        results.append(result)
    return Scorecard(start=start, end=end, rows=rows, kpis=results, by_day=by_day, metrics=metrics)


def row_parts_text(row: ScoreRow) -> str:
    """K-ROI's figure with what is behind it: 支付金额 ÷ 运营成本 (直通车花费 …, 免邮费 …, 打折促销 …)."""
    metric = row.metric
    if not metric.is_ratio or not row.parts:
        return ""
    lines = "、".join(f"{line.name} {metric_format(line, value)}" for line, value in row.parts if value is not None)
    return _("%(numerator)s %(num)s ÷ %(denominator)s %(den)s (%(lines)s)") % {
        "numerator": metric.numerator.name,
        "num": metric_format(metric.numerator, row.numerator),
        "denominator": metric.denominator.name,
        "den": metric_format(metric.denominator, row.denominator),
        "lines": lines or _("no cost lines recorded"),
    }


def _tone_grade(tone: str | None) -> dict | None:
    return {"tone": tone, "label": ""} if tone else None


def _days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=n) for n in range((end - start).days + 1)]


def _member_vs_team(result: KpiResult, *, period: PeriodFigures, end: date, targets: list[Target]) -> KpiResult:
    """K-CS-CONV: each member's ratio from their own summed parts, against the team's (all members' parts summed)."""
    metric = result.kpi.metric
    num, den = metric.numerator.code, metric.denominator.code
    per_member, names = period.by_member, period.names
    team_totals = {num: sum((f.get(num, Decimal(0)) for f in per_member.values()), Decimal(0))}
    team_totals[den] = sum((f.get(den, Decimal(0)) for f in per_member.values()), Decimal(0))
    average = metric_value(metric, team_totals)
    result.value, result.display = average, metric_format(metric, average)
    # A member target of the period's last month (a level such as 0.45 for this 客服).
    month = end.replace(day=1)
    own_targets = {t.member_id: t.value for t in targets if t.metric_id == metric.pk and t.member_id and t.month == month}
    for member_id, figures in sorted(per_member.items(), key=lambda item: names.get(item[0], "")):
        value = metric_value(metric, figures)
        above = None if value is None or average is None else value >= average
        own = own_targets.get(member_id)
        result.members.append(
            MemberScore(member_id=member_id, name=names.get(member_id, "?"), value=value, above_average=above, target=own)
        )
    result.detail = _("Team average %(average)s") % {"average": result.display}
    return result


# --- the weekly view ---------------------------------------------------------------------------------------------


@dataclass
class Answer:
    question: str
    verdict: str  # "yes", "no" or "n/a"
    text: str


@dataclass
class WeekView:
    """This week, last week and the week before (PLAYBOOK §6 weekly), with the three questions answered."""

    weeks: list[tuple[date, date]]
    rows: list[tuple[Metric, list[Decimal | None], list[str]]]
    answers: list[Answer]
    notes: list[str] = field(default_factory=list)


def _change(new: Decimal | None, old: Decimal | None) -> int | None:
    """-1, 0 or 1; None when either side is missing."""
    if new is None or old is None:
        return None
    return (new > old) - (new < old)


def week_view(*, team: Team, day: date) -> WeekView:
    """The week of `day` against the two before it, from figures summed per week (two queries, and one per week for
    the period exports' figures).

    Like for like: each week runs from its Monday to the same weekday as `day`, so on a Wednesday this
    week's three days are set against three days, not against two whole weeks. A week's own export (生意参谋's weekly
    访客数, 支付买家数: each person counted once) replaces the days summed for that week.
    """
    monday = day - timedelta(days=day.weekday())
    weeks = [(monday - timedelta(weeks=n), day - timedelta(weeks=n)) for n in range(3)]
    metrics = metric_list(team=team)
    by_day = figures_by_day(team=team, start=weeks[-1][0], end=weeks[0][1])
    totals, own = [], []
    for s, e in weeks:
        week_totals = totals_over({d: f for d, f in by_day.items() if s <= d <= e}, metrics=metrics)
        week_own = period_figures_get(team=team, start=s, end=e)
        week_totals.update(week_own)
        totals.append(week_totals)
        own.append(set(week_own))
    weekly = [m for m in metrics if "weekly" in m.period_list and m.scope == MetricScope.SHOP]
    rows = []
    for metric in weekly:
        if metric.kind == MetricKind.MEAN:
            values = [metric_mean(metric, {d: f for d, f in by_day.items() if s <= d <= e})[0] for s, e in weeks]
        else:
            values = [metric_value(metric, t) for t in totals]
        rows.append((metric, values, [metric_format(metric, v) for v in values]))
    by_code = {m.code: m for m in metrics}
    days_with = [sum(1 for d in by_day if s <= d <= e) for s, e in weeks]
    summed = [m.name for m in metrics if m.distinct and m.code in totals[0] and m.code not in own[0] and days_with[0] > 1]

    def value(code: str, week: int) -> Decimal | None:
        return metric_value(by_code[code], totals[week]) if code in by_code else None

    def fmt(code: str, week: int) -> str:
        return metric_format(by_code[code], value(code, week)) if code in by_code else "–"

    def missing(*codes: str) -> str | None:
        """Which figure is missing for which week: the answer needs both weeks' figures (issue 18)."""
        gaps = []
        for code in codes:
            name = by_code[code].name if code in by_code else code
            weeks_missing = [label for week, label in ((0, _("this week")), (1, _("last week"))) if value(code, week) is None]
            if weeks_missing:
                gaps.append(_("%(name)s for %(weeks)s") % {"name": name, "weeks": _(" and ").join(weeks_missing)})
        if not gaps:
            return None
        return _("Not answered: no %(gaps)s. Enter or import it and the answer follows.") % {"gaps": "; ".join(gaps)}

    questions = playbook_read().get("metrics", {}).get("weekly_questions", ["", "", ""])
    orders, sales, aov, margin, profit = (_change(value(c, 0), value(c, 1)) for c in ("orders", "sales", "aov", "margin", "gross_profit"))
    answers = []
    args = {
        "orders_then": fmt("orders", 1),
        "orders_now": fmt("orders", 0),
        "sales_then": fmt("sales", 1),
        "sales_now": fmt("sales", 0),
        "aov_then": fmt("aov", 1),
        "aov_now": fmt("aov", 0),
        "margin_then": fmt("margin", 1),
        "margin_now": fmt("margin", 0),
        "profit_then": fmt("gross_profit", 1),
        "profit_now": fmt("gross_profit", 0),
    }
    # 1) Fewer orders but more sales: good when each order is worth more and the profit did not fall with it.
    gap = missing("orders", "sales")
    if gap:
        answers.append(Answer(questions[0], "n/a", gap))
    elif orders < 0 < sales:
        text = (
            _(
                "Yes, this week: orders %(orders_then)s → %(orders_now)s, sales %(sales_then)s → %(sales_now)s, "
                "客单价 %(aov_then)s → %(aov_now)s."
            )
            % args
        )
        profit_gap = missing("gross_profit")
        if profit_gap:  # whether it is good depends on the profit: not answered without both weeks' (issue 18)
            answers.append(Answer(questions[0], "n/a", text + " " + profit_gap))
        else:
            good = profit >= 0
            text += (
                " "
                + (
                    _("Gross profit held (%(profit_then)s → %(profit_now)s): a good sign.")
                    if good
                    else _("But gross profit fell (%(profit_then)s → %(profit_now)s): check discounts and costs.")
                )
                % args
            )
            answers.append(Answer(questions[0], "yes" if good else "no", text))
    else:
        answers.append(
            Answer(
                questions[0],
                "n/a",
                _("Not this week: orders %(orders_then)s → %(orders_now)s, sales %(sales_then)s → %(sales_now)s.") % args,
            )
        )
    # 2) Higher 客单价 with a lower margin: good only if the profit in money still grew.
    gap = missing("aov", "margin")
    if gap:
        answers.append(Answer(questions[1], "n/a", gap))
    elif aov > 0 > margin:
        text = _("Yes, this week: 客单价 %(aov_then)s → %(aov_now)s, 毛利率 %(margin_then)s → %(margin_now)s.") % args
        good = profit is not None and profit > 0
        text += (
            " "
            + (
                _("Gross profit still grew (%(profit_then)s → %(profit_now)s): acceptable.")
                if good
                else _("Gross profit did not grow (%(profit_then)s → %(profit_now)s): not a good trade.")
            )
            % args
        )
        answers.append(Answer(questions[1], "yes" if good else "no", text))
    else:
        answers.append(
            Answer(
                questions[1], "n/a", _("Not this week: 客单价 %(aov_then)s → %(aov_now)s, 毛利率 %(margin_then)s → %(margin_now)s.") % args
            )
        )
    # 3) Sales, margin and orders all up: the aim.
    gap = missing("sales", "margin", "orders")
    if gap:
        answers.append(Answer(questions[2], "n/a", gap))
    else:
        not_grown = [name for name, change in (("销售额", sales), ("利润率", margin), ("订单数", orders)) if change <= 0]
        if not not_grown:
            answers.append(Answer(questions[2], "yes", _("Yes: sales, margin and orders all grew this week.")))
        else:
            answers.append(Answer(questions[2], "no", _("Not yet: %(names)s did not grow this week.") % {"names": "、".join(not_grown)}))
    notes = []
    if summed:
        notes.append(
            _("%(names)s summed by day: the shop's own figure for the period counts each person once (import the period's export).")
            % {"names": "、".join(summed)}
        )
    return WeekView(weeks=weeks, rows=rows, answers=answers, notes=notes)


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
