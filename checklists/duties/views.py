"""Pages for duties, problem orders, campaigns, plans and escalations (issue 4). Each calls one service or selector."""

from __future__ import annotations

from datetime import datetime

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from checklists.duties.campaigns import campaign_create
from checklists.duties.problems import problem_order_close, problem_order_log
from checklists.duties.selectors import (
    campaign_access_by_id,
    campaign_list,
    plan_access_by_id,
    plan_list,
    plan_stages,
    problem_order_access_by_id,
    problem_order_list,
    task_access_by_id,
    task_list,
)
from checklists.duties.services import plan_create, task_assign, task_can_complete, task_complete, task_reopen
from checklists.models import CampaignTemplate, ProblemKind, TaskStatus
from opsteam.lib.clock import business_tz, local_date
from opsteam.lib.idempotency import FORM_FIELD, idempotency_key_clean
from opsteam.lib.net import client_ip
from opsteam.lib.params import date_in_range, date_parse, date_range_message
from roles.access import member_is_lead_or_above, member_required
from roles.models import Member, Role
from roles.selectors import member_led_role_ids, member_list_actable_by


def _errors(exc: ValidationError) -> list[str]:
    return [str(m) for m in exc.messages]


def _error_fields(exc: ValidationError) -> list[str]:
    """The form fields an error is about (the page marks them), e.g. ["owner"]."""
    return sorted(exc.message_dict) if hasattr(exc, "error_dict") else []


def _chosen(rows: list, raw: str | None, *, field: str, message: str):
    """The row a <select> named, from the rows the caller may choose; empty is None. An id outside them (another
    team's, a role the lead does not lead) is refused on `field`, never replaced by a default (issue 15)."""
    if not raw:
        return None
    found = next((row for row in rows if str(row.pk) == raw.strip()), None)
    if found is None:
        raise ValidationError({field: message})
    return found


def _local_due(raw_date: str, raw_time: str) -> datetime:
    """A due date and time from a form, in business time; a clear message when it does not parse."""
    try:
        naive = datetime.strptime(f"{raw_date.strip()} {raw_time.strip() or '18:00'}", "%Y-%m-%d %H:%M")  # noqa: DTZ007
    except ValueError:
        raise ValidationError({"due_at": _("Enter the due date as YYYY-MM-DD and the time as HH:MM.")}) from None
    if not date_in_range(naive.date()):  # 9999-12-31 23:00 left the calendar in UTC (issue 15)
        raise ValidationError({"due_at": date_range_message()})
    return naive.replace(tzinfo=business_tz())


# --- duties -------------------------------------------------------------------------------------


def _assign_choices(member: Member) -> tuple[list[Member], list[Role]]:
    if member.is_director or member.user.is_superuser:
        return [member, *member_list_actable_by(viewer=member)], list(Role.objects.filter(team_id=member.team_id))
    led = member_led_role_ids(member=member)
    return [member, *member_list_actable_by(viewer=member)], list(Role.objects.filter(pk__in=led))


@require_http_methods(["GET", "POST"])
@member_required
def tasks(request: HttpRequest) -> HttpResponse:
    """My duties; a lead's or the director's view of the team's; the form to assign one."""
    member = request.member
    can_assign = member_is_lead_or_above(member)
    errors: list[str] = []
    error_fields: list[str] = []
    if request.method == "POST":
        if not can_assign:
            raise PermissionDenied(_("Only a lead or the director can assign duties."))
        members, roles = _assign_choices(member)
        try:
            owner = _chosen(members, request.POST.get("owner"), field="owner", message=_("Choose a member you may assign duties to."))
            role = _chosen(roles, request.POST.get("role"), field="role", message=_("Choose a role you may assign duties to."))
            task = task_assign(
                member=member, title=request.POST.get("title", ""), detail=request.POST.get("detail", ""),
                due_at=_local_due(request.POST.get("due_date", ""), request.POST.get("due_time", "")),
                owner=owner, role=role, now=timezone.now(), ip=client_ip(request),
                idempotency_key=idempotency_key_clean(request.POST.get(FORM_FIELD)),
            )  # fmt: skip
        except ValidationError as exc:
            errors, error_fields = _errors(exc), _error_fields(exc)
        else:
            messages.success(request, _("Duty assigned: %(title)s") % {"title": task.title})
            return redirect("tasks")
    scope = request.GET.get("scope", "mine")
    status = request.GET.get("status", TaskStatus.OPEN)
    if status not in TaskStatus.values:
        status = TaskStatus.OPEN
    rows = task_list(viewer=member, status=status, mine=scope != "team")
    members, roles = _assign_choices(member) if can_assign else ([], [])
    return render(
        request,
        "checklists/tasks.html",
        {
            "tasks": rows[:200],
            "scope": scope,
            "status": status,
            "statuses": TaskStatus.choices,
            "can_assign": can_assign,
            "members": members,
            "roles": roles,
            "errors": errors,
            "error_fields": error_fields,
            "form": request.POST if errors else {},
            "now": timezone.now(),
            "today": local_date(timezone.now()),
        },
        status=400 if errors else 200,
    )


