"""The escalation chain: raise each level of a policy once per late item or duty, notify, repeat, acknowledge.

The sweep runs every minute (beat) and from `run_jobs --at`. It is exactly once per item and level even
with two sweeps at once: the unique constraint decides which run inserts a level, and only the run that
claims an escalation (`notified_at IS NULL` under a row lock) writes its notification.
"""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Count, F, Q
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import override

from checklists.models import (
    ChecklistItem,
    Escalation,
    EscalationLevel,
    EscalationPolicy,
    EscalationStatus,
    ItemStatus,
    Notification,
    NotifyWhom,
    Task,
    TaskSource,
    TaskStatus,
)
from opsteam.lib.clock import business_tz, local_date, local_datetime
from opsteam.lib.text import markdown_escape
from roles.models import Member, MemberRole, Role, Team
from roles.selectors import cover_map_for_date, member_led_role_ids, workdays_in

logger = logging.getLogger(__name__)
User = get_user_model()

# The default chain (issue 4): the owner 30 minutes before due, the role lead at due + 30 min, the director at due + 2 h.
DEFAULT_LEVELS = [
    {"order": 1, "offset_minutes": -30, "notify": NotifyWhom.OWNER, "repeat_every_minutes": 0, "repeat_times": 0},
    {"order": 2, "offset_minutes": 30, "notify": NotifyWhom.LEAD, "repeat_every_minutes": 60, "repeat_times": 2},
    {"order": 3, "offset_minutes": 120, "notify": NotifyWhom.DIRECTOR, "repeat_every_minutes": 0, "repeat_times": 0},
]
ACK_SALT = "opsteam.escalation.ack"
# Per sweep and team, at most this many escalations are notified; the rest wait a minute (a catch-up after an outage).
NOTIFY_BATCH = 5000
# A message lists this many of its items and counts the rest.
MESSAGE_LINES = 30


@dataclass
class SweepResult:
    team: str
    workday: bool = True
    raised: int = 0
    notified: int = 0
    repeated: int = 0
    failed: int = 0
    by_level: dict[int, int] = field(default_factory=dict)
    busy: bool = False

    def __str__(self) -> str:
        if not self.workday:
            return f"{self.team}: not a working day, no escalations"
        if self.busy:
            return f"{self.team}: another sweep of this team is running, skipped"
        return f"{self.team}: {self.raised} raised, {self.notified} notified, {self.repeated} repeated, {self.failed} failed"


# --- policies -----------------------------------------------------------------------------------


def policy_default_ensure(*, team: Team) -> EscalationPolicy:
    """The team's default policy with the default levels; created once, then the admin edits it."""
    policy, created = EscalationPolicy.objects.get_or_create(team=team, source="", defaults={"name": _("Default escalation")})
    if created:
        EscalationLevel.objects.bulk_create([EscalationLevel(policy=policy, **level) for level in DEFAULT_LEVELS])
    return policy


def quiet_release(*, policy: EscalationPolicy, now: datetime, urgent: bool) -> datetime:
    """When a message may go out: now, or the end of the policy's quiet hours (default 22:00-08:00)."""
    if urgent or policy.quiet_start == policy.quiet_end:
        return now
    local = now.astimezone(business_tz())
    at = local.time()
    start, end = policy.quiet_start, policy.quiet_end
    in_quiet = (start <= at or at < end) if start > end else (start <= at < end)
    if not in_quiet:
        return now
    day = local.date() if at < end else local.date() + timedelta(days=1)
    return local_datetime(day, end)


# --- raising --------------------------------------------------------------------------------------


def _lookback() -> timedelta:
    return timedelta(hours=settings.OPSTEAM_ESCALATION_LOOKBACK_HOURS)


# The most days off the lookback reaches across (国庆 with its weekend is 8 days).
LOOKBACK_DAYS_OFF_MAX = 14


def _sweep_workdays(*, team: Team, now: datetime) -> dict[date, bool]:
    """Today and every day the lookback's walk can reach, read at once (one query for the team's overrides)."""
    return workdays_in(team=team, start=local_date(now - _lookback()) - timedelta(days=LOOKBACK_DAYS_OFF_MAX), end=local_date(now))


def _lookback_start(*, now: datetime, workdays: dict[date, bool]) -> datetime:
    """Items due since this instant may escalate: the lookback, not counting days off (the sweep skips them)."""
    # Counting them, an item due on 1 October was past the 48 h by the first working day after 国庆 and never escalated.
    start = now - _lookback()
    day = local_date(now) - timedelta(days=1)
    skipped = 0
    while day >= local_date(start) and skipped < LOOKBACK_DAYS_OFF_MAX:
        if not workdays[day]:
            start -= timedelta(days=1)
            skipped += 1
        day -= timedelta(days=1)
    return start


def _item_candidates(
    *, team: Team, policy: EscalationPolicy, is_fallback: bool, deadline: datetime, since: datetime, without_order: int | None = None
):
    """Open items of the team under this policy due in [since, deadline]; with `without_order`, only those without that level."""
    by_policy = Q(checklist__template__escalation_policy=policy)
    if is_fallback:
        by_policy |= Q(checklist__template__escalation_policy__isnull=True) | Q(checklist__template__isnull=True)
    items = (
        ChecklistItem.objects.filter(status=ItemStatus.OPEN, is_group=False, due_at__lte=deadline, due_at__gte=since)
        .filter(checklist__team=team)
        .filter(by_policy)
    )
    if without_order is not None:
        items = items.exclude(escalations__level_order=without_order)
    return items.values_list("id", "due_at", "checklist__role_id")


