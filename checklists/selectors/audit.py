"""The audit trail: who changed what, when and from where, read from the event tables (issue 7).

Sources: TickEvent (ticks, unticks, on behalf of), TaskEvent (duties: create, assign, complete, reopen),
Amendment (published minutes changed), acknowledged escalations (who and when, from the escalation row),
and the shop's figures and targets (the last entry of each: MetricEntry and Target keep who and when of the
latest write only, not a history and not the address; see docs/permissions.md).
A lead reads the events of the roles they lead, the director and admin the whole team; staff none.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from datetime import datetime

from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.utils.translation import gettext as _

from checklists.models import Amendment, Escalation, TickEvent
from checklists.models.tasks import TaskEvent
from roles.models import Member, MetricEntry, Target
from roles.selectors import member_led_role_ids

PAGE_SIZE = 50
MAX_PAGE = 200  # 10,000 rows back; older history is in the admin and the database


@dataclass(frozen=True)
class AuditRow:
    """One change, whatever table it came from."""

    at: datetime
    kind: str  # tick / duty / minutes / escalation
    action: str
    actor: str
    subject: str
    changes: dict = field(default_factory=dict)
    ip: str | None = None
    on_behalf_of: str = ""


@dataclass
class AuditPage:
    rows: list[AuditRow]
    page: int
    total: int

    @property
    def has_next(self) -> bool:
        return self.page * PAGE_SIZE < min(self.total, MAX_PAGE * PAGE_SIZE)


def audit_scope(*, viewer: Member) -> set[int] | None:
    """None: the whole team (director, admin); else the led role ids. Staff may not read the trail."""
    if viewer.is_director or viewer.user.is_superuser:
        return None
    led = member_led_role_ids(member=viewer)
    if not led:
        raise PermissionDenied(_("The audit trail is for role leads and the director."))
    return led


def _sources(*, viewer: Member, roles: set[int] | None):
    team = viewer.team_id
    ticks = TickEvent.objects.filter(item__checklist__member__team_id=team)
    duties = TaskEvent.objects.filter(task__team_id=team)
    minutes = Amendment.objects.filter(meeting__series__team_id=team)
    acks = Escalation.objects.filter(team_id=team, acknowledged_at__isnull=False)
    figures = MetricEntry.objects.filter(team_id=team, entered_by__isnull=False)
    targets = Target.objects.filter(team_id=team, set_at__isnull=False)
    if roles is not None:
        ticks = ticks.filter(item__checklist__role_id__in=roles)
        duties = duties.filter(Q(task__role_id__in=roles) | Q(task__owner__role_links__role_id__in=roles)).distinct()
        minutes = minutes.filter(meeting__series__chair_role_id__in=roles)
        acks = acks.filter(role_id__in=roles)
        # Figures and targets belong to the shop, not a role: a lead sees the ones they wrote.
        figures = figures.filter(entered_by=viewer)
        targets = targets.filter(set_by=viewer)
    return (
        ticks.select_related("actor", "on_behalf_of", "item__checklist").order_by("-at", "-id"),
        duties.select_related("actor", "task").order_by("-at", "-id"),
        minutes.select_related("member", "meeting").order_by("-at", "-id"),
        acks.select_related("acknowledged_by", "item", "task").order_by("-acknowledged_at", "-id"),
        figures.select_related("entered_by", "metric").order_by("-entered_at", "-id"),
        targets.select_related("set_by", "metric").order_by("-set_at", "-id"),
    )


def _name(member: Member | None) -> str:
    return member.display_name if member else _("(deleted)")


def audit_list(*, viewer: Member, page: int = 1) -> AuditPage:
    """The newest changes first, PAGE_SIZE a page: each source's newest rows, merged by time (12 queries a page)."""
    roles = audit_scope(viewer=viewer)
    page = max(1, min(page, MAX_PAGE))
    depth = page * PAGE_SIZE
    ticks, duties, minutes, acks, figures, targets = _sources(viewer=viewer, roles=roles)
    streams = [
        (
            AuditRow(
                at=e.at,
                kind="tick",
                action=e.action,
                actor=_name(e.actor),
                subject=e.item.text,
                changes=e.changes,
                ip=e.ip,
                on_behalf_of=e.on_behalf_of.display_name if e.on_behalf_of_id and e.on_behalf_of_id != e.actor_id else "",
            )
            for e in ticks[:depth]
        ),
        (
            AuditRow(at=e.at, kind="duty", action=e.action, actor=_name(e.actor), subject=e.task.title, changes=e.changes, ip=e.ip)
            for e in duties[:depth]
        ),
        (
            AuditRow(
                at=a.at,
                kind="minutes",
                action=a.field,
                actor=_name(a.member),
                subject=str(a.meeting),
                changes={"before": a.before, "after": a.after, "reason": a.reason},
            )
            for a in minutes[:depth]
        ),
        (
            AuditRow(
                at=e.acknowledged_at,
                kind="escalation",
                action="acknowledge",
                actor=_name(e.acknowledged_by),
                subject=(e.item.text if e.item_id else e.task.title),
                changes={"level": e.level_order},
                ip=e.acknowledged_ip,
            )
            for e in acks[:depth]
        ),
        (
            AuditRow(
                at=f.entered_at,
                kind="figure",
                action=f.source,
                actor=_name(f.entered_by),
                subject=f"{f.metric} {f.date:%Y-%m-%d}",
                changes={"value": str(f.value)},
            )
            for f in figures[:depth]
        ),
        (
            AuditRow(
                at=t.set_at,
                kind="target",
                action="set",
                actor=_name(t.set_by),
                subject=f"{t.metric} {t.month:%Y-%m}",
                changes={"value": str(t.value), "split": t.split},
            )
            for t in targets[:depth]
        ),
    ]
    merged = list(heapq.merge(*streams, key=lambda row: row.at, reverse=True))
    total = sum(source.count() for source in (ticks, duties, minutes, acks, figures, targets))
    return AuditPage(rows=merged[depth - PAGE_SIZE : depth], page=page, total=total)
