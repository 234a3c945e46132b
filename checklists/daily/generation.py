"""Generate the day's checklists from templates: set-based, idempotent, safe with several workers."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import Prefetch

from checklists.models import Checklist, ChecklistItem, ChecklistTemplate, TemplateItem
from opsteam.lib.clock import local_date, local_datetime, local_time
from roles.models import Member, MemberRole, Team
from roles.selectors import cover_map_for_date, workday_is


@dataclass
class GenerationResult:
    team: str
    day: date
    workday: bool = True
    checklists_created: int = 0
    items_created: int = 0
    templates: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        if not self.workday:
            return f"{self.team} {self.day}: not a working day, nothing generated"
        return (
            f"{self.team} {self.day}: {self.checklists_created} checklists, {self.items_created} items created "
            f"({', '.join(self.templates) or 'no template due yet'})"
        )


def _templates_due(*, team: Team, day: date, now: datetime, with_items: bool = True) -> list[ChecklistTemplate]:
    today = local_date(now)
    if day > today:
        return []
    templates = ChecklistTemplate.objects.filter(team=team, is_active=True)
    if with_items:
        items = TemplateItem.objects.filter(is_active=True).order_by("order", "id")
        templates = templates.prefetch_related(Prefetch("items", queryset=items))
    return [template for template in templates if template.falls_on(day) and (day < today or template.generate_at <= local_time(now))]


def run_generate_for_date(*, team: Team, day: date, now: datetime) -> GenerationResult:
    """Create each active member's lists for `day` from the templates due by `now`.

    Exactly once per member, template and day however often and however concurrently it runs:
    the unique constraint decides, and items are added only to the lists this run inserted.
    """
    result = GenerationResult(team=team.slug, day=day)
    if not workday_is(team=team, day=day):
        result.workday = False
        return result
    set_based = connection.vendor == "postgresql"
    templates = _templates_due(team=team, day=day, now=now, with_items=not set_based)
    result.templates = [t.playbook_id or t.name for t in templates]
    if not templates:
        return result
    batch = uuid.uuid4()
    if set_based:
        _generate_set_based(team=team, day=day, now=now, batch=batch, templates=templates, result=result)
        return result
    by_role: dict[int, list[ChecklistTemplate]] = {}
    for template in templates:
        by_role.setdefault(template.role_id, []).append(template)
    # One insert order (member, role) for every run, so two concurrent runs cannot deadlock.
    links = (
        MemberRole.objects.filter(member__in=Member.objects.filter(team=team).active(), role_id__in=by_role)
        .values_list("member_id", "role_id", "is_lead")
        .order_by("member_id", "role_id")
    )
    covers = cover_map_for_date(team=team, day=day)
    rows = [
        Checklist(
            team=team,
            template=template,
            role_id=role_id,
            member_id=member_id,
            assignee_id=covers.get(member_id, member_id),
            date=day,
            name=template.name,
            batch=batch,
        )
        for member_id, role_id, is_lead in links
        for template in by_role[role_id]
        if is_lead or not template.lead_only
    ]
    templates_by_id = {t.pk: t for t in templates}
    with transaction.atomic():
        # A concurrent run inserting the same key waits for this one and then does nothing.
        Checklist.objects.bulk_create(rows, ignore_conflicts=True, batch_size=1000)
        created = list(Checklist.objects.filter(batch=batch).values_list("id", "template_id"))
        result.checklists_created = len(created)
        result.items_created = _items_copy(day=day, created=created, templates_by_id=templates_by_id)
    return result


# PostgreSQL: one statement whatever the team's size (issue 8: the morning run of 10,000 members must cost
# little more than COPYing the rows). It reads the active members' roles and today's covers as the ORM path
# does (cover_map_for_date: the latest cover wins), inserts the lists with ON CONFLICT DO NOTHING in the same
# (member, role, template) order as the ORM path, and adds items only to the lists RETURNING names: the ones
# this run inserted. Groups and top items first, then the sub-items under the rows just inserted (a sub-item
# without its own due time takes its group's); an item is a group when it has an active sub-item.
_GENERATE = """
WITH covers AS (
    SELECT DISTINCT ON (absent_id) absent_id, cover_id FROM roles_cover
    WHERE team_id = %(team)s AND start_date <= %(day)s AND end_date >= %(day)s
    ORDER BY absent_id, start_date DESC, id DESC
), new AS (
    INSERT INTO checklists_checklist (team_id, template_id, role_id, member_id, assignee_id, date, name, batch, created_at)
    SELECT %(team)s, t.id, t.role_id, mr.member_id, COALESCE(cv.cover_id, mr.member_id), %(day)s, t.name, %(batch)s, %(now)s
    FROM unnest(%(template_ids)s::bigint[]) WITH ORDINALITY AS due(template_id, n)
    JOIN checklists_checklisttemplate t ON t.id = due.template_id
    JOIN roles_memberrole mr ON mr.role_id = t.role_id AND (mr.is_lead OR NOT t.lead_only)
    JOIN roles_member m ON m.id = mr.member_id AND m.team_id = %(team)s AND m.is_active
    JOIN {users} u ON u.id = m.user_id AND u.is_active
    LEFT JOIN covers cv ON cv.absent_id = mr.member_id
    ORDER BY mr.member_id, mr.role_id, due.n
    ON CONFLICT DO NOTHING
    RETURNING id, template_id
), top AS (
    INSERT INTO checklists_checklistitem (checklist_id, template_item_id, parent_id, is_group, playbook_id, "order", text, kind,
        target, unit, note_required, due_at, status, value, text_value, note, photo, done_at, done_by_id, updated_at)
    SELECT new.id, ti.id, NULL,
        EXISTS (SELECT 1 FROM checklists_templateitem sub WHERE sub.parent_id = ti.id AND sub.is_active),
        ti.playbook_id, ti."order", ti.text, ti.kind, ti.target, ti.unit, ti.note_required,
        (%(day)s::date + COALESCE(ti.due_at, t.due_at)) AT TIME ZONE %(tz)s, 'open', NULL, '', '', '', NULL, NULL, %(now)s
    FROM new
    JOIN checklists_checklisttemplate t ON t.id = new.template_id
    JOIN checklists_templateitem ti ON ti.template_id = t.id AND ti.is_active AND ti.parent_id IS NULL
    ORDER BY new.id, ti."order", ti.id
    RETURNING id, checklist_id, template_item_id, due_at
), sub AS (
    INSERT INTO checklists_checklistitem (checklist_id, template_item_id, parent_id, is_group, playbook_id, "order", text, kind,
        target, unit, note_required, due_at, status, value, text_value, note, photo, done_at, done_by_id, updated_at)
    SELECT top.checklist_id, ch.id, top.id, false, ch.playbook_id, ch."order", ch.text, ch.kind, ch.target, ch.unit, ch.note_required,
        COALESCE((%(day)s::date + ch.due_at) AT TIME ZONE %(tz)s, top.due_at), 'open', NULL, '', '', '', NULL, NULL, %(now)s
    FROM top
    JOIN checklists_templateitem ch ON ch.parent_id = top.template_item_id AND ch.is_active
    ORDER BY top.id, ch."order", ch.id
    RETURNING 1
)
SELECT (SELECT count(*) FROM new), (SELECT count(*) FROM top) + (SELECT count(*) FROM sub)
"""


def _generate_set_based(
    *, team: Team, day: date, now: datetime, batch: uuid.UUID, templates: list[ChecklistTemplate], result: GenerationResult
) -> None:
    params = {
        "team": team.pk,
        "day": day,
        "batch": batch,
        "now": now,
        "tz": settings.TIME_ZONE,
        # In the templates' order (role, due time), so each member's lists go in as in the ORM path.
        "template_ids": [template.pk for template in templates],
    }
    # One statement is atomic by itself; a concurrent run inserting the same key waits for this one, then does nothing.
    with connection.cursor() as cursor:
        cursor.execute(_GENERATE.format(users=get_user_model()._meta.db_table), params)
        result.checklists_created, result.items_created = cursor.fetchone()


def _items_copy(*, day: date, created: list[tuple[int, int]], templates_by_id: dict[int, ChecklistTemplate]) -> int:
    """Copy template items as they are today into the new lists: groups and top items first, then sub-items."""
    top: list[ChecklistItem] = []
    top_source: list[TemplateItem] = []
    for checklist_id, template_id in created:
        template = templates_by_id[template_id]
        all_items = list(template.items.all())
        parents = {item.parent_id for item in all_items if item.parent_id}
        for titem in all_items:
            if titem.parent_id is None:
                top.append(_item_from(titem, checklist_id=checklist_id, day=day, template=template, is_group=titem.pk in parents))
                top_source.append(titem)
    ChecklistItem.objects.bulk_create(top, batch_size=2000)
    children: list[ChecklistItem] = []
    for parent_row, titem in zip(top, top_source, strict=True):
        template = templates_by_id[titem.template_id]
        for child in (i for i in template.items.all() if i.parent_id == titem.pk):
            row = _item_from(child, checklist_id=parent_row.checklist_id, day=day, template=template, is_group=False)
            row.parent_id = parent_row.pk
            if child.due_at is None:
                row.due_at = parent_row.due_at
            children.append(row)
    ChecklistItem.objects.bulk_create(children, batch_size=2000)
    return len(top) + len(children)


def _item_from(titem: TemplateItem, *, checklist_id: int, day: date, template: ChecklistTemplate, is_group: bool) -> ChecklistItem:
    return ChecklistItem(
        checklist_id=checklist_id,
        template_item=titem,
        playbook_id=titem.playbook_id,
        order=titem.order,
        text=titem.text,
        kind=titem.kind,
        target=titem.target,
        unit=titem.unit,
        note_required=titem.note_required,
        due_at=local_datetime(day, titem.due_at or template.due_at),
        is_group=is_group,
    )


def run_generate_due(*, team: Team, now: datetime) -> GenerationResult:
    """What beat runs: today's lists for the templates whose generation time has come."""
    return run_generate_for_date(team=team, day=local_date(now), now=now)