def _task_candidates(
    *,
    team: Team,
    policy: EscalationPolicy,
    sources: list[str] | None,
    deadline: datetime,
    since: datetime,
    without_order: int | None = None,
):
    """Open duties under this policy (their own, their kind's, or the default) due in [since, deadline]."""
    by_policy = Q(escalation_policy=policy)
    if sources is not None:
        by_policy |= Q(escalation_policy__isnull=True, source__in=sources)
    tasks = Task.objects.filter(team=team, status=TaskStatus.OPEN, due_at__lte=deadline, due_at__gte=since).filter(by_policy)
    if without_order is not None:
        tasks = tasks.exclude(escalations__level_order=without_order)
    return tasks.values_list("id", "due_at", "role_id")


def _escalation_row(*, team: Team, level: EscalationLevel, role_id, due_at, now: datetime, batch, **subject) -> Escalation:
    return Escalation(
        team=team,
        level=level,
        level_order=level.order,
        notify=level.notify,
        role_id=role_id,
        due_at=due_at,
        raised_at=now,
        batch=batch,
        **subject,
    )


# PostgreSQL: a policy's candidates go straight into the escalations with one INSERT ... SELECT for all its
# levels, never through Python (a catch-up after an outage raises 100,000 at once, issue 8). The candidates
# are read once, over the partial index, up to the latest level's deadline, and joined to the levels whose
# time has come for each; one statement per level read the same index range and the shop's lists three
# times. ON CONFLICT DO NOTHING is the same exactly-once rule as the ORM path's ignore_conflicts: the
# constraint decides between two sweeps. RETURNING counts what this statement inserted, per level.
_ESCALATIONS_INSERT = """
WITH inserted AS (
    INSERT INTO checklists_escalation (team_id, item_id, task_id, level_id, level_order, notify, role_id, recipient_id, due_at,
        raised_at, status, acknowledged_at, acknowledged_by_id, resolved_at, notified_at, repeats_sent, next_repeat_at, error, batch)
    SELECT %s, {item}, {task}, l.level_id, l.level_order, l.notify, c.role_id, NULL, c.due_at,
        %s, %s, NULL, NULL, NULL, NULL, 0, NULL, '', %s
    FROM ({candidates}) AS c (subject_id, due_at, role_id)
    JOIN (VALUES {levels}) AS l (level_id, level_order, notify, deadline) ON c.due_at <= l.deadline
    WHERE NOT EXISTS (
        SELECT 1 FROM checklists_escalation e WHERE e.{subject}_id = c.subject_id AND e.level_order = l.level_order
    )
    ORDER BY l.level_order, c.subject_id
    ON CONFLICT DO NOTHING
    RETURNING level_order
)
SELECT level_order, count(*) FROM inserted GROUP BY level_order
"""
_LEVEL_VALUES = "(%s::bigint, %s::smallint, %s::varchar, %s::timestamptz)"


def _escalations_insert(candidates, *, team: Team, levels, now: datetime, batch, subject: str) -> dict[int, int]:
    """{level order: rows inserted} for these candidates and the levels whose time has come."""
    sql, params = candidates.order_by().query.sql_with_params()
    item, task = ("c.subject_id", "NULL") if subject == "item" else ("NULL", "c.subject_id")
    level_params = [value for level in levels for value in (level.pk, level.order, level.notify, now - level.offset)]
    with connection.cursor() as cursor:
        cursor.execute(
            _ESCALATIONS_INSERT.format(
                item=item, task=task, subject=subject, candidates=sql, levels=", ".join([_LEVEL_VALUES] * len(levels))
            ),
            [team.pk, now, EscalationStatus.OPEN, batch, *params, *level_params],
        )
        return dict(cursor.fetchall())


