"""The app's Celery registry: celery's autodiscovery imports `checklists.tasks`, which imports each room's tasks.

Every task lives in its room's tasks.py (thin: ids and ISO instants, one service call, STYLE §4); a service
that must start one after a commit enqueues it by its registered name (opsteam.lib.queue.task_enqueue).
"""

import checklists.board.tasks
import checklists.daily.tasks
import checklists.duties.tasks
import checklists.escalation.tasks
import checklists.meetings.tasks
import checklists.notify.suites.tasks
import checklists.notify.tasks  # noqa: F401
