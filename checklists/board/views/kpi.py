"""The figures behind a KPI number (/board/kpi/): each day's parts and value, and the period's."""

from __future__ import annotations

from datetime import timedelta

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from checklists.board.selectors import board_scope
from checklists.board.views.board import day_param
from roles.access import member_required
from roles.models import MetricKind
from roles.selectors.kpi import figures_by_day, member_can_enter_figures, metric_format, metric_list, metric_value, totals_over
from roles.selectors.kpi_scorecard import scorecard_get


@require_GET
@member_required
def kpi_detail(request: HttpRequest) -> HttpResponse:
    """The daily figures behind a KPI number: each day's parts and value, and the period's (summed parts divided)."""
    board_scope(viewer=request.member)
    end = day_param(request, "end")
    start = day_param(request, "start", default=end.replace(day=1))
    if start > end or (end - start).days > 366:
        start = end.replace(day=1)
    metrics = {m.code: m for m in metric_list(team=request.member.team)}
    metric = metrics.get(request.GET.get("metric", ""))
    if metric is None:
        raise Http404
    by_day = figures_by_day(team=request.member.team, start=start, end=end)
    parts = [metric.numerator, metric.denominator] if metric.is_ratio else []
    days = []
    for offset in range((end - start).days + 1):
        day = start + timedelta(days=offset)
        figures = totals_over({day: by_day.get(day, {})}, metrics=list(metrics.values()))  # with 运营成本 from its lines
        # A mean (客单价均值) shows each day's ratio, the values it averages.
        shown = metric.numerator if metric.kind == MetricKind.MEAN else metric
        days.append(
            {"day": day, "parts": [figures.get(p.code) for p in parts], "value": metric_format(shown, metric_value(shown, figures))}
        )
    card = scorecard_get(team=request.member.team, start=start, end=end)
    row = card.row(metric.code)
    context = {"metric": metric, "days": days, "parts": parts, "row": row, "start": start, "end": end}
    context["can_enter"] = member_can_enter_figures(member=request.member)
    if row is not None:
        context["period_display"] = row.display
        if metric.is_ratio:  # the period's figure is its summed parts divided, shown under the days that make it
            context["period"] = {"parts": [row.numerator, row.denominator], "value": row.display}
    for result in card.kpis:
        if result.kpi.metric_id != metric.pk:
            continue
        if result.days:  # K-DAILY-SALES: each day against its target
            verdicts = {d.day: d for d in result.days}
            for row in days:
                judged = verdicts.get(row["day"])
                if judged is not None:
                    target = metric_format(metric, judged.target) if judged.target is not None else None
                    row.update(target=target, verdict=judged.verdict, flagged=judged.flagged)
            context["sales_days"] = True
            context["min_share"] = f"{(result.kpi.min_share or 0) * 100:.0f}%"
        if result.daily:  # K-CS-CONV: recorded per agent; each day's parts are the agents' summed
            context["days"] = [
                {
                    "day": d.day,
                    "parts": [d.numerator, d.denominator],
                    "value": metric_format(metric, d.value),
                    "agents": [
                        {"name": a.name, "parts": [a.numerator, a.denominator], "value": metric_format(metric, a.value)} for a in d.agents
                    ],
                }
                for d in result.daily
            ]
            context["period_display"] = result.display
            context["period"] = {"parts": [result.numerator, result.denominator], "value": result.display}
        if result.members:  # K-CS-CONV: each member against the team average
            context["members"] = [
                {
                    "name": m.name,
                    "display": metric_format(metric, m.value),
                    "above_average": m.above_average,
                    "target": metric_format(metric, m.target) if m.target is not None else "",
                    "on_target": m.on_target,
                }
                for m in result.members
            ]
    return render(request, "board/kpi.html", context)