def _raise_levels(*, team: Team, now: datetime, workdays: dict[date, bool], result: SweepResult) -> bool:
    """Raise every level whose time has come; True when they went in already notified and none was waiting."""
    active = EscalationPolicy.objects.filter(team=team, is_active=True).prefetch_related("levels")
    policies = list(active)
    # The default policy is created once (the first sweep); read with the others, later sweeps skip the get_or_create.
    default = next((p for p in policies if p.source == ""), None)
    if default is None:
        default = policy_default_ensure(team=team)
        policies = list(active.all())
    by_source = {p.source: p for p in policies if p.source}
    checklist_fallback = by_source.get(TaskSource.CHECKLIST, default)
    # Duty kinds without a policy of their own fall back to the default.
    default_sources = [s for s in TaskSource.values if s not in by_source and s != TaskSource.CHECKLIST]
    batch = uuid.uuid4()
    since = _lookback_start(now=now, workdays=workdays)
    plans = []
    for policy in policies:
        task_sources = default_sources if policy.pk == default.pk else ([policy.source] if policy.source else [])
        is_fallback = policy.pk == checklist_fallback.pk
        levels = list(policy.levels.all())
        if connection.vendor == "postgresql":
            if levels:
                latest = max(now - level.offset for level in levels)
                items = _item_candidates(team=team, policy=policy, is_fallback=is_fallback, deadline=latest, since=since)
                tasks = _task_candidates(team=team, policy=policy, sources=task_sources, deadline=latest, since=since)
                steady = _item_candidates_steady(team=team, policy=policy, is_fallback=is_fallback, deadline=latest, since=since)
                plans.append((levels, items, tasks, steady))
            continue
        for level in levels:
            deadline = now - level.offset
            rows = [
                _escalation_row(team=team, level=level, role_id=role_id, due_at=due_at, now=now, batch=batch, item_id=item_id)
                for item_id, due_at, role_id in _item_candidates(
                    team=team, policy=policy, is_fallback=is_fallback, deadline=deadline, since=since, without_order=level.order
                )
            ]
            rows += [
                _escalation_row(team=team, level=level, role_id=role_id, due_at=due_at, now=now, batch=batch, task_id=task_id)
                for task_id, due_at, role_id in _task_candidates(
                    team=team, policy=policy, sources=task_sources, deadline=deadline, since=since, without_order=level.order
                )
            ]
            if rows:
                # Two sweeps at once: the constraint lets one insert each (item, level); the other's row is dropped.
                Escalation.objects.bulk_create(rows, ignore_conflicts=True, batch_size=2000)
    if connection.vendor == "postgresql":
        if _raise_sent(team=team, now=now, plans=plans, batch=batch, result=result):
            return True
        for levels, items, tasks, _steady in plans:
            for candidates, subject in ((items, "item"), (tasks, "task")):
                inserted = _escalations_insert(candidates, team=team, levels=levels, now=now, batch=batch, subject=subject)
                for order, count in inserted.items():
                    result.by_level[order] = result.by_level.get(order, 0) + count
                    result.raised += count
        return False
    # ignore_conflicts does not say which rows went in: the batch does (all still unnotified: this sweep holds
    # the team, and the predicate lets the partial index of unnotified rows find them).
    inserted = Escalation.objects.filter(batch=batch, notified_at__isnull=True).values("level_order").annotate(count=Count("id")).order_by()
    for row in inserted:
        result.by_level[row["level_order"]] = row["count"]
        result.raised += row["count"]
    return False


# --- raising already sent (PostgreSQL) -----------------------------------------------------------------
#
# The steady state (issue 8): each minute a thousand items come within a level. The usual way inserts their
# escalations, reads them back locked, writes the messages and marks the rows sent: every row is read and
# rewritten once more, in each of the table's indexes. When the new rows fit in one notify batch and none is
# left waiting from an earlier sweep, the recipients are worked out from the candidates instead, and the rows
# go in already sent, beside their messages. Anything unusual (too many, a row left waiting, a recipient or
# a message that fails) leaves it to the usual way, which records a failure on its row.

_TASK_COLUMNS = ("id", "due_at", "role_id", "title", "owner_id", "assignee_id")

# The steady read's items, as _item_candidates but each open item of the window finds its list by primary
# key: as a join, the planner hashed all of the shop's lists (50,000 in issue 8's benchmark) to keep the
# thousand it needed, 11 ms of a 14 ms read. OFFSET 0 keeps it from flattening the LATERAL back into that join.
# (The catch-up's INSERT ... SELECT keeps the join: for 100,000 items the hash is the cheaper plan.)
_ITEM_CANDIDATES_STEADY = """
SELECT i."id", i."due_at", k."role_id", i."text", k."member_id", k."assignee_id"
FROM "checklists_checklistitem" i
CROSS JOIN LATERAL (
    SELECT k."role_id", k."member_id", k."assignee_id", k."template_id" FROM "checklists_checklist" k
    WHERE k."id" = i."checklist_id" AND k."team_id" = %s OFFSET 0
) AS k
LEFT JOIN "checklists_checklisttemplate" t ON t."id" = k."template_id"
WHERE i."status" = %s AND NOT i."is_group" AND i."due_at" <= %s AND i."due_at" >= %s AND ({policy})
"""


def _item_candidates_steady(*, team: Team, policy: EscalationPolicy, is_fallback: bool, deadline: datetime, since: datetime):
    """(sql, params) of _item_candidates' rows with the columns a message needs, for the steady read."""
    by_policy = 't."escalation_policy_id" = %s'
    if is_fallback:
        by_policy += ' OR t."escalation_policy_id" IS NULL OR k."template_id" IS NULL'
    return _ITEM_CANDIDATES_STEADY.format(policy=by_policy), [team.pk, ItemStatus.OPEN, deadline, since, policy.pk]


# The candidates and levels of _ESCALATIONS_INSERT, read instead of inserted; LIMIT: more than a batch is a
# catch-up, for the usual way.
_CANDIDATES_SELECT = """
SELECT c.subject_id, c.due_at, c.role_id, c.label, c.person_a, c.person_b, l.level_order
FROM ({candidates}) AS c (subject_id, due_at, role_id, label, person_a, person_b)
JOIN (VALUES {levels}) AS l (level_id, level_order, notify, deadline) ON c.due_at <= l.deadline
WHERE NOT EXISTS (
    SELECT 1 FROM checklists_escalation e WHERE e.{subject}_id = c.subject_id AND e.level_order = l.level_order
)
LIMIT %s
"""

