"""催一下 (issue 20): remind a member who is behind, from the board or the API, at most once per interval.

A nudge names what is open (due by now and still open), goes to the member in-app and on their channels
through the notification outbox (email if they want it, their personal card if the team has a suite app,
the team's robot @-mentioning them, all sent at once), shows on their today page until those items are
closed, and is recorded (checklists.Nudge) for the board's "nudged 10:40, 3 of 5 done since".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.urls import reverse
from django.utils.translation import gettext as _

from checklists.board.live.selectors import nudge_latest
from checklists.board.selectors import BoardScope
from checklists.daily.pace import behind_list
from checklists.models import ChecklistItem, ItemStatus, Nudge
from checklists.notify.services import notification_create
from opsteam.lib.clock import business_tz, local_date
from roles.models import Member, Role

NUDGE_KIND = "nudge"
ITEMS_NAMED = 10  # in the message; the count says how many in all


class NudgeTooSoon(ValidationError):
    """The member was nudged less than the interval ago."""


class NudgeNotBehind(ValidationError):
    """The member has nothing due that is still open: there is nothing to nudge about."""


def nudge_interval() -> timedelta:
    return timedelta(minutes=settings.OPSTEAM_NUDGE_INTERVAL_MINUTES)


def _hhmm(at: datetime) -> str:
    return at.astimezone(business_tz()).strftime("%H:%M")


def _member_in_scope(*, scope: BoardScope, member_id) -> Member:
    """A member of the viewer's team, within the board's scope (a lead: holding or having a list of a led role).
    Anyone else is a 404, as on the board's drill-down."""
    members = Member.objects.filter(team_id=scope.viewer.team_id).active()
    roles = scope.role_filter()
    if roles is not None:
        members = members.filter(role_links__role_id__in=roles)
    try:
        return members.select_related("team").distinct().get(pk=int(member_id))
    except (Member.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404 from None


def nudge_send(*, scope: BoardScope, member_id, now: datetime, role: Role | None = None) -> Nudge:
    """Nudge one member who is behind. Refused (NudgeNotBehind, NudgeTooSoon) with a message that says why."""
    member = _member_in_scope(scope=scope, member_id=member_id)
    day = local_date(now)
    rows = behind_list(team_id=member.team_id, role_ids=scope.role_filter(), day=day, now=now, member_ids={member.pk})
    if not rows:
        raise NudgeNotBehind(
            _("%(name)s is not behind: nothing due by now is still open.") % {"name": member.display_name}, code="not_behind"
        )
    with transaction.atomic():
        # The member's row is the lock: two directors (or a double tap, or two web nodes) nudging at once
        # are served one after the other, and the second sees the first's nudge.
        Member.objects.select_for_update().filter(pk=member.pk).values_list("pk", flat=True).first()
        latest = nudge_latest(member=member, since=now - nudge_interval())
        if latest is not None:
            raise NudgeTooSoon(
                _("%(name)s was nudged at %(at)s; the next nudge is possible from %(next)s (at most once every %(minutes)d minutes).")
                % {
                    "name": member.display_name,
                    "at": _hhmm(latest.at),
                    "next": _hhmm(latest.at + nudge_interval()),
                    "minutes": settings.OPSTEAM_NUDGE_INTERVAL_MINUTES,
                },
                code="too_soon",
            )
        items = list(
            ChecklistItem.objects.filter(
                checklist__team_id=member.team_id,
                checklist__date=day,
                checklist__member=member,
                checklist__role_id__in={r.role_id for r in rows},
                is_group=False,
                status=ItemStatus.OPEN,
                due_at__lt=now,
            ).order_by("due_at", "order", "pk")
        )
        if not items:  # ticked between the read above and the lock
            raise NudgeNotBehind(
                _("%(name)s is not behind: nothing due by now is still open.") % {"name": member.display_name}, code="not_behind"
            )
        lines = [f"- {item.text} ({_('due')} {_hhmm(item.due_at)})" for item in items[:ITEMS_NAMED]]
        if len(items) > ITEMS_NAMED:
            lines.append("- " + _("… and %(n)d more") % {"n": len(items) - ITEMS_NAMED})
        summary = "\n".join(lines)
        sender = scope.viewer
        title = _("%(sender)s reminds you: %(n)d items due are still open") % {"sender": sender.display_name, "n": len(items)}
        notification = notification_create(
            team=member.team,
            recipient=member,
            kind=NUDGE_KIND,
            title=title,
            body=summary,
            url=reverse("today"),
            role=role or Role.objects.filter(pk=rows[0].role_id).first(),
            # A person reminded another now: not held for quiet hours, not marked urgent.
            not_before=now,
            now=now,
            # The words again in the reader's language on the page (checklists.notify.words).
            event="nudge",
            values={
                "sender": sender.display_name,
                "n": len(items),
                "items": [[item.text, _hhmm(item.due_at)] for item in items[:ITEMS_NAMED]],
                "more": max(0, len(items) - ITEMS_NAMED),
            },
        )
        nudge = Nudge.objects.create(
            team_id=member.team_id,
            sender=sender,
            member=member,
            role=role,
            day=day,
            at=now,
            open_count=len(items),
            summary=summary,
            notification=notification,
        )
        nudge.items.set(items)
    return nudge


@dataclass
class RoleNudge:
    """What a role's 催一下 did: who was nudged, and who was not and why."""

    sent: list[Nudge] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)


def nudge_role(*, scope: BoardScope, role_id, now: datetime) -> RoleNudge:
    """Nudge everyone behind in a role (each within their own limit). A role outside the scope: 404."""
    try:
        role = Role.objects.get(pk=int(role_id), team_id=scope.viewer.team_id)
    except (Role.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404 from None
    allowed = scope.role_filter()
    if allowed is not None and role.pk not in allowed:
        raise Http404
    result = RoleNudge()
    rows = behind_list(team_id=role.team_id, role_ids={role.pk}, day=local_date(now), now=now)
    if not rows:
        raise NudgeNotBehind(_("Nobody in %(role)s is behind now.") % {"role": role.name}, code="not_behind")
    role_scope = BoardScope(viewer=scope.viewer, role_ids=scope.role_ids, role=role)
    for row in rows:
        try:
            result.sent.append(nudge_send(scope=role_scope, member_id=row.member_id, now=now, role=role))
        except ValidationError as exc:
            result.refused.extend(exc.messages)
    return result
