"""Pages: today (tick on a phone), history, and the photos behind ticks."""

from __future__ import annotations

import functools
import operator
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from checklists.daily import selectors as today_selectors
from checklists.daily.history import history_for_lead, history_for_member
from checklists.daily.selectors import checklist_list, checklist_view, item_access_by_id, today_for_member
from checklists.daily.ticks import tick_record, tick_undo
from checklists.duties import selectors as task_selectors
from checklists.models import ItemStatus, Task
from checklists.notify import selectors as notification_selectors
from opsteam.lib.clock import local_date
from opsteam.lib.images import image_response
from opsteam.lib.net import client_ip
from opsteam.lib.params import date_query
from roles.access import member_is_lead_or_above, member_required
from roles.models import Member
from roles.selectors import member_list_actable_by
from roles.services.devices import client_change_once


@require_GET
@member_required
def today(request: HttpRequest) -> HttpResponse:
    """My day; a lead or the director may open a member's day with ?member=ID and tick for them."""
    actable = member_list_actable_by(viewer=request.member)
    subject = request.member
    if request.GET.get("member") and request.GET["member"] != str(request.member.pk):
        subject = next((m for m in actable if str(m.pk) == request.GET["member"]), None)
        if subject is None:
            raise Http404
    now = timezone.now()
    page = today_page_read(viewer=request.member, member=subject, now=now)
    context = {
        "today": page.today,
        "duties": page.duties,
        "unread": page.unread,  # the top bar's bell, read with the day
        "subject": subject,
        "actable": actable,
        "current_member": request.member,
        "now": now,
        # No refused tick on a page opened afresh (the card redrawn after one says what was wrong, _card_response).
        "oob": False,
        "errors": {},
        "error_item_id": None,
        "posted": {},
    }
    return render(request, "checklists/today.html", context)


def _back(request: HttpRequest, item) -> HttpResponse:
    """Without JavaScript: back to the page the form was on (a lead may be on a member's day)."""
    referer = request.META.get("HTTP_REFERER", "")
    if referer and url_has_allowed_host_and_scheme(referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return redirect(f"{referer.split('#')[0]}#item-{item.pk}")
    return redirect(f"/today/#item-{item.pk}")


def _card_response(request: HttpRequest, item, *, errors: dict | None = None) -> HttpResponse:
    """After a tick: the whole card (items and its progress bar) and, out of band, the day's total."""
    now = timezone.now()
    view = None
    if item.checklist.assignee_id == request.member.pk:
        # My own list: the day's read already holds its card (most ticks are these: one read, not two).
        day = today_for_member(member=request.member, now=now)
        view = next((v for v in (*day.lists, *day.carryover) if v.checklist.pk == item.checklist_id), None)
    if view is None:  # a member's list ticked by a lead, or one no longer on the day (closed carry-over)
        checklist = checklist_list(viewer=request.member).get(pk=item.checklist_id)
        view = checklist_view(checklist, now=now, carryover=checklist.date < local_date(now))
        day = today_for_member(member=checklist.assignee, now=now, viewer=request.member)
    return render(
        request,
        "checklists/_card.html",
        # After a refused tick, what the worker typed is shown again beside the message.
        {
            "view": view,
            "errors": errors or {},
            "error_item_id": item.pk if errors else None,
            "posted": request.POST,
            "today": day,
            "oob": True,
        },
    )


def _client_key(request: HttpRequest) -> str | None:
    """The key the phone made for this change (the page's queue, issue 17): a replay of it records nothing new."""
    return request.headers.get("X-Client-Key") or request.POST.get("client_key") or None


@require_POST
@member_required
def item_tick(request: HttpRequest, item_id: int) -> HttpResponse:
    item = item_access_by_id(viewer=request.member, item_id=item_id)
    status = ItemStatus.NOT_DONE if request.POST.get("action") == "not_done" else ItemStatus.DONE
    try:
        client_change_once(
            member=request.member,
            key=_client_key(request),
            now=timezone.now(),
            change=lambda: tick_record(  # no `now`: the time is read once the item is locked (the order of the changes)
                item=item,
                actor=request.member,
                status=status,
                note=request.POST.get("note", ""),
                value=request.POST.get("value"),
                text_value=request.POST.get("text_value", ""),
                photo=request.FILES.get("photo"),
                ip=client_ip(request),
            ),
        )
    except ValidationError as exc:
        errors = exc.message_dict if hasattr(exc, "error_dict") else {"item": exc.messages}
        if request.htmx:
            response = _card_response(request, item, errors=errors)
            if _client_key(request):
                # The page's queue: a refusal is told apart from a network failure (kept and shown, never retried).
                response.status_code = 422
                response["X-Refusal"] = quote(" ".join(functools.reduce(operator.iadd, errors.values(), [])))
            return response
        for text in functools.reduce(operator.iadd, errors.values(), []):
            messages.error(request, f"{item.text}: {text}")
        return _back(request, item)
    if request.htmx:
        return _card_response(request, item)
    return _back(request, item)


@require_POST
@member_required
def item_untick(request: HttpRequest, item_id: int) -> HttpResponse:
    item = item_access_by_id(viewer=request.member, item_id=item_id)
    client_change_once(
        member=request.member,
        key=_client_key(request),
        now=timezone.now(),
        change=lambda: tick_undo(item=item, actor=request.member, ip=client_ip(request)),
    )
    if request.htmx:
        return _card_response(request, item)
    return _back(request, item)


@require_GET
@member_required
def history(request: HttpRequest) -> HttpResponse:
    today_date = local_date(timezone.now())
    context = {"days": history_for_member(member=request.member, today=today_date)}
    if member_is_lead_or_above(request.member):
        context["team_rows"] = history_for_lead(lead=request.member, today=today_date)
    return render(request, "checklists/history.html", context)


@require_GET
@member_required
def history_day(request: HttpRequest) -> HttpResponse:
    """A day of the history opened (issue 17): its lists and items as they were left, so a member sees what was
    missed. ?date=YYYY-MM-DD, and ?member=ID for a lead (the members they may act for; anyone else is 404)."""
    now = timezone.now()
    day = date_query(request, default=local_date(now))
    subject = request.member
    if request.GET.get("member") and request.GET["member"] != str(request.member.pk):
        subject = next((m for m in member_list_actable_by(viewer=request.member) if str(m.pk) == request.GET["member"]), None)
        if subject is None:
            raise Http404
    lists = [checklist_view(c, now=now) for c in checklist_list(viewer=request.member, day=day, member_id=subject.pk)]
    return render(request, "checklists/history_day.html", {"day": day, "subject": subject, "lists": lists, "now": now})


@require_GET
@member_required
def photo(request: HttpRequest, item_id: int) -> FileResponse:
    """Photos are only shown to those who may see the item, and only ever as an image (image_response)."""
    item = item_access_by_id(viewer=request.member, item_id=item_id)
    if not item.photo:
        raise Http404
    return image_response(item.photo, download_name=f"photo-{item.pk}")


@dataclass
class TodayPage:
    today: today_selectors.Today
    duties: list[Task]
    unread: int  # the viewer's unread notifications, for the top bar's bell


def today_page_read(*, viewer: Member, member: Member, now: datetime) -> TodayPage:
    """The member's day and duties as the viewer may see them, and the viewer's bell."""
    return TodayPage(
        today=today_selectors.today_for_member(member=member, now=now, viewer=viewer),
        duties=task_selectors.task_list_for_today(viewer=viewer, member=member, now=now),
        unread=notification_selectors.notification_unread_count(member=viewer),
    )
