"""Access helpers for checklist rows: outside your scope is 404 (STYLE §3)."""

from __future__ import annotations

from django.http import Http404

from checklists.models import Checklist, ChecklistItem
from roles.models import Member


def checklist_access_by_id(*, viewer: Member, checklist_id: int) -> Checklist:
    try:
        return Checklist.objects.visible_to(viewer).select_related("role", "member", "assignee").get(pk=checklist_id)
    except (Checklist.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def item_access_by_id(*, viewer: Member, item_id: int) -> ChecklistItem:
    try:
        return ChecklistItem.objects.select_related("checklist").get(pk=item_id, checklist__in=Checklist.objects.visible_to(viewer))
    except (ChecklistItem.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404 from None