# ON CONFLICT DO NOTHING: the constraint still decides; a row it drops makes the caller roll back and go the usual way.
_ESCALATIONS_INSERT_SENT = """
INSERT INTO checklists_escalation (team_id, item_id, task_id, level_id, level_order, notify, role_id, recipient_id, due_at,
    raised_at, status, acknowledged_at, acknowledged_by_id, resolved_at, notified_at, repeats_sent, next_repeat_at, error, batch)
SELECT %s, v.item_id, v.task_id, v.level_id, v.level_order, v.notify, v.role_id, v.recipient_id, v.due_at,
    %s, %s, NULL, NULL, NULL, %s, 0, v.next_repeat_at, v.error, %s
FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[], %s::smallint[], %s::varchar[], %s::bigint[], %s::bigint[],
    %s::timestamptz[], %s::timestamptz[], %s::text[]) WITH ORDINALITY
    AS v (item_id, task_id, level_id, level_order, notify, role_id, recipient_id, due_at, next_repeat_at, error, n)
ORDER BY v.n
ON CONFLICT DO NOTHING
RETURNING id, item_id, task_id, level_order
"""


class _UsualWay(Exception):
    """Raised inside the savepoint of _raise_sent to undo what it wrote."""


def _candidates_read(candidates, *, levels, now: datetime, subject: str, limit: int) -> list[tuple]:
    """(subject id, due, role id, text or title, member or owner id, assignee id, level order) not raised yet.

    `candidates`: the (sql, params) of _item_candidates_steady, or a queryset of _task_candidates."""
    if isinstance(candidates, tuple):
        sql, params = candidates
    else:
        sql, params = candidates.values_list(*_TASK_COLUMNS).order_by().query.sql_with_params()
    level_params = [value for level in levels for value in (level.pk, level.order, level.notify, now - level.offset)]
    with connection.cursor() as cursor:
        cursor.execute(
            _CANDIDATES_SELECT.format(subject=subject, candidates=sql, levels=", ".join([_LEVEL_VALUES] * len(levels))),
            [*params, *level_params, limit],
        )
        return cursor.fetchall()


def _raise_sent(*, team: Team, now: datetime, plans, batch, result: SweepResult) -> bool:
    """Raise and notify the new levels at once; False, having written nothing, when the usual way must do it."""
    if Escalation.objects.filter(team=team, notified_at__isnull=True).exists():
        # Left from an earlier sweep (a message that failed): it and the new rows go in one message per recipient and level.
        return False
    found: list[tuple[str, tuple, EscalationLevel]] = []
    for levels, _items, tasks, steady_items in plans:
        by_order = {level.order: level for level in levels}
        for candidates, subject in ((steady_items, "item"), (tasks, "task")):
            rows = _candidates_read(candidates, levels=levels, now=now, subject=subject, limit=NOTIFY_BATCH + 1 - len(found))
            if len(found) + len(rows) > NOTIFY_BATCH:
                return False
            # In the usual way's order (by level, then subject), so that a message lists its lines alike.
            found += [(subject, row, by_order[row[6]]) for row in sorted(rows, key=lambda row: (row[6], row[0]))]
    if not found:
        return True
    roles = {role.pk: role for role in Role.objects.filter(pk__in={row[2] for _s, row, _l in found} - {None})}
    pending = []
    for subject, (subject_id, due_at, role_id, label, person_a, person_b, order), level in found:
        is_item = subject == "item"
        pending.append(
            _Pending(
                pk=0,  # until the row exists
                item_id=subject_id if is_item else None,
                task_id=None if is_item else subject_id,
                level_order=order,
                notify=level.notify,
                role_id=role_id,
                recipient_id=None,
                due_at=due_at,
                status=EscalationStatus.OPEN,
                repeats_sent=0,
                level=level,
                role=roles.get(role_id),
                item=_ItemRef(subject_id, label, _ListRef(person_a, person_b)) if is_item else None,
                task=None if is_item else _TaskRef(subject_id, label, person_a, person_b, role_id, roles.get(role_id)),
            )
        )
    ctx = _context(team=team, now=now, escalations=pending)
    groups: dict[tuple[int, int], list[_Pending]] = defaultdict(list)
    nobody = _("Nobody to notify: the team has no director.")
    errors = []
    try:
        for escalation in pending:
            recipients = _recipients(ctx, escalation)
            errors.append("" if recipients else nobody)
            for recipient_id in recipients:
                groups[(recipient_id, escalation.level_order)].append(escalation)
    except Exception:
        return False
    for (recipient_id, _order), escalations in groups.items():
        for escalation in escalations:
            # An escalation sent to several members (a role duty) records one of them, as _notify_pending does.
            if escalation.recipient_id is None:
                escalation.recipient_id = recipient_id
    _context_members_load(ctx, recipient_ids={key[0] for key in groups}, escalations=[e for g in groups.values() for e in g])
    from checklists.services.notifications import pg_array

    columns = [
        pg_array(e.item_id for e in pending),
        pg_array(e.task_id for e in pending),
        pg_array(e.level.pk for e in pending),
        pg_array(e.level_order for e in pending),
        pg_array(e.notify for e in pending),
        pg_array(e.role_id for e in pending),
        pg_array(e.recipient_id for e in pending),
        pg_array(e.due_at for e in pending),
        pg_array(_first_repeat_at(e.level, now=now) if e.recipient_id else None for e in pending),
        pg_array(errors),
    ]
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(_ESCALATIONS_INSERT_SENT, [team.pk, now, EscalationStatus.OPEN, now, batch, *columns])
                ids = {(item_id, task_id, order): pk for pk, item_id, task_id, order in cursor.fetchall()}
            if len(ids) != len(pending):
                raise _UsualWay("another sweep raised some of these levels")
            for escalation in pending:
                escalation.pk = ids[(escalation.item_id, escalation.task_id, escalation.level_order)]
            _notifications_write(ctx, groups, repeat=False)
    except Exception:
        logger.warning("raising %d escalations already sent failed; raising them the usual way", len(pending), exc_info=True)
        return False
    for escalation in pending:
        result.by_level[escalation.level_order] = result.by_level.get(escalation.level_order, 0) + 1
        result.raised += 1
        result.notified += escalation.recipient_id is not None
    return True


