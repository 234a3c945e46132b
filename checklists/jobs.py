"""Every scheduled job as a function of `now`: beat's tasks and `run_jobs --at` call the same code."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from checklists.services.generation import run_generate_due
from roles.models import Team


def job_generate_checklists(*, now: datetime) -> list[str]:
    """Today's checklists for every active team whose templates are due by `now`."""
    return [str(run_generate_due(team=team, now=now)) for team in Team.objects.filter(is_active=True)]


# Name -> job, in the order `run_jobs` runs them. Later issues append reminders, escalation, meetings.
JOBS: dict[str, Callable[..., list[str]]] = {
    "generate_checklists": job_generate_checklists,
}
