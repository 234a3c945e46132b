"""The escalations page, acknowledging (one, all mine, by the one-click link)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from checklists.escalation.acknowledging import (
    escalation_ack_link_check,
    escalation_acknowledge,
    escalation_acknowledge_all_mine,
    escalation_acknowledge_by_link,
)
from checklists.escalation.selectors import escalation_access_by_id, escalation_list
from checklists.escalation.story import escalation_stories
from checklists.models import EscalationStatus
from opsteam.lib.net import client_ip
from roles.access import member_required


@require_GET
@member_required
def escalations(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", EscalationStatus.OPEN)
    if status not in EscalationStatus.values:
        status = EscalationStatus.OPEN
    rows = escalation_list(viewer=request.member, status=status).select_related("item__checklist__member", "task__owner", "task__assignee")
    shown = 100
    # One row per item or duty with its current level named (issue 17), as on the board.
    stories = escalation_stories(list(rows[:shown]))
    return render(
        request,
        "checklists/escalations.html",
        {
            "stories": stories,
            "total": rows.count(),
            "shown": shown,
            "mine_open": rows.filter(recipient=request.member).count() if status == EscalationStatus.OPEN else 0,
            "status": status,
            "statuses": EscalationStatus.choices,
        },
    )


@require_POST
@member_required
def escalations_ack_mine(request: HttpRequest) -> HttpResponse:
    """Acknowledge every open escalation sent to me (the repeats stop; later levels still come)."""
    count = escalation_acknowledge_all_mine(member=request.member, now=timezone.now(), ip=client_ip(request))
    messages.success(request, _("Acknowledged %(count)d escalation(s).") % {"count": count})
    return redirect("escalations")


@require_POST
@member_required
def escalation_ack(request: HttpRequest, escalation_id: int) -> HttpResponse:
    escalation = escalation_access_by_id(viewer=request.member, escalation_id=escalation_id)
    escalation = escalation_acknowledge(escalation=escalation, member=request.member, now=timezone.now(), ip=client_ip(request))
    if request.htmx:
        same = escalation_list(viewer=request.member).select_related("item__checklist__member", "task__owner", "task__assignee")
        same = same.filter(item_id=escalation.item_id, task_id=escalation.task_id)
        return render(request, "checklists/_escalation.html", {"s": escalation_stories(list(same))[0]})
    messages.success(request, _("Acknowledged."))
    return redirect("escalations")


@require_http_methods(["GET", "POST"])
def ack_link(request: HttpRequest, token: str) -> HttpResponse:
    """The one-click link in an email or robot message: no login needed, the signed token says who.

    GET shows what it acknowledges and a button; the button's POST acknowledges.
    """
    try:
        if request.method != "POST":
            notification = escalation_ack_link_check(token=token)
            return render(request, "checklists/ack_link.html", {"notification": notification, "confirm": True})
        notification, count = escalation_acknowledge_by_link(token=token, now=timezone.now(), ip=client_ip(request))
    except ValidationError as exc:
        return render(request, "checklists/ack_link.html", {"error": " ".join(exc.messages)}, status=400)
    except PermissionDenied:
        raise Http404 from None
    return render(request, "checklists/ack_link.html", {"notification": notification, "count": count})
