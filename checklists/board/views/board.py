"""The board (issue 5): completion, the KPI tiles, the items behind each number, the trends' data, the weekly view,
the Excel export."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from checklists.board.export import board_workbook
from checklists.board.live.views import live_context
from checklists.board.selectors import (
    BOARD_LIMIT,
    TREND_DAYS,
    Board,
    BoardLive,
    board_get,
    board_items,
    board_roles,
    board_scope,
    board_trends,
)
from checklists.escalation.story import escalation_stories, stories_by_person
from opsteam.lib.clock import local_date
from opsteam.lib.params import date_query
from roles.access import member_required
from roles.selectors.kpi import member_can_enter_figures, member_can_set_targets, metric_format
from roles.selectors.kpi_week import week_view

ITEMS_SHOWN = 500  # a whole team's day can be thousands of items: pick a role, a member or a status to see the rest


def day_param(request: HttpRequest, name: str = "date", default: date | None = None, *, notify: bool = True) -> date:
    """A YYYY-MM-DD query parameter (opsteam.lib.params.date_query): malformed or outside 2001-2100, the default
    (today), with a message on the page that says so (notify: off for the chart data and the export)."""
    return date_query(request, name, default=default or local_date(timezone.now()), notify=notify)


@require_GET
@member_required
def board(request: HttpRequest) -> HttpResponse:
    scope = board_scope(viewer=request.member, role_id=request.GET.get("role"))
    now = timezone.now()
    today = local_date(now)
    day = day_param(request)
    notice = ""
    if day > today:
        # A day that has not happened has no lists and no figures; "month to date" would run to its end.
        notice = _("%(day)s has not happened yet: the board shows today, %(today)s.") % {"day": day.isoformat(), "today": today.isoformat()}
        day = today
    data = board_get(scope=scope, day=day, now=now)
    tiles, metric_tiles = _tiles(data)
    return render(
        request,
        "board/board.html",
        {
            "board": data,
            "tiles": tiles,
            "metric_tiles": metric_tiles,
            "roles": board_roles(scope=scope),
            "day": day,
            "today": today,
            "notice": notice,
            "previous": day - timedelta(days=1),
            "next": day + timedelta(days=1),
            "trend_days": TREND_DAYS,
            "board_limit": BOARD_LIMIT,
            "can_enter": member_can_enter_figures(member=request.member),
            "can_set_targets": member_can_set_targets(member=request.member),
            # Issue 20: who is behind first (polled while open), and the escalations as one story per item or duty.
            **live_context(BoardLive(day=day, now=now, scope=scope, roles=data.roles, total=data.total, behind=data.behind), today=today),
            "stories": (stories := escalation_stories(data.escalations)),
            "stories_by_person": stories_by_person(stories),
        },
    )


@require_GET
@member_required
def items(request: HttpRequest) -> HttpResponse:
    """The items behind a number: one member's, one role's, or the team's, by status."""
    scope = board_scope(viewer=request.member, role_id=request.GET.get("role"))
    now = timezone.now()
    day = day_param(request)
    status = request.GET.get("status", "all")
    rows = board_items(scope=scope, day=day, now=now, status=status, member_id=request.GET.get("member"), limit=ITEMS_SHOWN + 1)
    query = {k: request.GET[k] for k in ("date", "role", "member") if request.GET.get(k)}
    query.setdefault("date", day.isoformat())
    return render(
        request,
        "board/items.html",
        {
            "items": rows[:ITEMS_SHOWN],
            "truncated": len(rows) > ITEMS_SHOWN,
            "day": day,
            "status": status,
            "scope": scope,
            "now": now,
            "today": local_date(now),
            "base_query": urlencode(query),
            # Today's lists can be opened and ticked on the member's behalf (the today page checks again).
            "can_open_day": True,
            "status_choices": [
                ("all", _("All")),
                ("done", _("Done")),
                ("late", _("Late")),
                ("not_done", _("Not done")),
                ("missed", _("Missed")),
                ("open", _("Open")),
            ],
        },
    )


@require_GET
@member_required
def trends(request: HttpRequest) -> JsonResponse:
    scope = board_scope(viewer=request.member, role_id=request.GET.get("role"))
    try:
        days = int(request.GET.get("days", 30))
    except ValueError:
        days = 30
    days = days if days in TREND_DAYS else 30
    return JsonResponse(board_trends(scope=scope, end=day_param(request, notify=False), days=days, now=timezone.now()))


@require_GET
@member_required
def week(request: HttpRequest) -> HttpResponse:
    board_scope(viewer=request.member)
    # By default up to yesterday, the last whole day: on a Monday that compares last week with the two before
    # (the weekly meeting's question), not this Monday's first hours with two Mondays.
    day = day_param(request, default=local_date(timezone.now()) - timedelta(days=1))
    return render(request, "board/week.html", {"view": week_view(team=request.member.team, day=day), "day": day})


