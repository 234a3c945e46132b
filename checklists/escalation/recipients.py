"""Who hears of an escalation: the escalations read with what their messages need, and each one's recipients."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from django.contrib.auth import get_user_model
from django.db.models import F, Q
from django.urls import reverse

from checklists.models import (
    EscalationLevel,
    ItemStatus,
    NotifyWhom,
    TaskStatus,
)
from opsteam.lib.clock import local_date
from roles.models import Member, MemberRole, Role, Team
from roles.selectors import cover_map_for_date

User = get_user_model()
# Per sweep and team, at most this many escalations are notified; the rest wait a minute (a catch-up after an outage).
NOTIFY_BATCH = 5000


@dataclass(slots=True)
class _ListRef:
    member_id: int
    assignee_id: int


@dataclass(slots=True)
class _ItemRef:
    pk: int
    text: str
    checklist: _ListRef


@dataclass(slots=True)
class _TaskRef:
    pk: int
    title: str
    owner_id: int | None
    assignee_id: int | None
    role_id: int | None
    role: Role | None


@dataclass(slots=True)
class _Pending:
    """An escalation as the sweep reads it to notify or repeat: its columns, its item (with the list) or duty,
    and its level (with the policy) and role. Plain values, not model instances: a sweep reads thousands, and
    building an Escalation, item, list and duty for each was a third of a steady-state sweep (issue 8)."""

    pk: int
    item_id: int | None
    task_id: int | None
    level_order: int
    notify: str
    role_id: int | None
    recipient_id: int | None
    due_at: datetime
    status: str
    repeats_sent: int
    level: EscalationLevel
    role: Role | None
    item: _ItemRef | None
    task: _TaskRef | None
    # The item or duty was closed after its level was raised (a tick a moment after the sweep read it late).
    subject_closed: bool = False


_PENDING_COLUMNS = (
    "id",
    "item_id",
    "task_id",
    "level_id",
    "level_order",
    "notify",
    "role_id",
    "recipient_id",
    "due_at",
    "status",
    "repeats_sent",
    "item__text",
    "item__checklist__member_id",
    "item__checklist__assignee_id",
    "task__title",
    "task__owner_id",
    "task__assignee_id",
    "task__role_id",
    "item__status",
    "task__status",
)


@dataclass
class _Context:
    team: Team
    now: datetime
    covers: dict[int, int]
    directors: list[int]  # active directors' member ids, lowest first
    leads: dict[int, int]  # role id -> lead member id, for the roles these escalations name
    role_members: dict[int, list[int]]  # for the roles whose duties nobody owns
    members: dict[int, Member] = field(default_factory=dict)  # the recipients, once known (active members only)
    names: dict[int, str] = field(default_factory=dict)  # display names of the people the message lines name
    today_url: str = ""
    dues: dict[datetime, str] = field(default_factory=dict)  # due time -> as a line shows it (a shop's items share a few)


def _context(*, team: Team, now: datetime, escalations: list[_Pending]) -> _Context:
    """What finding these escalations' recipients needs, and no more.

    A shop has thousands of members but a sweep tells a few of them: reading every member and role link
    of the shop cost most of a steady-state sweep (issue 8). Only the leads of the roles a lead level
    names, the holders of roles whose duties nobody owns, the directors and today's covers are read;
    the recipients themselves with `_context_members_load` once they are known.
    """
    lead_roles = {e.role_id for e in escalations if e.notify == NotifyWhom.LEAD and e.role_id}
    held_roles = {
        e.task.role_id
        for e in escalations
        if e.notify == NotifyWhom.OWNER and e.task_id and not (e.task.assignee_id or e.task.owner_id) and e.task.role_id
    }
    leads: dict[int, int] = {}
    role_members: dict[int, list[int]] = defaultdict(list)
    if lead_roles or held_roles:
        links = MemberRole.objects.filter(
            Q(role_id__in=lead_roles, is_lead=True) | Q(role_id__in=held_roles),
            role__team=team,
            member__team=team,
            member__is_active=True,
            member__user__is_active=True,
        ).values_list("member_id", "role_id", "is_lead")
        for member_id, role_id, is_lead in links:
            if role_id in held_roles:
                role_members[role_id].append(member_id)
            if is_lead:
                leads[role_id] = member_id
    return _Context(
        team=team,
        now=now,
        covers=cover_map_for_date(team=team, day=local_date(now)),
        directors=_directors(team=team),
        leads=leads,
        role_members=role_members,
        today_url=reverse("today"),
    )


def _directors(*, team: Team) -> list[int]:
    """The team's active directors' member ids, lowest first (Member.objects.active(), in two steps)."""
    # A shop has one or two directors among thousands of members, which the planner cannot tell: joined to
    # the users in one query it read every user of the site to find them (1.9 ms of a steady-state sweep).
    directors = dict(Member.objects.filter(team=team, is_director=True, is_active=True).order_by().values_list("pk", "user_id"))
    if not directors:
        return []
    active = set(User.objects.filter(pk__in=directors.values(), is_active=True).values_list("pk", flat=True))
    return sorted(pk for pk, user_id in directors.items() if user_id in active)


def _context_members_load(ctx: _Context, *, recipient_ids: set[int], escalations: list[_Pending]) -> None:
    """The recipients (active members of the team) and the names the message lines show, in one query."""
    named = set()
    for escalation in escalations:
        if escalation.item_id:
            named.add(escalation.item.checklist.assignee_id)
        else:
            named.update(m for m in (escalation.task.assignee_id, escalation.task.owner_id) if m is not None)
    ids = {m for m in recipient_ids if m is not None} | named
    if not ids:
        return
    rows = Member.objects.filter(pk__in=ids).annotate(user_is_active=F("user__is_active")).order_by()
    for member in rows:
        ctx.names[member.pk] = member.display_name
        if member.pk in recipient_ids and member.team_id == ctx.team.pk and member.is_active and member.user_is_active:
            ctx.members[member.pk] = member


def _present(ctx: _Context, member_id: int | None) -> int | None:
    """Whoever stands in for the member today (roles.Cover), or the member."""
    if member_id is None:
        return None
    return ctx.covers.get(member_id, member_id)


def _recipients(ctx: _Context, escalation: _Pending) -> list[int]:
    """Member IDs to tell for this escalation's level. A role without a lead escalates to the director."""
    if escalation.notify == NotifyWhom.OWNER:
        if escalation.item_id:
            # Through _present: a cover arranged after the day's lists were made still gets the reminder.
            return [_present(ctx, escalation.item.checklist.assignee_id)]
        task = escalation.task
        owner = task.assignee_id or task.owner_id
        if owner:
            return [_present(ctx, owner)]
        holders = sorted({_present(ctx, m) for m in ctx.role_members.get(task.role_id, [])})
        if holders:
            return holders
        # Nobody holds the role (and so it has no lead): the director hears of it rather than nobody.
    if escalation.notify == NotifyWhom.LEAD:
        lead = ctx.leads.get(escalation.role_id) if escalation.role_id else None
        # The lead's own late work goes past them: telling the late person again is no escalation.
        if lead is not None and lead not in _owners(escalation):
            return [_present(ctx, lead)]
    return ctx.directors[:1]


