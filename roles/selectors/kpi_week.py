"""The weekly view (PLAYBOOK §6 weekly): this week against the two before it, like for like, with the three
questions answered."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.utils.translation import gettext as _

from opsteam.lib.playbook import playbook_read
from roles.models import Metric, MetricKind, MetricScope, Team
from roles.selectors.kpi import (
    figures_by_day,
    metric_format,
    metric_list,
    metric_mean,
    metric_value,
    period_figures_get,
    summed_by_day_note,
    totals_over,
)


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
    notes = [summed_by_day_note(summed)] if summed else []
    return WeekView(weeks=weeks, rows=rows, answers=answers, notes=notes)