# --- notifying -------------------------------------------------------------------------------------


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


def _subject_line(ctx: _Context, escalation: _Pending) -> tuple[str, str, str, str]:
    """(text, whose, due HH:MM, url) for one line of a message."""
    due = ctx.dues.get(escalation.due_at)
    if due is None:
        due = ctx.dues[escalation.due_at] = escalation.due_at.astimezone(business_tz()).strftime("%m-%d %H:%M")
    if escalation.item_id:
        item = escalation.item
        checklist = item.checklist
        url = f"{ctx.today_url}?member={checklist.assignee_id}#item-{item.pk}"
        return item.text, ctx.names.get(checklist.assignee_id, ""), due, url
    task = escalation.task
    # The assignee, else the owner, else the role: as the duty's page names whose it is.
    person = task.assignee_id or task.owner_id
    whose = ctx.names.get(person, "") if person else str(task.role or "")
    return task.title, whose, due, reverse("task-detail", args=[task.pk])


def _message(*, notify: str, lines: list[tuple[str, str, str, str]], count: int, repeat: bool, before_due: bool) -> tuple[str, str]:
    """Title and body for `count` items; `lines` are the first MESSAGE_LINES of them, the rest are counted."""
    if notify == NotifyWhom.OWNER and before_due:
        title = _("Reminder: %(count)d item(s) due soon") % {"count": count}
    elif notify == NotifyWhom.OWNER:
        title = _("Overdue: %(count)d item(s) of yours") % {"count": count}
    elif notify == NotifyWhom.LEAD:
        title = _("Escalated to you as lead: %(count)d overdue item(s)") % {"count": count}
    else:
        title = _("Escalated to the director: %(count)d overdue item(s)") % {"count": count}
    if repeat:
        title = _("Again: %(title)s") % {"title": title}
    base = settings.OPSTEAM_BASE_URL.rstrip("/")
    line = _("- [%(text)s](%(url)s) · %(whose)s · due %(due)s")
    # Translated once, not once a line. Titles and names are plain text, never Markdown (issue 15: a link in a duty's
    # title was a link in everyone's bell).
    body = "\n".join(
        line % {"text": markdown_escape(text), "url": base + url, "whose": markdown_escape(whose), "due": due}
        for text, whose, due, url in lines[:MESSAGE_LINES]
    )
    if count > MESSAGE_LINES:
        body += "\n" + _("- … and %(more)d more") % {"more": count - MESSAGE_LINES}
    return title, body


def ack_token_make(*, notification: Notification) -> str:
    return signing.dumps({"n": notification.pk, "m": notification.recipient_id}, salt=ACK_SALT, compress=True)


def ack_url(*, notification: Notification) -> str:
    return settings.OPSTEAM_BASE_URL.rstrip("/") + reverse("ack-link", args=[ack_token_make(notification=notification)])


def _notify_spec(ctx: _Context, *, recipient_id: int, escalations: list[_Pending], repeat: bool):
    """The notification for one recipient and level, or None when the recipient is no longer an active member.

    In the site's language: the caller holds override(settings.LANGUAGE_CODE)."""
    from checklists.services.notifications import NotificationSpec

    recipient = ctx.members.get(recipient_id)
    if recipient is None:
        return None
    first = escalations[0]
    # Only the lines the message shows: a director's catch-up message names 30 of thousands.
    lines = [_subject_line(ctx, e) for e in escalations[:MESSAGE_LINES]]
    before_due = all(e.due_at > ctx.now for e in escalations)
    urgent = any(e.level.urgent for e in escalations)
    # A lead level that went past the lead (no lead, or the lead's own work) reads as the director's.
    notify = first.notify
    if notify == NotifyWhom.LEAD and recipient.is_director and ctx.leads.get(first.role_id) != recipient.pk:
        notify = NotifyWhom.DIRECTOR
    title, body = _message(notify=notify, lines=lines, count=len(escalations), repeat=repeat, before_due=before_due)
    return NotificationSpec(
        recipient=recipient,
        kind="escalation" if first.notify != NotifyWhom.OWNER else "reminder",
        title=title,
        body=body,
        url=lines[0][3],
        role=first.role,
        urgent=urgent,
        escalations=escalations,
        not_before=quiet_release(policy=first.level.policy, now=ctx.now, urgent=urgent),
    )


