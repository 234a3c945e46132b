"""The audit trail: who changed what, when and from where, read from the event tables (issue 7).

Sources: TickEvent (ticks, unticks, on behalf of), TaskEvent (duties: create, assign, complete, reopen),
Amendment (published minutes changed), acknowledged escalations (who and when, from the escalation row),
the shop's figures (every change, MetricEntryChange: who, when, before and after; no address) and targets
(Target keeps who and when of the latest write only, not a history and not the address; see docs/permissions.md).
A lead reads the events of the roles they lead, the director and admin the whole team; staff none.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from datetime import datetime

from django.core.exceptions import FieldDoesNotExist, PermissionDenied
from django.db import models
from django.db.models import Q
from django.utils import dateformat, timezone
from django.utils.text import Truncator, capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from checklists.duties.models import Task, TaskEvent
from checklists.models import Amendment, ChecklistItem, Escalation, TickAction, TickEvent
from roles.models import Member, MetricEntry, Target
from roles.models.kpi import MetricEntryChange
from roles.selectors import member_led_role_ids

PAGE_SIZE = 50
MAX_PAGE = 200  # 10,000 rows back; older history is in the admin and the database


# What the page calls each source and each action. The codes are stored in the event rows (TaskEvent.action and
# Amendment.field have no choices, MetricEntry.source's labels describe a row, not an act), so the labels live
# here rather than as model choices: changing choices would need a migration. Ticks use TickAction's labels.
KIND_LABELS = {
    "tick": gettext_lazy("Checklist"),
    "duty": gettext_lazy("Duty"),
    "minutes": gettext_lazy("Minutes"),
    "escalation": gettext_lazy("Escalation"),
    "figure": gettext_lazy("Figures"),
    "target": gettext_lazy("Target"),
}
ACTION_LABELS = {
    "tick": {choice.value: choice.label for choice in TickAction},
    "duty": {
        "create": gettext_lazy("Created the duty"),
        "assign": gettext_lazy("Assigned the duty"),
        "complete": gettext_lazy("Completed the duty"),
        "reopen": gettext_lazy("Reopened the duty"),
    },
    "minutes": {
        "notes": gettext_lazy("Amended the notes"),
        "decision": gettext_lazy("Added a decision"),
        "action_item": gettext_lazy("Added an action item"),
    },
    "escalation": {"acknowledge": gettext_lazy("Acknowledged")},
    "figure": {
        "form": gettext_lazy("Entered figures"),
        "import": gettext_lazy("Imported figures"),
        "api": gettext_lazy("Sent figures through the API"),
    },
    "target": {"set": gettext_lazy("Set the target")},
}
# The model whose fields a source's change keys name, and the keys that are not a field's own name.
CHANGE_FIELDS: dict[str, tuple[type[models.Model], dict[str, str]]] = {
    "tick": (ChecklistItem, {}),
    "duty": (Task, {}),
    "minutes": (Amendment, {}),
    "escalation": (Escalation, {"level": "level_order"}),
    "figure": (MetricEntry, {}),  # the change's key is the figure's value
    "target": (Target, {}),
}
EMPTY = "–"
MAX_VALUE_CHARS = 200


def audit_action_label(*, kind: str, action: str) -> str:
    """The action in the UI language, e.g. ("duty", "create") -> "Created the duty"; an unknown code as it is."""
    label = ACTION_LABELS.get(kind, {}).get(action)
    return str(label) if label is not None else action


def _model_field(kind: str, key: str) -> models.Field | None:
    model, renamed = CHANGE_FIELDS.get(kind, (None, {}))
    if model is None:
        return None
    try:
        return model._meta.get_field(renamed.get(key, key))
    except FieldDoesNotExist:
        return None


def _value_text(model_field: models.Field | None, value) -> str:
    if value is None or value == "":
        return EMPTY
    if model_field is not None:
        if model_field.choices:
            return str(dict(model_field.flatchoices).get(value, value))
        if isinstance(model_field, models.FileField):
            # The storage path says nothing to a reader; that there is a file is the change.
            return _("Uploaded")
        if isinstance(model_field, models.DateTimeField) and isinstance(value, str):
            try:
                moment = datetime.fromisoformat(value)
            except ValueError:
                return value
            # Stored as UTC ISO text; shown in the shop's time like the row's own time.
            if timezone.is_aware(moment):
                moment = timezone.localtime(moment)
            return dateformat.format(moment, "Y-m-d H:i")
    return Truncator(str(value)).chars(MAX_VALUE_CHARS)


def audit_change_lines(*, kind: str, changes: dict) -> list[tuple[str, str]]:
    """(field label, "before → after" or the value) per changed field, in the UI language and the shop's time."""
    lines = []
    for key, value in changes.items():
        model_field = _model_field(kind, key)
        label = capfirst(str(model_field.verbose_name)) if model_field is not None else key
        if isinstance(value, list) and len(value) == 2:  # the tick service's [before, after]
            text = f"{_value_text(model_field, value[0])} → {_value_text(model_field, value[1])}"
        else:
            text = _value_text(model_field, value)
        lines.append((label, text))
    return lines


@dataclass(frozen=True)
class AuditRow:
    """One change, whatever table it came from."""

    at: datetime
    kind: str  # tick / duty / minutes / escalation / figure / target
    action: str
    actor: str
    subject: str
    changes: dict = field(default_factory=dict)
    ip: str | None = None
    on_behalf_of: str = ""

    # Labels are read when the page renders, in the request's language.
    @property
    def kind_label(self) -> str:
        return str(KIND_LABELS.get(self.kind, self.kind))

    @property
    def action_label(self) -> str:
        return audit_action_label(kind=self.kind, action=self.action)

    @property
    def change_lines(self) -> list[tuple[str, str]]:
        return audit_change_lines(kind=self.kind, changes=self.changes)


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
    # Every change of a figure with its before and after (MetricEntry itself keeps only the latest writer).
    figures = MetricEntryChange.objects.filter(team_id=team, actor__isnull=False)
    targets = Target.objects.filter(team_id=team, set_at__isnull=False)
    if roles is not None:
        ticks = ticks.filter(item__checklist__role_id__in=roles)
        duties = duties.filter(Q(task__role_id__in=roles) | Q(task__owner__role_links__role_id__in=roles)).distinct()
        minutes = minutes.filter(meeting__series__chair_role_id__in=roles)
        acks = acks.filter(role_id__in=roles)
        # Figures and targets belong to the shop, not a role: a lead sees the ones they wrote.
        figures = figures.filter(actor=viewer)
        targets = targets.filter(set_by=viewer)
    return (
        ticks.select_related("actor", "on_behalf_of", "item__checklist").order_by("-at", "-id"),
        duties.select_related("actor", "task").order_by("-at", "-id"),
        minutes.select_related("member", "meeting").order_by("-at", "-id"),
        acks.select_related("acknowledged_by", "item", "task").order_by("-acknowledged_at", "-id"),
        figures.select_related("actor", "metric", "member").order_by("-at", "-id"),
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
                at=f.at,
                kind="figure",
                action=f.source,
                actor=_name(f.actor),
                subject=f"{f.metric} {f.date:%Y-%m-%d}" + (f" · {f.member.display_name}" if f.member_id else ""),
                changes={"value": [None if f.before is None else str(f.before), None if f.after is None else str(f.after)]},
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
