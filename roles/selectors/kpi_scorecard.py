"""The scorecard: every metric and every §5 target over a period, graded (bands, each day against its target, each
member against the team, share on time), with the days behind a per-member ratio (K-CS-CONV)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.utils.translation import gettext as _

from roles.models import Kpi, KpiKind, Metric, MetricKind, MetricScope, Target, Team
from roles.selectors.kpi import (
    Figures,
    PeriodFigures,
    daily_targets,
    figures_of_period,
    metric_covered,
    metric_format,
    metric_list,
    metric_mean,
    metric_value,
    period_figures_get,
    period_target,
    sum_lines,
    summed_by_day_note,
    sums_add,
    targets_in,
    totals_over,
)


def grade(kpi: Kpi, value: Decimal | None) -> dict | None:
    """The highest band whose lower bound the value reaches (bounds inclusive: ROI 3.00 is 及格)."""
    if value is None or not kpi.bands:
        return None
    reached = [band for band in kpi.bands if value >= Decimal(str(band["from"]))]
    if not reached:
        return kpi.bands[0]
    return max(reached, key=lambda band: Decimal(str(band["from"])))


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
    numerator: Decimal | None = None  # the member's parts summed over the period (询单成交人数, 询单人数)
    denominator: Decimal | None = None

    @property
    def on_target(self) -> bool | None:
        return None if self.target is None or self.value is None else self.value >= self.target


@dataclass
class PartsDay:
    """One day of a per-member ratio (K-CS-CONV): the agents' parts summed and divided, with each agent's own."""

    day: date
    numerator: Decimal | None
    denominator: Decimal | None
    value: Decimal | None
    agents: list[MemberScore] = field(default_factory=list)  # the agents with a figure that day


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
    numerator: Decimal | None = None  # a per-member ratio's parts, every agent's summed over the period
    denominator: Decimal | None = None
    daily: list[PartsDay] = field(default_factory=list)  # the days whose parts, added up, make the period's figure

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
        notes.append(summed_by_day_note(summed))
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


def scorecard_get(*, team: Team, start: date, end: date, on_time: dict[str, tuple[int, int]] | None = None) -> Scorecard:
    """Every metric and every §5 target over a period, in four queries (metrics, KPIs, figures, targets).

    `on_time` is, by KPI ID, (closed on time, closed or due) for the share-on-time measures (K-24H-ISSUE from the
    problem orders, K-24H-SHIP from the orders to ship), which live in checklists.
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
            result = _member_vs_team(result, period=period, start=start, end=end, targets=targets)
        elif kpi.kind == KpiKind.ON_TIME and on_time is not None and kpi.playbook_id in on_time:
            on_time_count, total = on_time[kpi.playbook_id]
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


def _pooled(metric: Metric, figures: list[Figures]) -> tuple[Decimal | None, Decimal | None, Decimal | None]:
    """A ratio's parts added up over several members' figures (a part someone lacks counts 0), and their ratio."""
    if not figures:
        return None, None, None
    num, den = metric.numerator.code, metric.denominator.code
    totals = {code: sum((f.get(code, Decimal(0)) for f in figures), Decimal(0)) for code in (num, den)}
    return totals[num], totals[den], metric_value(metric, totals)


def _agent_score(metric: Metric, member_id: int, name: str, figures: Figures) -> MemberScore:
    """One member's ratio from their own figures (a missing part: no ratio), with the parts."""
    value = metric_value(metric, figures)
    numerator, denominator = figures.get(metric.numerator.code), figures.get(metric.denominator.code)
    return MemberScore(member_id=member_id, name=name, value=value, above_average=None, numerator=numerator, denominator=denominator)


def _member_vs_team(result: KpiResult, *, period: PeriodFigures, start: date, end: date, targets: list[Target]) -> KpiResult:
    """K-CS-CONV: each member's ratio from their own summed parts, against the team's (all members' parts summed),
    with the days behind it: each day's parts summed over the agents, and each agent's own."""
    metric = result.kpi.metric
    per_member, names = period.by_member, period.names
    result.numerator, result.denominator, average = _pooled(metric, list(per_member.values()))
    result.value, result.display = average, metric_format(metric, average)
    by_name = sorted(per_member, key=lambda member_id: names.get(member_id, ""))
    parts = (metric.numerator.code, metric.denominator.code)
    for day in _days(start, end):
        figures = {m: period.member_days.get(m, {}).get(day, {}) for m in by_name}
        with_figures = [m for m in by_name if any(code in figures[m] for code in parts)]
        numerator, denominator, value = _pooled(metric, [figures[m] for m in with_figures])
        agents = [_agent_score(metric, m, names.get(m, "?"), figures[m]) for m in with_figures]
        result.daily.append(PartsDay(day=day, numerator=numerator, denominator=denominator, value=value, agents=agents))
    # A member target of the period's last month (a level such as 0.45 for this 客服).
    month = end.replace(day=1)
    own_targets = {t.member_id: t.value for t in targets if t.metric_id == metric.pk and t.member_id and t.month == month}
    for member_id in by_name:
        score = _agent_score(metric, member_id, names.get(member_id, "?"), per_member[member_id])
        score.above_average = None if score.value is None or average is None else score.value >= average
        score.target = own_targets.get(member_id)
        result.members.append(score)
    result.detail = _("Team average %(average)s") % {"average": result.display}
    return result
