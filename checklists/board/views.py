"""Pages of the director's board (issue 5): the board, the items behind each number, the weekly view, the day's
figures, the import, targets, the charts' data and the Excel export. Thin: parse, call a selector or service, render."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

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
from opsteam.lib.params import date_parse, date_query
from roles.access import member_required
from roles.models import ImportLayout, Member, MetricEntry, MetricKind, MetricScope, Role, SplitKind, Target
from roles.selectors.kpi import (
    figures_by_day,
    member_can_enter_figures,
    member_can_set_targets,
    members_recording_figures,
    metric_format,
    metric_list,
    metric_value,
    scorecard_get,
    totals_over,
    week_view,
)
from roles.services.kpi import day_figures_save, target_set
from roles.services.kpi_import import entries_import, entries_import_confirm, import_layout_save, plan_token

ITEMS_SHOWN = 500  # a whole team's day can be thousands of items: pick a role, a member or a status to see the rest


def _date_param(request: HttpRequest, name: str = "date", default: date | None = None, *, notify: bool = True) -> date:
    """A YYYY-MM-DD query parameter (opsteam.lib.params.date_query): malformed or outside 2001-2100, the default
    (today), with a message on the page that says so (notify: off for the chart data and the export)."""
    return date_query(request, name, default=default or local_date(timezone.now()), notify=notify)


@require_GET
@member_required
def board(request: HttpRequest) -> HttpResponse:
    scope = board_scope(viewer=request.member, role_id=request.GET.get("role"))
    now = timezone.now()
    today = local_date(now)
    day = _date_param(request)
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
    day = _date_param(request)
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
    return JsonResponse(board_trends(scope=scope, end=_date_param(request, notify=False), days=days, now=timezone.now()))


@require_GET
@member_required
def kpi_detail(request: HttpRequest) -> HttpResponse:
    """The daily figures behind a KPI number: each day's parts and value, and the period's (summed parts divided)."""
    board_scope(viewer=request.member)
    end = _date_param(request, "end")
    start = _date_param(request, "start", default=end.replace(day=1))
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
    context = {"metric": metric, "days": days, "parts": parts, "row": card.row(metric.code), "start": start, "end": end}
    context["can_enter"] = member_can_enter_figures(member=request.member)
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


@require_GET
@member_required
def week(request: HttpRequest) -> HttpResponse:
    board_scope(viewer=request.member)
    # By default up to yesterday, the last whole day: on a Monday that compares last week with the two before
    # (the weekly meeting's question), not this Monday's first hours with two Mondays.
    day = _date_param(request, default=local_date(timezone.now()) - timedelta(days=1))
    return render(request, "board/week.html", {"view": week_view(team=request.member.team, day=day), "day": day})


@require_GET
@member_required
def export(request: HttpRequest) -> HttpResponse:
    scope = board_scope(viewer=request.member, role_id=request.GET.get("role"))
    day = _date_param(request, notify=False)
    data = board_get(scope=scope, day=day, now=timezone.now())
    response = HttpResponse(board_workbook(board=data), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = f'attachment; filename="board-{day.isoformat()}.xlsx"'
    return response


# --- entering figures, importing, targets ------------------------------------------------------------------------------


def _require(allowed: bool) -> None:
    if not allowed:
        raise PermissionDenied(_("Only the director and the role leads enter the shop's figures."))


@require_http_methods(["GET", "POST"])
@member_required
def figures(request: HttpRequest) -> HttpResponse:
    """The day's figures on one form: the shop's, and each member's (客服 询单) below it."""
    _require(member_can_enter_figures(member=request.member))
    team = request.member.team
    now = timezone.now()
    day = _date_param(request)
    if request.method == "POST":
        try:
            day = date_parse(request.POST.get("date"))
        except ValidationError:
            day = None
        if day is None:
            messages.error(request, _("Choose the day the figures are for."))
            return redirect("board-figures")
        shop = {key[4:]: value for key, value in request.POST.items() if key.startswith("fig-")}
        by_member = {
            member: {key.split("-", 1)[1]: value for key, value in request.POST.items() if key.startswith(f"m{member.pk}-")}
            for member in members_recording_figures(team=team)
        }
        try:
            day_figures_save(team=team, day=day, shop=shop, by_member=by_member, actor=request.member, now=now)
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
            return _figures_page(request, day=day, posted=request.POST)
        messages.success(request, _("Figures for %(day)s saved.") % {"day": day.isoformat()})
        return redirect(f"{request.path}?date={day.isoformat()}")
    return _figures_page(request, day=day, posted=None)


