"""What the today page reads: the day's lists, the duties and the bell's count (issue 8)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from checklists.models import Task
from checklists.selectors import notifications as notification_selectors
from checklists.selectors import tasks as task_selectors
from checklists.selectors import today as today_selectors
from roles.models import Member


@dataclass
class TodayPage:
    today: today_selectors.Today
    duties: list[Task]
    unread: int  # the viewer's unread notifications, for the top bar's bell


def today_page_read(*, viewer: Member, member: Member, now: datetime) -> TodayPage:
    """The member's day and duties as the viewer may see them, and the viewer's bell."""
    return TodayPage(
        today=today_selectors.today_for_member(member=member, now=now, viewer=viewer),
        duties=task_selectors.task_list_for_today(viewer=viewer, member=member, now=now),
        unread=notification_selectors.notification_unread_count(member=viewer),
    )
