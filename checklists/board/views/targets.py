"""The director's monthly targets: the team's, a role's or a member's, for any KPI."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from checklists.board.views.board import day_param
from opsteam.lib.params import date_parse
from roles.access import member_required
from roles.models import Member, Role, SplitKind, Target
from roles.selectors.kpi import member_can_set_targets, metric_format, metric_list
from roles.services.kpi import target_set


@require_http_methods(["GET", "POST"])
@member_required
def targets(request: HttpRequest) -> HttpResponse:
    """The director sets a month's targets: the team's, a role's or a member's, for any KPI."""
    if not member_can_set_targets(member=request.member):
        raise PermissionDenied(_("Only the director sets targets."))
    team = request.member.team
    month = day_param(request, "month").replace(day=1)
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
