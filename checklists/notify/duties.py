"""A duty given to a member is told to them (issue 17): in-app and on their channels, through the outbox.

checklists.duties sends duty_assigned when a lead, a campaign, a plan stage or a meeting's action item gives a
member a duty; this receiver (connected in checklists.apps) writes the notification in the same transaction.
"""

from __future__ import annotations

from datetime import datetime

from django.utils.translation import gettext as _

from checklists.models import Task
from checklists.notify.services import notification_create
from opsteam.lib.clock import local_time
from roles.models import Member


def duty_assigned_notify(*, sender, task: Task, recipients: list[Member], now: datetime, **_kwargs) -> None:
    due = local_time(task.due_at).strftime("%m-%d %H:%M")
    for recipient in recipients:
        notification_create(
            team=task.team,
            recipient=recipient,
            kind="duty",
            title=_("New duty: %(title)s") % {"title": task.title},
            body=_("Due %(due)s · %(source)s") % {"due": due, "source": task.get_source_display()},
            url=f"/tasks/{task.pk}/",
            not_before=now,
            now=now,
            event="duty_assigned",
            values={"title": task.title, "due": due, "source": task.source},
        )
