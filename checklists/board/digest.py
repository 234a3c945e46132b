"""The 17:00 digest (issue 20): before the evening meeting, on working days, the director and each lead get the
board in a few lines: completion, who is behind, the day's sales against the target, open escalations, and a
link to the board. In-app and on their channels (the notification outbox); the time is OPSTEAM_DIGEST_AT.

Once per team and day: the BoardDigest row is written first, under its constraint, so a second beat tick, a
retried task or a second worker finds it and sends nothing.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils.translation import gettext as _

from checklists.board.selectors import Board, board_get, board_scope
from checklists.escalation.story import escalation_stories
from checklists.models import BoardDigest
from checklists.notify.services import notification_create
from opsteam.lib.clock import local_date, local_time
from roles.models import Member, Team
from roles.selectors import member_led_role_ids, workday_is

DIGEST_KIND = "digest"
BEHIND_NAMED = 8


def digest_recipients(*, team: Team) -> list[Member]:
    """The director(s) and the role leads of the team, active."""
    return list(
        Member.objects.filter(team=team).active().filter(Q(is_director=True) | Q(role_links__is_lead=True)).distinct().order_by("pk")
    )


def digest_body(*, board: Board) -> str:
    """The digest's lines for one reader's board (the director's whole team, a lead's roles)."""
    total = board.total
    lines = [
        _("Checklists: %(done)d of %(total)d done (%(percent)d%%).") % {"done": total.done, "total": total.total, "percent": total.percent}
    ]
    if board.behind:
        names = [f"{r.name} ({r.pace.missed})" for r in board.behind[:BEHIND_NAMED]]
        if len(board.behind) > BEHIND_NAMED:
            names.append(_("… and %(n)d more") % {"n": len(board.behind) - BEHIND_NAMED})
        lines.append(_("Behind now: %(names)s") % {"names": "、".join(names)})
    else:
        lines.append(_("Nobody is behind now."))
    sales = board.day_figures.get("sales")
    if sales is None:
        lines.append(_("No sales figure recorded for %(day)s yet.") % {"day": board.day})
    elif board.day_sales_target:
        lines.append(
            _("Sales %(sales)s against a target of %(target)s (%(share)s%%).")
            % {"sales": f"{sales:,.2f}", "target": f"{board.day_sales_target:,.2f}", "share": f"{100 * sales / board.day_sales_target:.0f}"}
        )
    else:
        lines.append(_("Sales %(sales)s; no target for the day.") % {"sales": f"{sales:,.2f}"})
    stories = escalation_stories(board.escalations)
    lines.append(_("Open escalations: %(n)d.") % {"n": len(stories)})
    return "\n\n".join(lines)


def digest_due(*, now: datetime) -> bool:
    return local_time(now) >= settings.OPSTEAM_DIGEST_AT


def digest_send(*, team: Team, now: datetime) -> int:
    """The team's digest for today, if it is time, a working day, and not sent yet. Returns how many were told."""
    day = local_date(now)
    if not digest_due(now=now) or not workday_is(team=team, day=day):
        return 0
    try:
        with transaction.atomic():
            digest = BoardDigest.objects.create(team=team, day=day, sent_at=now)
    except IntegrityError:
        return 0  # sent already (another tick, worker or retry)
    told = 0
    with transaction.atomic():
        for member in digest_recipients(team=team):
            led = member_led_role_ids(member=member)
            board = board_get(scope=board_scope(viewer=member), day=day, now=now)
            url = reverse("board") + (f"?role={min(led)}" if not member.is_director and len(led) == 1 else "")
            notification_create(
                team=team,
                recipient=member,
                kind=DIGEST_KIND,
                title=_("Before the evening meeting: %(day)s on the board") % {"day": day.isoformat()},
                body=digest_body(board=board),
                url=url,
                not_before=now,
                now=now,
            )
            told += 1
        BoardDigest.objects.filter(pk=digest.pk).update(recipients=told)
    return told


def teams_digest_due(*, now: datetime) -> list[int]:
    """The active teams whose digest is due and not yet written today (one query; none before the time)."""
    if not digest_due(now=now):
        return []
    sent = BoardDigest.objects.filter(team_id=OuterRef("pk"), day=local_date(now))
    return list(Team.objects.filter(is_active=True).exclude(Exists(sent)).order_by("pk").values_list("pk", flat=True))