def _owners(escalation: _Pending) -> set[int]:
    """Whose item or duty it is: the member and whoever does it for them."""
    if escalation.item_id:
        checklist = escalation.item.checklist
        return {checklist.member_id, checklist.assignee_id}
    return {m for m in (escalation.task.owner_id, escalation.task.assignee_id) if m is not None}


def _escalations_locked(*, rows) -> list[_Pending]:
    """The first NOTIFY_BATCH rows, locked: skip_locked, so a second sweep at the same moment skips the rows this
    one holds (PostgreSQL). Levels, policies and roles are few: read once each and shared."""
    found = list(rows.select_for_update(skip_locked=True, of=("self",)).order_by("id").values_list(*_PENDING_COLUMNS)[:NOTIFY_BATCH])
    if not found:
        return []
    levels = {level.pk: level for level in EscalationLevel.objects.filter(pk__in={row[3] for row in found}).select_related("policy")}
    role_ids = {row[6] for row in found} | {row[17] for row in found}
    roles = {role.pk: role for role in Role.objects.filter(pk__in=role_ids - {None})}
    pending = []
    for (
        pk,
        item_id,
        task_id,
        level_id,
        level_order,
        notify,
        role_id,
        recipient_id,
        due_at,
        status,
        repeats_sent,
        item_text,
        list_member_id,
        list_assignee_id,
        task_title,
        task_owner_id,
        task_assignee_id,
        task_role_id,
        item_status,
        task_status,
    ) in found:
        item = _ItemRef(item_id, item_text, _ListRef(list_member_id, list_assignee_id)) if item_id else None
        task = _TaskRef(task_id, task_title, task_owner_id, task_assignee_id, task_role_id, roles.get(task_role_id)) if task_id else None
        pending.append(
            _Pending(
                pk=pk,
                item_id=item_id,
                task_id=task_id,
                level_order=level_order,
                notify=notify,
                role_id=role_id,
                recipient_id=recipient_id,
                due_at=due_at,
                status=status,
                repeats_sent=repeats_sent,
                level=levels[level_id],
                role=roles.get(role_id),
                item=item,
                task=task,
                subject_closed=item_status != ItemStatus.OPEN if item_id else task_status != TaskStatus.OPEN,
            )
        )
    return pending
