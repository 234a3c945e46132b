"""Generate the day's checklists from templates: set-based, idempotent, safe with several workers."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime

from django.db import transaction
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


def _templates_due(*, team: Team, day: date, now: datetime) -> list[ChecklistTemplate]:
    today = local_date(now)
    if day > today:
        return []
    items = TemplateItem.objects.filter(is_active=True).order_by("order", "id")
    templates = ChecklistTemplate.objects.filter(team=team, is_active=True).prefetch_related(Prefetch("items", queryset=items))
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
    templates = _templates_due(team=team, day=day, now=now)
    result.templates = [t.playbook_id or t.name for t in templates]
    if not templates:
        return result
    by_role: dict[int, list[ChecklistTemplate]] = {}
    for template in templates:
        by_role.setdefault(template.role_id, []).append(template)
    # One insert order (member, role) for every run, so two concurrent runs cannot deadlock.
    links = (
        MemberRole.objects.filter(member__in=Member.objects.filter(team=team).active(), role_id__in=by_role)
        .values_list("member_id", "role_id")
        .order_by("member_id", "role_id")
    )
    covers = cover_map_for_date(team=team, day=day)

    batch = uuid.uuid4()
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
        for member_id, role_id in links
        for template in by_role[role_id]
    ]
    templates_by_id = {t.pk: t for t in templates}
    with transaction.atomic():
        # A concurrent run inserting the same key waits for this one and then does nothing.
        Checklist.objects.bulk_create(rows, ignore_conflicts=True, batch_size=1000)
        created = list(Checklist.objects.filter(batch=batch).values_list("id", "template_id"))
        result.checklists_created = len(created)
        result.items_created = _items_copy(day=day, created=created, templates_by_id=templates_by_id)
    return result


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
