"""The escalation sweep's Celery tasks: one sweep per active team every minute."""

from __future__ import annotations

from datetime import datetime

from celery import shared_task

from checklists.escalation.raising import escalation_sweep
from roles.models import Team
from roles.tasks import per_team


@shared_task(name="checklists.escalate_due")
def escalate_due() -> int:
    """Beat entry point, every minute: one sweep task per active team."""
    return per_team(escalate_team)


@shared_task(name="checklists.escalate_team", autoretry_for=(Exception,), retry_backoff=True, max_retries=3)
def escalate_team(team_id: int, now_iso: str) -> str:
    # The sweep is safe to repeat: a retried or duplicated task raises and notifies nothing twice.
    return str(escalation_sweep(team=Team.objects.get(pk=team_id), now=datetime.fromisoformat(now_iso)))