@require_http_methods(["GET", "POST"])
@member_required
def task_detail(request: HttpRequest, task_id: int) -> HttpResponse:
    member = request.member
    task = task_access_by_id(viewer=member, task_id=task_id)
    errors: list[str] = []
    if request.method == "POST":
        try:
            if request.POST.get("action") == "reopen":
                task_reopen(task=task, member=member, now=timezone.now(), ip=client_ip(request))
                messages.info(request, _("Duty reopened."))
            else:
                task_complete(
                    task=task, member=member, now=timezone.now(), note=request.POST.get("note", ""), value=request.POST.get("value"),
                    ip=client_ip(request),
                )  # fmt: skip
                messages.success(request, _("Done: %(title)s") % {"title": task.title})
            return redirect("task-detail", task_id=task.pk)
        except ValidationError as exc:
            errors = _errors(exc)
        task = task_access_by_id(viewer=member, task_id=task_id)
    escalations = task.escalations.select_related("recipient", "acknowledged_by").order_by("level_order")
    return render(
        request,
        "checklists/task_detail.html",
        {
            "task": task,
            "can_complete": task_can_complete(task=task, member=member),
            "escalations": escalations,
            "events": task.events.select_related("actor")[:20],
            "errors": errors,
            "now": timezone.now(),
        },
        status=400 if errors else 200,
    )


@require_POST
@member_required
def task_tick(request: HttpRequest, task_id: int) -> HttpResponse:
    """A duty ticked on the today page like an item (issue 17): done, not done with a note, or undone.
    With htmx the duty's row answers (with the refusal's words in it); without, back to the today page."""
    member = request.member
    task = task_access_by_id(viewer=member, task_id=task_id)
    errors: list[str] = []
    action = request.POST.get("action", "done")
    try:
        if action == "undo":
            task = task_reopen(task=task, member=member, now=timezone.now(), ip=client_ip(request))
        else:
            task = task_complete(
                task=task, member=member, now=timezone.now(), note=request.POST.get("note", ""), value=request.POST.get("value"),
                ip=client_ip(request), status=TaskStatus.NOT_DONE if action == "not_done" else TaskStatus.DONE,
            )  # fmt: skip
    except ValidationError as exc:
        errors = _errors(exc)
    if not request.htmx:
        for error in errors:
            messages.error(request, error)
        return redirect(f"/today/#task-{task.pk}")
    task = task_access_by_id(viewer=member, task_id=task_id)
    context = {"t": task, "now": timezone.now(), "tickable": task_can_complete(task=task, member=member), "errors": errors}
    return render(request, "checklists/_task_row.html", context)


# --- problem orders -------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@member_required
def problems(request: HttpRequest) -> HttpResponse:
    """客服 logs a problem order (T-24H) or an order to ship (T-SHIP); the open ones with their 24 h deadline."""
    errors: list[str] = []
    if request.method == "POST":
        try:
            problem = problem_order_log(
                member=request.member, order_no=request.POST.get("order_no", ""), kind=request.POST.get("kind", ""),
                note=request.POST.get("note", ""), now=timezone.now(), ip=client_ip(request),
            )  # fmt: skip
        except ValidationError as exc:
            errors = _errors(exc)
        else:
            due = problem.due_at.astimezone(business_tz())
            text = _("Logged %(order)s: settle it by %(due)s.") % {"order": problem.order_no, "due": f"{due:%m-%d %H:%M}"}
            messages.success(request, text)
            return redirect("problems")
    return render(
        request,
        "checklists/problems.html",
        {
            "open": problem_order_list(viewer=request.member, open_only=True)[:200],
            "closed": problem_order_list(viewer=request.member).filter(closed_at__isnull=False)[:30],
            "kinds": ProblemKind.choices,
            "errors": errors,
            "form": request.POST if errors else {},
            "now": timezone.now(),
        },
        status=400 if errors else 200,
    )