def _notifications_write(ctx: _Context, groups: dict[tuple[int, int], list[_Pending]], *, repeat: bool) -> list[Notification]:
    """The groups' notifications and deliveries with bulk inserts, in a fixed number of queries however many groups."""
    from checklists.services.notifications import notification_create_many, notification_ids_reserve

    # One override for all the messages and their links, not one each (a sweep writes fifty or hundreds).
    with override(settings.LANGUAGE_CODE):
        specs = [_notify_spec(ctx, recipient_id=key[0], escalations=escalations, repeat=repeat) for key, escalations in groups.items()]
        specs = [spec for spec in specs if spec is not None]
        # The one-click acknowledge link needs the notification's id: reserved first where the database can,
        # so the body goes in whole; else added once the rows exist (in the same transaction either way: the
        # deliveries, sent after commit, carry it).
        ids = notification_ids_reserve(count=len(specs))
        if ids is not None:
            specs = [
                replace(spec, pk=pk, body=spec.body + _ack_line(Notification(pk=pk, recipient=spec.recipient)))
                for spec, pk in zip(specs, ids, strict=True)
            ]
            return notification_create_many(team=ctx.team, specs=specs, now=ctx.now)
        notifications = notification_create_many(team=ctx.team, specs=specs, now=ctx.now)
        for notification in notifications:
            notification.body += _ack_line(notification)
    Notification.objects.bulk_update(notifications, ["body"], batch_size=500)
    return notifications


def _ack_line(notification: Notification) -> str:
    """The message's one-click acknowledge link, in the active language (the caller's override)."""
    return "\n\n" + _("[Acknowledge: I am on it](%(url)s)") % {"url": ack_url(notification=notification)}


def _notify_group(ctx: _Context, *, recipient_id: int, escalations: list[_Pending], repeat: bool) -> Notification | None:
    written = _notifications_write(ctx, {(recipient_id, escalations[0].level_order): escalations}, repeat=repeat)
    return written[0] if written else None


def _notify_groups(ctx: _Context, groups: dict[tuple[int, int], list[_Pending]], *, repeat: bool):
    """All groups at once (a catch-up writes hundreds of messages); if that fails, group by group, so that a
    broken group fails alone as before. Returns (the keys sent, [(key, exception)] of the groups that failed)."""
    try:
        with transaction.atomic():
            _notifications_write(ctx, groups, repeat=repeat)
        return list(groups), []
    except Exception:
        logger.warning("writing %d escalation messages at once failed; writing them one by one", len(groups), exc_info=True)
    sent, failed = [], []
    for key, escalations in groups.items():
        try:
            with transaction.atomic():
                _notify_group(ctx, recipient_id=key[0], escalations=escalations, repeat=repeat)
            sent.append(key)
        except Exception as exc:
            failed.append((key, exc))
    return sent, failed


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


def _first_repeat_at(level: EscalationLevel, *, now: datetime) -> datetime | None:
    """When a level sent now repeats first, or None when it does not repeat."""
    if not level.repeat_times:
        return None
    # Counted from when the message goes out: one raised at 22:00 is read at 08:00, so it repeats at 09:00.
    return quiet_release(policy=level.policy, now=now, urgent=level.urgent) + timedelta(minutes=level.repeat_every_minutes)


def _escalations_mark_sent(*, done: dict[int, int], by_id: dict[int, _Pending], now: datetime) -> None:
    """Stamp the notified escalations with their recipient and first repeat time."""
    next_repeats = {escalation_id: _first_repeat_at(by_id[escalation_id].level, now=now) for escalation_id in done}
    if connection.vendor == "postgresql":
        from checklists.services.notifications import pg_array

        # One statement for all (a steady-state sweep tells 50 people; one UPDATE each was a tenth of its time).
        ids = list(done)
        with connection.cursor() as cursor:
            cursor.execute(
                _ESCALATIONS_MARK_SENT,
                [now, pg_array(ids), pg_array(done[i] for i in ids), pg_array(next_repeats[i] for i in ids)],
            )
        return
    # One UPDATE per recipient and repeat time, not one per escalation: a catch-up notifies thousands.
    updates: dict[tuple[int, datetime | None], list[int]] = defaultdict(list)
    for escalation_id, recipient_id in done.items():
        updates[(recipient_id, next_repeats[escalation_id])].append(escalation_id)
    for (recipient_id, next_repeat), ids in updates.items():
        Escalation.objects.filter(pk__in=ids, notified_at__isnull=True).update(
            notified_at=now, recipient_id=recipient_id, next_repeat_at=next_repeat, error=""
        )


# notified_at IS NULL: the same guard as the ORM path's, though the rows are locked by this sweep.
_ESCALATIONS_MARK_SENT = """
UPDATE checklists_escalation AS e
SET notified_at = %s, recipient_id = v.recipient_id, next_repeat_at = v.next_repeat_at, error = ''
FROM unnest(%s::bigint[], %s::bigint[], %s::timestamptz[]) AS v (id, recipient_id, next_repeat_at)
WHERE e.id = v.id AND e.notified_at IS NULL
"""


