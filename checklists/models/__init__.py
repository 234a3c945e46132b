"""Checklist templates, the daily checklists made from them, and the record of every tick."""

from checklists.models.runs import Checklist, ChecklistItem, ItemStatus, TickAction, TickEvent
from checklists.models.templates import ChecklistTemplate, ItemKind, ScheduleKind, TemplateItem

__all__ = [
    "Checklist",
    "ChecklistItem",
    "ChecklistTemplate",
    "ItemKind",
    "ItemStatus",
    "ScheduleKind",
    "TemplateItem",
    "TickAction",
    "TickEvent",
]
