"""Reads for escalations, through Escalation.visible_to."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from checklists.models import (
    Escalation,
)
from roles.models import Member


def escalation_list(*, viewer: Member, status: str | None = None) -> QuerySet[Escalation]:
    rows = Escalation.objects.visible_to(viewer).select_related(
        "item__checklist__assignee", "task", "recipient", "acknowledged_by", "role", "level"
    )
    if status:
        rows = rows.filter(status=status)
    return rows.order_by("-raised_at", "-id")


def escalation_access_by_id(*, viewer: Member, escalation_id) -> Escalation:
    try:
        return escalation_list(viewer=viewer).get(pk=int(escalation_id))
    except (Escalation.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
