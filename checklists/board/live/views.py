"""The board's live part and its actions (issue 20): who is behind (polled by an open board), 催一下 for a person
or a role, and the reminder on the member's today page. Thin: parse, call a selector or service, render."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from checklists.board.live.nudges import nudge_role, nudge_send
from checklists.board.live.selectors import nudge_open_for
from checklists.board.selectors import BoardLive, board_live_get, board_scope
from opsteam.lib.clock import local_date
from opsteam.lib.params import date_query
from roles.access import member_required
from roles.selectors import Level, member_get_for_user, member_led_role_ids, member_level


def live_context(live: BoardLive, *, today, message: str = "", refused: bool = False) -> dict:
    """What templates/board/_live.html draws; the board page includes it with the same context."""
    role_q = live.scope.role.pk if live.scope.role else ""
    return {
        "live": live,
        "is_today": live.day == today,
        "poll_seconds": settings.OPSTEAM_BOARD_POLL_SECONDS,
        "live_url": reverse("board-live") + f"?date={live.day.isoformat()}" + (f"&role={role_q}" if role_q else ""),
        "nudge_message": message,
        "nudge_refused": refused,
        "items_url": reverse("board-items"),
        "d": live.day.isoformat(),
        "role_q": role_q,
    }


@require_GET
@member_required
def board_live(request: HttpRequest) -> HttpResponse:
    """The live part alone: an open board asks for it every OPSTEAM_BOARD_POLL_SECONDS (htmx), on any web node."""
    scope = board_scope(viewer=request.member, role_id=request.GET.get("role"))
    now = timezone.now()
    today = local_date(now)
    day = min(date_query(request, "date", default=today, notify=False), today)
    return render(request, "board/_live.html", live_context(board_live_get(scope=scope, day=day, now=now), today=today))


def _after_nudge(request: HttpRequest, *, message: str, refused: bool) -> HttpResponse:
    """htmx: the live part again, with the message in it. Without JavaScript: back to the board with the message."""
    scope = board_scope(viewer=request.member, role_id=request.POST.get("board_role") or None)
    if not request.htmx:
        (messages.error if refused else messages.success)(request, message)
        return redirect(reverse("board") + (f"?role={scope.role.pk}" if scope.role else ""))
    now = timezone.now()
    today = local_date(now)
    live = board_live_get(scope=scope, day=today, now=now)
    return render(request, "board/_live.html", live_context(live, today=today, message=message, refused=refused))


@require_POST
@member_required
def nudge_member(request: HttpRequest, member_id: int) -> HttpResponse:
    scope = board_scope(viewer=request.member)
    try:
        nudge = nudge_send(scope=scope, member_id=member_id, now=timezone.now())
    except ValidationError as exc:
        return _after_nudge(request, message=exc.messages[0], refused=True)
    message = ngettext("Reminded %(name)s of %(n)d open item.", "Reminded %(name)s of %(n)d open items.", nudge.open_count) % {
        "name": nudge.member.display_name,
        "n": nudge.open_count,
    }
    return _after_nudge(request, message=message, refused=False)


@require_POST
@member_required
def nudge_whole_role(request: HttpRequest, role_id: int) -> HttpResponse:
    scope = board_scope(viewer=request.member)
    try:
        result = nudge_role(scope=scope, role_id=role_id, now=timezone.now())
    except ValidationError as exc:
        return _after_nudge(request, message=exc.messages[0], refused=True)
    parts = []
    if result.sent:
        names = "、".join(n.member.display_name for n in result.sent)
        parts.append(
            ngettext("Reminded %(n)d person: %(names)s.", "Reminded %(n)d people: %(names)s.", len(result.sent))
            % {
                "n": len(result.sent),
                "names": names,
            }
        )
    parts.extend(result.refused)
    return _after_nudge(request, message=" ".join(parts), refused=not result.sent)


@require_GET
@member_required
def nudge_banner(request: HttpRequest) -> HttpResponse:
    """The member's today page asks for this once it has loaded: the day's reminder while what it named is open."""
    reminder = nudge_open_for(member=request.member, day=local_date(timezone.now()))
    return render(request, "board/_nudge_banner.html", {"reminder": reminder})


@require_GET
@login_required
def landing(request: HttpRequest) -> HttpResponse:
    """Where a login lands (issue 20): the director on the board, a lead on the board of their role, staff on today."""
    member = member_get_for_user(user=request.user)
    if member is None:
        return redirect("today")  # which says why there is nothing here
    level = member_level(member=member)
    if level in (Level.DIRECTOR, Level.ADMIN):
        return redirect("board")
    if level == Level.LEAD:
        led = sorted(member_led_role_ids(member=member))
        return redirect(reverse("board") + (f"?role={led[0]}" if len(led) == 1 else ""))
    return redirect("today")