def _figures_page(request: HttpRequest, *, day: date, posted) -> HttpResponse:
    team = request.member.team
    base = [m for m in metric_list(team=team) if m.kind == MetricKind.BASE]
    current = {(e.metric_id, e.member_id): e.value for e in MetricEntry.objects.filter(team=team, date=day)}

    def value(metric, member=None):
        key = f"m{member.pk}-{metric.code}" if member else f"fig-{metric.code}"
        if posted is not None:
            return posted.get(key, "")
        found = current.get((metric.pk, member.pk if member else None))
        return "" if found is None else f"{found.normalize():f}"

    shop = [(m, f"fig-{m.code}", value(m)) for m in base if m.scope == MetricScope.SHOP]
    member_metrics = [m for m in base if m.scope == MetricScope.MEMBER]
    people = [(p, [(m, f"m{p.pk}-{m.code}", value(m, p)) for m in member_metrics]) for p in members_recording_figures(team=team)]
    today = local_date(timezone.now())
    return render(
        request,
        "board/figures.html",
        {
            "day": day,
            "shop": shop,
            "people": people,
            "member_metrics": member_metrics,
            "today": today,
            # Saving would be refused (entry_save): say so before anyone types a day's figures in.
            "future": day > today,
        },
    )


def _agent_choices(post) -> dict[str, str]:
    """The preview's selects: agent-name-N (the name in the file) and agent-N (the member chosen for it)."""
    return {post[key]: post.get("agent-" + key[len("agent-name-") :], "") for key in post if key.startswith("agent-name-")}


@require_http_methods(["GET", "POST"])
@member_required
def import_figures(request: HttpRequest) -> HttpResponse:
    """Import an export in two steps: the file gives a preview (nothing written), the preview's confirm writes it."""
    _require(member_can_enter_figures(member=request.member))
    team = request.member.team
    headers = [m for m in metric_list(team=team) if m.kind == MetricKind.BASE and m.scope == MetricScope.SHOP]
    layouts = list(ImportLayout.objects.filter(team=team, is_active=True).order_by("order", "id"))
    context = {
        "headers": headers,
        "layouts": layouts,
        "members": members_recording_figures(team=team),
        "can_edit_layouts": member_can_set_targets(member=request.member),
    }
    if request.method == "POST":
        now = timezone.now()
        try:
            if request.POST.get("token"):
                context["result"] = entries_import_confirm(
                    team=team, token=request.POST["token"], actor=request.member, now=now, agents=_agent_choices(request.POST)
                )
            else:
                upload = request.FILES.get("file")
                if upload is None:
                    raise ValidationError(_("Choose a file to import."))
                day = date_parse(request.POST.get("date")) if request.POST.get("date") else None
                result = entries_import(
                    team=team,
                    content=upload.read(),
                    filename=upload.name,
                    actor=request.member,
                    now=now,
                    layout=request.POST.get("layout") or None,
                    day=day,
                    dry_run=True,
                )
                context["preview"] = result.plan
                context["token"] = plan_token(team=team, actor=request.member, plan=result.plan)
        except ValidationError as exc:
            context["errors"] = exc.messages
            return render(request, "board/import.html", context, status=400)
    return render(request, "board/import.html", context)


@require_http_methods(["GET", "POST"])
@member_required
def import_layouts(request: HttpRequest) -> HttpResponse:
    """The director maps a team's own export columns to metrics: one layout per export, one line per column."""
    if not member_can_set_targets(member=request.member):
        raise PermissionDenied(_("Only the director changes the file layouts."))
    team = request.member.team
    errors = []
    if request.method == "POST":
        try:
            import_layout_save(
                team=team,
                code=request.POST.get("code", ""),
                name=request.POST.get("name", ""),
                columns=request.POST.get("columns", ""),
                signature=request.POST.get("signature", ""),
                per_member=request.POST.get("per_member") == "on",
            )
        except ValidationError as exc:
            errors = exc.messages
        else:
            messages.success(request, _("File layout saved."))
            return redirect("board-import-layouts")
    layouts = list(ImportLayout.objects.filter(team=team).order_by("order", "id"))
    metrics = [m for m in metric_list(team=team) if m.kind == MetricKind.BASE]
    return render(
        request,
        "board/import_layouts.html",
        {"layouts": layouts, "metrics": metrics, "errors": errors, "posted": request.POST if errors else None},
        status=400 if errors else 200,
    )


