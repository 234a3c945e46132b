"""Reads for KPIs: figures over a period, ratios from summed parts, daily targets, grades, the scorecard, the weekly view."""

from __future__ import annotations

import calendar
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.utils.translation import gettext as _

from opsteam.lib.playbook import playbook_read
from roles.models import Aggregation, Kpi, KpiKind, Metric, MetricEntry, MetricScope, SplitKind, Target, Team

Figures = dict[str, Decimal]  # metric code -> value


def metric_list(*, team: Team) -> list[Metric]:
    """The team's active metrics in playbook order (one query)."""
    return list(Metric.objects.filter(team=team, is_active=True).select_related("numerator", "denominator").order_by("order", "id"))


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
    """A period's figures: summed, or the last day's value for a stock such as 会员总数."""
    last_codes = {m.code for m in metrics if m.aggregation == Aggregation.LAST}
    totals: Figures = {}
    for day in sorted(days):
        for code, value in days[day].items():
            totals[code] = value if code in last_codes else totals.get(code, Decimal(0)) + value
    return totals


def metric_value(metric: Metric, totals: Figures) -> Decimal | None:
    """A figure's total, or a ratio of two totals (never an average of daily ratios); None when a part is missing or zero."""
    if not metric.is_ratio:
        return totals.get(metric.code)
    numerator = totals.get(metric.numerator.code)
    denominator = totals.get(metric.denominator.code)
    if numerator is None or not denominator:
        return None
    return numerator / denominator


def metric_format(metric: Metric, value: Decimal | None) -> str:
    """For people: 12.34% for a share, 2 decimals for other ratios, whole numbers for counts, money with 2 decimals."""
    if value is None:
        return "–"
    if metric.is_share:
        return f"{value * 100:.2f}%"
    if metric.is_ratio or metric.unit == "元":
        return f"{value:,.2f}"
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

    @property
    def display(self) -> str:
        return metric_format(self.metric, self.value)

    @property
    def target_display(self) -> str:
        return metric_format(self.metric, self.target) if self.target is not None else ""

    @property
    def on_target(self) -> bool | None:
        if self.target is None or self.value is None:
            return None
        return self.value >= self.target if self.metric.direction == "higher" else self.value <= self.target


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
    def verdict(self) -> str:
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


def _rows(metrics: list[Metric], totals: Figures, targets: list[Target], *, start: date, end: date, kpis: list[Kpi]) -> list[ScoreRow]:
    banded = {k.metric_id: k for k in kpis if k.kind == KpiKind.BANDS and k.metric_id}
    rows = []
    for metric in metrics:
        if metric.scope != MetricScope.SHOP:
            continue
        value = metric_value(metric, totals)
        row = ScoreRow(metric=metric, value=value, target=period_target(targets, metric=metric, start=start, end=end))
        if metric.is_ratio:
            row.numerator, row.denominator = totals.get(metric.numerator.code), totals.get(metric.denominator.code)
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
    by_day = period.by_day
    targets = targets_in(team=team, start=start, end=end)
    totals = totals_over(by_day, metrics=metrics)
    rows = _rows(metrics, totals, targets, start=start, end=end, kpis=kpis)
    by_code = {row.metric.code: row for row in rows}
    member_metrics = [m for m in metrics if m.scope == MetricScope.MEMBER]
    results = []
    for kpi in kpis:
        result = KpiResult(kpi=kpi)
        if kpi.kind == KpiKind.BANDS and kpi.metric and kpi.metric.code in by_code:
            row = by_code[kpi.metric.code]
            result.value, result.display, result.grade = row.value, row.display, row.grade
        elif kpi.kind == KpiKind.DAILY_TARGET and kpi.metric:
            code = kpi.metric.code
            per_day = daily_targets(targets, code=code, start=start, end=end)
            min_share = kpi.min_share if kpi.min_share is not None else Decimal("0.5")
            result.days = [
                SalesDay(day=day, sales=by_day.get(day, {}).get(code), target=per_day.get(day), min_share=min_share)
                for day in _days(start, end)
            ]
            judged = [d for d in result.days if d.met is not None]
            met = sum(1 for d in judged if d.met)
            result.value = Decimal(met) / len(judged) if judged else None
            result.display = f"{met}/{len(judged)}" if judged else "–"
            flagged = sum(1 for d in judged if d.flagged)
            result.grade = _tone_grade(None if not judged else "best" if met == len(judged) else "bad" if flagged else "pass")
            result.detail = _("%(met)d of %(days)d days met the target; %(flagged)d under %(share)s%%") % {
                "met": met,
                "days": len(judged),
                "flagged": flagged,
                "share": f"{min_share * 100:.0f}",
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


def _change(new: Decimal | None, old: Decimal | None) -> int | None:
    """-1, 0 or 1; None when either side is missing."""
    if new is None or old is None:
        return None
    return (new > old) - (new < old)


def week_view(*, team: Team, day: date) -> WeekView:
    """The week of `day` against the two before it, from figures summed per week (two queries).

    Like for like: each week runs from its Monday to the same weekday as `day`, so on a Wednesday this
    week's three days are set against three days, not against two whole weeks.
    """
    monday = day - timedelta(days=day.weekday())
    weeks = [(monday - timedelta(weeks=n), day - timedelta(weeks=n)) for n in range(3)]
    metrics = metric_list(team=team)
    by_day = figures_by_day(team=team, start=weeks[-1][0], end=weeks[0][1])
    totals = [totals_over({d: f for d, f in by_day.items() if s <= d <= e}, metrics=metrics) for s, e in weeks]
    weekly = [m for m in metrics if "weekly" in m.period_list and m.scope == MetricScope.SHOP]
    rows = []
    for metric in weekly:
        values = [metric_value(metric, t) for t in totals]
        rows.append((metric, values, [metric_format(metric, v) for v in values]))
    by_code = {m.code: m for m in metrics}

    def value(code: str, week: int) -> Decimal | None:
        return metric_value(by_code[code], totals[week]) if code in by_code else None

    def fmt(code: str, week: int) -> str:
        return metric_format(by_code[code], value(code, week)) if code in by_code else "–"

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
    if orders is None or sales is None:
        answers.append(Answer(questions[0], "n/a", _("Not enough figures for this week and last week.")))
    elif orders < 0 < sales:
        good = profit is None or profit >= 0
        text = (
            _(
                "Yes, this week: orders %(orders_then)s → %(orders_now)s, sales %(sales_then)s → %(sales_now)s, "
                "客单价 %(aov_then)s → %(aov_now)s."
            )
            % args
        )
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
    if aov is None or margin is None:
        answers.append(Answer(questions[1], "n/a", _("Not enough figures for this week and last week.")))
    elif aov > 0 > margin:
        good = profit is not None and profit > 0
        text = _("Yes, this week: 客单价 %(aov_then)s → %(aov_now)s, 毛利率 %(margin_then)s → %(margin_now)s.") % args
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
    if None in (sales, margin, orders):
        answers.append(Answer(questions[2], "n/a", _("Not enough figures for this week and last week.")))
    else:
        missing = [name for name, change in (("销售额", sales), ("利润率", margin), ("订单数", orders)) if change <= 0]
        if not missing:
            answers.append(Answer(questions[2], "yes", _("Yes: sales, margin and orders all grew this week.")))
        else:
            answers.append(Answer(questions[2], "no", _("Not yet: %(names)s did not grow this week.") % {"names": "、".join(missing)}))
    return WeekView(weeks=weeks, rows=rows, answers=answers)


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
