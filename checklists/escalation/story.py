"""The board's escalations as a story (issue 20): one row per late item or duty, not one per level.

Each row names the current level (负责人 / 组长 / 总监, the highest level raised so far), who was told at each
level and when, and who acknowledged; the oldest first. On a phone the rows are grouped by person.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from checklists.escalation.models import Escalation


@dataclass
class Told:
    level: str  # 负责人 / 组长 / 总监
    recipient: str
    at: datetime
    acknowledged_by: str = ""
    acknowledged_at: datetime | None = None


@dataclass
class Story:
    """A late item or duty and everyone its escalation chain has told so far."""

    item_id: int | None
    task_id: int | None
    subject: str
    person: str
    person_id: int | None
    day: object  # the item's list's date, for the drill-down link
    due_at: datetime
    level: str = ""
    level_order: int = 0
    told: list[Told] = field(default_factory=list)
    current: Escalation | None = None  # the row of the current level (the escalations page acknowledges it)

    @property
    def acknowledged(self) -> list[Told]:
        return [t for t in self.told if t.acknowledged_at]


def escalation_stories(rows: list[Escalation]) -> list[Story]:
    """The escalation rows (one per level) as one story per item or duty, oldest due first. No query: the rows
    come with their item's list and member, duty, recipient and acknowledger (checklists.selectors.board)."""
    stories: dict[tuple, Story] = {}
    for esc in sorted(rows, key=lambda e: (e.level_order, e.raised_at, e.pk)):
        key = (esc.item_id, esc.task_id)
        story = stories.get(key)
        if story is None:
            if esc.item_id:
                member = esc.item.checklist.member
                subject, day = esc.item.text, esc.item.checklist.date
            else:
                member = esc.task.assignee or esc.task.owner
                subject, day = esc.task.title, None
            story = stories[key] = Story(
                item_id=esc.item_id,
                task_id=esc.task_id,
                subject=subject,
                person=member.display_name if member else "–",
                person_id=member.pk if member else None,
                day=day,
                due_at=esc.due_at,
            )
        story.level, story.level_order, story.current = esc.get_notify_display(), esc.level_order, esc
        story.told.append(
            Told(
                level=esc.get_notify_display(),
                recipient=esc.recipient.display_name if esc.recipient else "–",
                at=esc.notified_at or esc.raised_at,
                acknowledged_by=esc.acknowledged_by.display_name if esc.acknowledged_by else "",
                acknowledged_at=esc.acknowledged_at,
            )
        )
    return sorted(stories.values(), key=lambda s: (s.due_at, s.subject))


def stories_by_person(stories: list[Story]) -> list[tuple[str, list[Story]]]:
    """The stories grouped by person (for a phone), the person with the oldest first; each group oldest first."""
    groups: dict[object, tuple[str, list[Story]]] = {}
    for story in stories:
        groups.setdefault(story.person_id, (story.person, []))[1].append(story)
    return list(groups.values())