@require_http_methods(["GET", "POST"])
@member_required
def targets(request: HttpRequest) -> HttpResponse:
    """The director sets a month's targets: the team's, a role's or a member's, for any KPI."""
    if not member_can_set_targets(member=request.member):
        raise PermissionDenied(_("Only the director sets targets."))
    team = request.member.team
    month = _date_param(request, "month").replace(day=1)
    metrics = metric_list(team=team)
    roles = list(Role.objects.filter(team=team).order_by("order"))
    members = list(Member.objects.filter(team=team).active().order_by("display_name"))
    errors = []
    error_fields = []
    if request.method == "POST":
        try:
            month = date_parse(request.POST.get("month", "") + "-01")
        except ValidationError:
            errors.append(_("Choose the month (YYYY-MM)."))
            error_fields.append("month")
        metric = next((m for m in metrics if m.code == request.POST.get("metric")), None)
        role = next((r for r in roles if str(r.pk) == request.POST.get("role")), None)
        member = next((m for m in members if str(m.pk) == request.POST.get("member")), None)
        if metric is None:
            errors.append(_("Choose the KPI the target is for."))
            error_fields.append("metric")
        # An id that is not one of this team's roles or members is refused: read as "the whole team" it overwrote
        # the team's target (issue 15).
        if request.POST.get("role") and role is None:
            errors.append(_("Choose a role of your team."))
            error_fields.append("role")
        if request.POST.get("member") and member is None:
            errors.append(_("Choose an active member of your team."))
            error_fields.append("member")
        if not errors:
            weights = [request.POST.get(f"w{n}", "") for n in range(7)]
            try:
                target_set(
                    team=team,
                    metric=metric,
                    month=month,
                    value=request.POST.get("value"),
                    split=request.POST.get("split", SplitKind.NONE),
                    weekday_weights=weights if request.POST.get("split") == SplitKind.WEEKDAY else None,
                    role=role,
                    member=member,
                    actor=request.member,
                    now=timezone.now(),
                    in_percent=True,  # the page asks for a share in percent: 5 is 5%
                )
            except ValidationError as exc:
                errors.extend(exc.messages)
                error_fields.extend(sorted(exc.message_dict) if hasattr(exc, "error_dict") else [])
            else:
                messages.success(request, _("Target saved."))
                return redirect(f"{request.path}?month={month:%Y-%m-%d}")
    rows = list(Target.objects.filter(team=team, month=month).select_related("metric", "role", "member").order_by("metric__order"))
    editing = next((t for t in rows if str(t.pk) == request.GET.get("edit")), None)
    form = _target_form(posted=request.POST if errors else None, target=editing)
    weekdays = [_("Mon"), _("Tue"), _("Wed"), _("Thu"), _("Fri"), _("Sat"), _("Sun")]
    return render(
        request,
        "board/targets.html",
        {
            "month": month,
            "metrics": metrics,
            "roles": roles,
            "members": members,
            "targets": [(t, metric_format(t.metric, t.value)) for t in rows],
            "errors": errors,
            "splits": SplitKind.choices,
            "weekday_weights": list(zip(weekdays, form["weights"], strict=True)),
            "form": form,
            "editing": editing,
            "error_fields": error_fields,
        },
        status=400 if errors else 200,
    )


def _target_form(*, posted, target: Target | None) -> dict:
    """What the form shows: what was posted (after an error), the target being edited, or a new sales target."""
    if posted is not None:
        return {
            "metric": posted.get("metric", ""),
            "value": posted.get("value", ""),
            "split": posted.get("split", ""),
            "weights": [posted.get(f"w{n}", "") for n in range(7)],
            "role": posted.get("role", ""),
            "member": posted.get("member", ""),
        }
    if target is not None:
        value = target.value * 100 if target.metric.is_share else target.value  # the form takes a share in percent
        weights = target.weekday_weights if len(target.weekday_weights or []) == 7 else [1] * 7
        return {
            "metric": target.metric.code,
            "value": f"{value.normalize():f}",
            "split": target.split,
            "weights": [f"{w:g}" for w in weights],
            "role": str(target.role_id or ""),
            "member": str(target.member_id or ""),
        }
    return {"metric": "sales", "value": "", "split": SplitKind.EVEN, "weights": ["1"] * 7, "role": "", "member": ""}


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
                # K-24H has no daily figure: its number opens the problem orders themselves (issue 4).
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
