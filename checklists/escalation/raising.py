"""Raising: each minute's sweep raises every level of a policy whose time has come, once per late item or duty."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Q

from checklists.escalation.notifying import _notify_pending, _repeat_due
from checklists.escalation.policies import SweepResult, policy_default_ensure
from checklists.models import (
    ChecklistItem,
    Escalation,
    EscalationLevel,
    EscalationPolicy,
    EscalationStatus,
    ItemStatus,
    Task,
    TaskSource,
    TaskStatus,
)
from opsteam.lib.clock import local_date
from roles.models import Team
from roles.selectors import workdays_in


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


def _raise_levels(*, team: Team, now: datetime, workdays: dict[date, bool], result: SweepResult) -> None:
    """Raise every level whose time has come, not notified yet (_notify_pending writes their messages)."""
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
                plans.append((levels, items, tasks))
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
        for levels, items, tasks in plans:
            for candidates, subject in ((items, "item"), (tasks, "task")):
                inserted = _escalations_insert(candidates, team=team, levels=levels, now=now, batch=batch, subject=subject)
                for order, count in inserted.items():
                    result.by_level[order] = result.by_level.get(order, 0) + count
                    result.raised += count
        return
    # ignore_conflicts does not say which rows went in: the batch does (all still unnotified: this sweep holds
    # the team, and the predicate lets the partial index of unnotified rows find them).
    inserted = Escalation.objects.filter(batch=batch, notified_at__isnull=True).values("level_order").annotate(count=Count("id")).order_by()
    for row in inserted:
        result.by_level[row["level_order"]] = row["count"]
        result.raised += row["count"]


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
        _raise_levels(team=team, now=now, workdays=workdays, result=result)
        _notify_pending(team=team, now=now, result=result)
        _repeat_due(team=team, now=now, result=result)
    return result
