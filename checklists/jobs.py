"""Every scheduled job as a function of `now`: beat's tasks and `run_jobs --at` call the same code."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from checklists.daily.generation import run_generate_due
from checklists.duties.services import duties_generate_for_date
from checklists.escalation.raising import escalation_sweep
from opsteam.lib.clock import local_date
from roles.models import Team


def job_generate_checklists(*, now: datetime) -> list[str]:
    """Today's checklists for every active team with a list still to create by `now` (one query finds them, as beat's task does)."""
    from checklists.daily.generation_due import teams_generation_due

    return [str(run_generate_due(team=team, now=now)) for team in Team.objects.filter(pk__in=teams_generation_due(now=now)).order_by("pk")]


def job_flush_deliveries(*, now: datetime) -> list[str]:
    """Emails and robot messages that are due, including any whose nudge was lost while the broker was down."""
    from checklists.notify.flush import deliveries_flush

    return [str(deliveries_flush(now=now))]


def job_generate_duties(*, now: datetime) -> list[str]:
    """Today's recurring duties (PLAYBOOK §3) for every active team, once their generation time has come."""
    return [str(duties_generate_for_date(team=team, day=local_date(now), now=now)) for team in Team.objects.filter(is_active=True)]


def job_escalate(*, now: datetime) -> list[str]:
    """The escalation sweep: raise each level that has come, notify, repeat (issue 4)."""
    return [str(escalation_sweep(team=team, now=now)) for team in Team.objects.filter(is_active=True)]


def job_create_meetings(*, now: datetime) -> list[str]:
    """Today's meetings with their agendas (PLAYBOOK §4), the refresh before they start, the monthly reminder (issue 6)."""
    from checklists.meetings.services import meetings_create_due

    return [str(meetings_create_due(team=team, now=now)) for team in Team.objects.filter(is_active=True)]


# Name -> job, in the order `run_jobs` runs them. Later issues append reminders, escalation, meetings.
JOBS: dict[str, Callable[..., list[str]]] = {
    "generate_checklists": job_generate_checklists,
    "generate_duties": job_generate_duties,
    "escalate": job_escalate,
    "create_meetings": job_create_meetings,
    "flush_deliveries": job_flush_deliveries,
}
