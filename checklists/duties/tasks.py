"""The recurring duties' Celery tasks."""

from __future__ import annotations

from datetime import datetime

from celery import shared_task

from checklists.duties.services import duties_generate_for_date
from opsteam.lib.clock import local_date
from roles.models import Team
from roles.tasks import per_team


@shared_task(name="checklists.duties_due")
def duties_due() -> int:
    """Beat entry point: today's recurring duties, one task per active team."""
    return per_team(duties_for_team)


@shared_task(name="checklists.duties_for_team", autoretry_for=(Exception,), retry_backoff=True, max_retries=5)
def duties_for_team(team_id: int, now_iso: str) -> str:
    now = datetime.fromisoformat(now_iso)
    return str(duties_generate_for_date(team=Team.objects.get(pk=team_id), day=local_date(now), now=now))
