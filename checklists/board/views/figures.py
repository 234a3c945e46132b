"""Entering the day's figures, importing an export (preview, then confirm), and the director's file layouts."""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from checklists.board.views.board import day_param
from opsteam.lib.clock import local_date
from opsteam.lib.params import date_parse
from roles.access import member_required
from roles.models import ImportLayout, MetricEntry, MetricKind, MetricScope
from roles.selectors.kpi import member_can_enter_figures, member_can_set_targets, members_recording_figures, metric_list
from roles.services.kpi import day_figures_save
from roles.services.kpi_import import entries_import, entries_import_confirm, plan_token
from roles.services.kpi_layouts import import_layout_save


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
    day = day_param(request)
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