@require_POST
@member_required
def problem_close(request: HttpRequest, problem_id: int) -> HttpResponse:
    problem = problem_order_access_by_id(viewer=request.member, problem_id=problem_id)
    try:
        problem_order_close(problem=problem, member=request.member, resolution=request.POST.get("resolution", ""), now=timezone.now(),
                            ip=client_ip(request))  # fmt: skip
    except ValidationError as exc:
        for message in _errors(exc):
            messages.error(request, message)
    else:
        messages.success(request, _("Closed %(order)s.") % {"order": problem.order_no})
    return redirect("problems")


# --- campaigns ----------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@member_required
def campaigns(request: HttpRequest) -> HttpResponse:
    member = request.member
    can_create = member_is_lead_or_above(member)
    templates = CampaignTemplate.objects.filter(team_id=member.team_id, is_active=True)
    errors: list[str] = []
    error_fields: list[str] = []
    if request.method == "POST":
        if not can_create:
            raise PermissionDenied(_("Only a lead or the director can create a campaign."))
        try:
            # Empty: the playbook's T-CAMPAIGN (the first template); an id that is not one of the team's is refused.
            template = (
                _chosen(
                    list(templates), request.POST.get("template"), field="template", message=_("No such campaign template in your team.")
                )
                or templates.order_by("pk").first()
            )
            if template is None:
                raise ValidationError(_("No campaign template: run load_playbook."))
            try:
                day = date_parse(request.POST.get("date"), field="date")
            except ValidationError:
                day = None
            if day is None:
                raise ValidationError({"date": _("Enter the campaign date as YYYY-MM-DD.") + " " + date_range_message()})
            try:
                signup = date_parse(request.POST.get("signup_date"), field="signup_date")
            except ValidationError:
                raise ValidationError({"signup_date": _("Enter the sign-up date as YYYY-MM-DD.") + " " + date_range_message()}) from None
            campaign = campaign_create(
                member=member, template=template, name=request.POST.get("name", ""), day=day, signup_date=signup,
                now=timezone.now(), ip=client_ip(request),
            )  # fmt: skip
        except ValidationError as exc:
            errors, error_fields = _errors(exc), _error_fields(exc)
        else:
            messages.success(request, _("Campaign %(name)s created with its duties.") % {"name": campaign.name})
            return redirect("campaign-detail", campaign_id=campaign.pk)
    return render(
        request,
        "checklists/campaigns.html",
        {
            "campaigns": campaign_list(viewer=member)[:100],
            "templates": templates,
            "can_create": can_create,
            "errors": errors,
            "error_fields": error_fields,
            "form": request.POST if errors else {},
        },
        status=400 if errors else 200,
    )


@require_GET
@member_required
def campaign_detail(request: HttpRequest, campaign_id: int) -> HttpResponse:
    campaign = campaign_access_by_id(viewer=request.member, campaign_id=campaign_id)
    rows = task_list(viewer=request.member).filter(campaign=campaign).order_by("due_at", "role__order")
    return render(request, "checklists/campaign_detail.html", {"campaign": campaign, "tasks": rows, "now": timezone.now()})


# --- plans ----------------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@member_required
def plans(request: HttpRequest) -> HttpResponse:
    member = request.member
    can_create = member.is_director or member.user.is_superuser
    errors: list[str] = []
    if request.method == "POST":
        if not can_create:
            raise PermissionDenied(_("Only the director starts a plan."))
        try:
            plan = plan_create(member=member, title=request.POST.get("title", ""), proposal=request.POST.get("proposal", ""),
                               now=timezone.now(), idempotency_key=idempotency_key_clean(request.POST.get(FORM_FIELD)))  # fmt: skip
        except ValidationError as exc:
            errors = _errors(exc)
        else:
            return redirect("plan-detail", plan_id=plan.pk)
    return render(
        request,
        "checklists/plans.html",
        {"plans": plan_list(viewer=member)[:100], "can_create": can_create, "errors": errors, "form": request.POST if errors else {}},
        status=400 if errors else 200,
    )


@require_GET
@member_required
def plan_detail(request: HttpRequest, plan_id: int) -> HttpResponse:
    plan = plan_access_by_id(viewer=request.member, plan_id=plan_id)
    return render(request, "checklists/plan_detail.html", {"plan": plan, "stages": plan_stages(plan=plan), "now": timezone.now()})


# --- escalations ---------------------------------------------------------------------------------------