def _notify_pending(*, team: Team, now: datetime, result: SweepResult) -> None:
    """Write one notification per recipient and level for the escalations nobody has notified yet."""
    with transaction.atomic():
        pending = _escalations_locked(rows=Escalation.objects.filter(team=team, notified_at__isnull=True))
        if not pending:
            return
        ctx = _context(team=team, now=now, escalations=pending)
        groups: dict[tuple[int, int], list[_Pending]] = defaultdict(list)
        for escalation in pending:
            if escalation.status == EscalationStatus.RESOLVED or escalation.subject_closed:
                # Done while its message waited for a retry, or a moment after the sweep raised it late (the tick
                # did not see the level yet): nobody needs to hear of it now, and it is not chased again.
                _stop_chasing(escalation, now=now, notified=True)
                continue
            try:
                recipients = _recipients(ctx, escalation)
            except Exception as exc:  # one broken row must not stop the sweep
                logger.exception("escalation %s: no recipient", escalation.pk)
                Escalation.objects.filter(pk=escalation.pk).update(error=str(exc)[:1000])
                result.failed += 1
                continue
            if not recipients:
                Escalation.objects.filter(pk=escalation.pk).update(notified_at=now, error=_("Nobody to notify: the team has no director."))
                continue
            for recipient_id in recipients:
                groups[(recipient_id, escalation.level_order)].append(escalation)
        _context_members_load(ctx, recipient_ids={key[0] for key in groups}, escalations=[e for g in groups.values() for e in g])
        done: dict[int, int] = {}
        sent, failed = _notify_groups(ctx, groups, repeat=False)
        for (recipient_id, _order), exc in failed:
            logger.error("escalation notification to member %s failed", recipient_id, exc_info=exc)
            escalations = groups[(recipient_id, _order)]
            Escalation.objects.filter(pk__in=[e.pk for e in escalations]).update(error=str(exc)[:1000])
            result.failed += len(escalations)
        for recipient_id, order in sent:
            for escalation in groups[(recipient_id, order)]:
                # An escalation sent to several members (a role duty) records one of them.
                done.setdefault(escalation.pk, recipient_id)
        if done:
            _escalations_mark_sent(done=done, by_id={e.pk: e for e in pending}, now=now)
        result.notified += len(done)


def _stop_chasing(escalation: _Pending, *, now: datetime, notified: bool = False) -> None:
    """An escalation nobody needs to hear of: resolved if its item or duty is closed (as escalation_resolve does at
    the tick), and with `notified`, marked as notified so that its message is not retried."""
    changes = {"notified_at": now, "error": ""} if notified else {}
    if escalation.subject_closed and escalation.status != EscalationStatus.RESOLVED:
        changes |= {"status": EscalationStatus.RESOLVED, "resolved_at": now, "next_repeat_at": None}
    Escalation.objects.filter(pk=escalation.pk).update(**changes)


def _repeat_due(*, team: Team, now: datetime, result: SweepResult) -> None:
    """Repeat an unacknowledged level every <interval>, up to <n> times."""
    with transaction.atomic():
        due = _escalations_locked(
            rows=Escalation.objects.filter(team=team, status=EscalationStatus.OPEN, next_repeat_at__lte=now, notified_at__isnull=False),
        )
        groups: dict[tuple[int, int], list[_Pending]] = defaultdict(list)
        for escalation in due:
            if escalation.subject_closed:
                _stop_chasing(escalation, now=now)
                continue
            level = escalation.level
            released = quiet_release(policy=level.policy, now=now, urgent=level.urgent)
            if released > now:
                # Quiet hours: the repeat would only wait in the outbox beside the last one; it goes in the morning.
                Escalation.objects.filter(pk=escalation.pk, repeats_sent=escalation.repeats_sent).update(next_repeat_at=released)
                continue
            sent = escalation.repeats_sent + 1
            next_repeat = now + timedelta(minutes=level.repeat_every_minutes) if sent < level.repeat_times else None
            # Guarded: only the run that moves repeats_sent from n to n + 1 sends repeat n + 1.
            claimed = Escalation.objects.filter(pk=escalation.pk, repeats_sent=escalation.repeats_sent).update(
                repeats_sent=sent, next_repeat_at=next_repeat
            )
            if claimed and escalation.recipient_id:
                groups[(escalation.recipient_id, escalation.level_order)].append(escalation)
        if not groups:
            return
        repeating = [e for g in groups.values() for e in g]
        ctx = _context(team=team, now=now, escalations=repeating)
        _context_members_load(ctx, recipient_ids={key[0] for key in groups}, escalations=repeating)
        for (recipient_id, _order), escalations in groups.items():
            try:
                with transaction.atomic():
                    _notify_group(ctx, recipient_id=recipient_id, escalations=escalations, repeat=True)
                result.repeated += len(escalations)
            except Exception:
                logger.exception("repeat notification to member %s failed", recipient_id)
                result.failed += len(escalations)


def escalation_sweep(*, team: Team, now: datetime) -> SweepResult:
    """What beat runs every minute, per team. On a day off nothing escalates: the next working day catches up."""
    result = SweepResult(team=team.slug)
    workdays = _sweep_workdays(team=team, now=now)
    if not workdays[local_date(now)]:
        result.workday = False
        return result
    with transaction.atomic():
        # One sweep per team at a time (two beats, a retried task, run_jobs beside beat): the others skip
        # this minute. Without it two sweeps could each lock half of a person's new escalations and send
        # them two messages where one is due; the constraints alone keep each level once, not the grouping.
        if not Team.objects.select_for_update(skip_locked=True).filter(pk=team.pk).exists():
            result.busy = True
            return result
        # Raised already notified, with none left waiting from before (checked under the team's lock): nothing is pending.
        if not _raise_levels(team=team, now=now, workdays=workdays, result=result):
            _notify_pending(team=team, now=now, result=result)
        _repeat_due(team=team, now=now, result=result)
    return result


# --- acknowledging and resolving ------------------------------------------------------------------


def escalation_can_acknowledge(*, escalation: Escalation, member: Member) -> bool:
    """The member it was sent to, a lead of its role, or the director; a director's level only the director."""
    if escalation.team_id != member.team_id:
        return False
    if member.is_director or member.user.is_superuser or escalation.recipient_id == member.pk:
        return True
    if escalation.notify == NotifyWhom.DIRECTOR:
        # The level that tells the director a role is behind must not be silenced by that role's lead.
        return False
    if escalation.role_id is not None and escalation.role_id in member_led_role_ids(member=member):
        return True
    # A role duty's reminder goes to every member of the role, but the escalation records only one of them.
    return escalation.notifications.filter(recipient=member).exists()