@require_GET
@member_required
def export(request: HttpRequest) -> HttpResponse:
    scope = board_scope(viewer=request.member, role_id=request.GET.get("role"))
    day = day_param(request, notify=False)
    data = board_get(scope=scope, day=day, now=timezone.now())
    response = HttpResponse(board_workbook(board=data), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = f'attachment; filename="board-{day.isoformat()}.xlsx"'
    return response


@dataclass
class Tile:
    """One KPI number on the board, with the page that shows the figures behind it."""

    label: str
    value: str
    sub: str = ""
    tone: str = ""
    href: str = ""
    grade: str = ""
    test_id: str = ""


def _kpi_href(code: str, start: date, end: date) -> str:
    return f"{reverse('board-kpi')}?{urlencode({'metric': code, 'start': start.isoformat(), 'end': end.isoformat()})}"


def _tiles(data: Board) -> tuple[list[Tile], list[Tile]]:
    """The §5 targets first (graded), then the month-to-date values of the daily metrics."""
    card, day = data.scorecard, data.day
    start = card.start
    tiles: list[Tile] = []
    sales_metric = next((m for m in card.metrics if m.code == "sales"), None)
    if sales_metric is not None:
        sales = data.day_figures.get("sales")
        target = data.day_sales_target
        sales_kpi = data.kpi("K-DAILY-SALES")
        today = next((d for d in sales_kpi.days if d.day == day), None) if sales_kpi else None
        tone = "" if today is None or today.met is None else "best" if today.met else "bad" if today.flagged else "pass"
        sub = _("target %(target)s") % {"target": metric_format(sales_metric, target)} if target is not None else _("no target set")
        tiles.append(
            Tile(
                label=_("Sales on %(day)s") % {"day": day.strftime("%m-%d")},
                value=metric_format(sales_metric, sales),
                sub=sub,
                tone=tone,
                grade=today.verdict if today else "",
                href=_kpi_href("sales", day, day),
                test_id="tile-sales-day",
            )
        )
        month = card.row("sales")
        if month is not None:
            share = f" ({month.value / month.target * 100:.0f}%)" if month.value is not None and month.target else ""
            tiles.append(
                Tile(
                    label=_("Sales this month"),
                    value=month.display,
                    sub="; ".join(
                        p
                        for p in (
                            (_("target %(target)s") % {"target": month.target_display} + share)
                            if month.target is not None
                            else _("no target set"),
                            month.coverage,
                        )
                        if p
                    ),
                    tone="" if month.on_target is None else "best" if month.on_target else "pass",
                    href=_kpi_href("sales", start, day),
                    test_id="tile-sales-month",
                )
            )
    for result in card.kpis:
        kpi = result.kpi
        if kpi.kind == "tracked":
            continue
        code = kpi.metric.code if kpi.metric else ""
        sub = result.detail
        if result.members:
            below = [m.name for m in result.members if m.above_average is False]
            sub = _("Team average; below it: %(names)s") % {"names": "、".join(below)} if below else _("Team average; nobody below it")
        tiles.append(
            Tile(
                label=kpi.name,
                value=result.display,
                sub=sub,
                tone=result.tone,
                grade=(result.grade or {}).get("label", ""),
                # K-24H-ISSUE and K-24H-SHIP have no daily figure: the number opens the problem orders themselves (issue 4).
                href=_kpi_href(code, start, day) if code else reverse("problems") if kpi.kind == "on_time" else "",
                test_id=f"tile-{kpi.playbook_id or kpi.pk}",
            )
        )
    metrics: list[Tile] = []
    five = next((k for k in card.kpis if k.kpi.kind == "tracked"), None)
    shown = {r.metric.code for r in (five.tracked if five else [])}
    graded = {k.kpi.metric_id for k in card.kpis if k.kpi.kind != "tracked"}  # already a tile above
    for row in card.rows:
        if row.metric.pk in graded:
            continue
        # A ratio with no figures yet is left out: an empty tile is noise on a morning page.
        if row.value is not None and row.metric.is_ratio and ("daily" in row.metric.period_list or row.metric.code in shown):
            metrics.append(
                Tile(
                    label=row.metric.name,
                    value=row.display,
                    sub="; ".join(
                        p
                        for p in (
                            _("target %(target)s") % {"target": row.target_display} if row.target is not None else "",
                            row.coverage,
                            *row.notes,
                        )
                        if p
                    ),
                    tone="" if row.on_target is None else "best" if row.on_target else "pass",
                    href=_kpi_href(row.metric.code, start, day),
                    test_id=f"tile-{row.metric.code}",
                )
            )
    return tiles, metrics