@transaction.atomic
def escalation_acknowledge(*, escalation: Escalation, member: Member, now: datetime, ip: str | None = None) -> Escalation:
    """Stops the repeats of this level; the next level still comes if the item stays open. Idempotent."""
    escalation = Escalation.objects.select_for_update().get(pk=escalation.pk)
    if not escalation_can_acknowledge(escalation=escalation, member=member):
        raise PermissionDenied(_("This escalation was not sent to you."))
    if escalation.status != EscalationStatus.OPEN:
        return escalation
    escalation.status = EscalationStatus.ACKNOWLEDGED
    escalation.acknowledged_at = now
    escalation.acknowledged_by = member
    escalation.acknowledged_ip = ip
    escalation.next_repeat_at = None
    escalation.save(update_fields=["status", "acknowledged_at", "acknowledged_by", "acknowledged_ip", "next_repeat_at"])
    return escalation


def escalation_acknowledge_all_mine(*, member: Member, now: datetime, ip: str | None = None) -> int:
    """Every open escalation sent to the member, acknowledged in one statement."""
    return Escalation.objects.filter(team_id=member.team_id, recipient=member, status=EscalationStatus.OPEN).update(
        status=EscalationStatus.ACKNOWLEDGED, acknowledged_at=now, acknowledged_by=member, acknowledged_ip=ip, next_repeat_at=None
    )


def _ack_link_read(token: str) -> dict:
    try:
        return signing.loads(token, salt=ACK_SALT, max_age=settings.OPSTEAM_ACK_LINK_MAX_AGE_HOURS * 3600)
    except signing.SignatureExpired:
        raise ValidationError(_("This link has expired. Open OpsTeam to acknowledge.")) from None
    except signing.BadSignature:
        raise ValidationError(_("This link is not valid.")) from None


def _ack_link_notification(data: dict, *, lock: bool) -> Notification:
    rows = Notification.objects.select_related("recipient__user", "team")
    notification = (rows.select_for_update(of=("self",)) if lock else rows).filter(pk=data.get("n")).first()
    if notification is None or notification.recipient_id != data.get("m"):
        raise ValidationError(_("This link is not valid."))
    if notification.ack_used_at is not None:
        raise ValidationError(_("This link was already used."))
    return notification


def escalation_ack_link_check(*, token: str) -> Notification:
    """The message a one-click link acknowledges, if the link is still good; changes nothing.

    Opening the link shows a button: chat apps and mail scanners fetch links to preview them, and a
    preview must not acknowledge on the person's behalf.
    """
    return _ack_link_notification(_ack_link_read(token), lock=False)


def escalation_acknowledge_by_link(*, token: str, now: datetime, ip: str | None = None) -> tuple[Notification, int]:
    """The one-click link in a message: signed, expires, single use. Acknowledges the message's escalations."""
    data = _ack_link_read(token)
    with transaction.atomic():
        # Single use: the first confirmation stamps the notification; a second one is refused.
        notification = _ack_link_notification(data, lock=True)
        notification.ack_used_at = now
        notification.read_at = notification.read_at or now
        notification.save(update_fields=["ack_used_at", "read_at"])
        count = 0
        for escalation in notification.escalations.filter(status=EscalationStatus.OPEN):
            escalation_acknowledge(escalation=escalation, member=notification.recipient, now=now, ip=ip)
            count += 1
    return notification, count


def escalation_reopen(*, now: datetime, item: ChecklistItem | None = None, task: Task | None = None) -> int:
    """Undo (or a reopened duty) takes the chain up where the tick stopped it: nothing late goes unnoticed.

    Each resolved level is open again, or acknowledged if it was, and an unacknowledged level's repeats
    resume one interval from now; levels not raised yet are raised by the next sweep as for any open item.
    """
    rows = Escalation.objects.filter(status=EscalationStatus.RESOLVED)
    rows = rows.filter(item=item) if item is not None else rows.filter(task=task)
    reopened = rows.filter(acknowledged_at__isnull=False).update(status=EscalationStatus.ACKNOWLEDGED, resolved_at=None)
    for escalation in rows.filter(acknowledged_at__isnull=True).select_related("level"):
        level = escalation.level
        repeats_left = escalation.notified_at is not None and escalation.repeats_sent < level.repeat_times
        escalation.status, escalation.resolved_at = EscalationStatus.OPEN, None
        escalation.next_repeat_at = now + timedelta(minutes=level.repeat_every_minutes) if repeats_left else None
        escalation.save(update_fields=["status", "resolved_at", "next_repeat_at"])
        reopened += 1
    return reopened


def escalation_resolve(*, now: datetime, item: ChecklistItem | None = None, task: Task | None = None) -> int:
    """Done (or closed) stops the whole chain: every open or acknowledged level is resolved, no repeat follows."""
    rows = Escalation.objects.filter(status__in=[EscalationStatus.OPEN, EscalationStatus.ACKNOWLEDGED])
    rows = rows.filter(item=item) if item is not None else rows.filter(task=task)
    return rows.update(status=EscalationStatus.RESOLVED, resolved_at=now, next_repeat_at=None)
