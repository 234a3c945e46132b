"""The meetings' Celery tasks: today's meetings, one task per active team (issue 6)."""

from __future__ import annotations

from datetime import datetime

from celery import shared_task

from roles.models import Team
from roles.tasks import per_team


@shared_task(name="checklists.meetings_due")
def meetings_due() -> int:
    """Beat entry point, every few minutes: today's meetings, one task per active team (issue 6)."""
    return per_team(meetings_for_team)


@shared_task(name="checklists.meetings_for_team", autoretry_for=(Exception,), retry_backoff=True, max_retries=3)
def meetings_for_team(team_id: int, now_iso: str) -> str:
    # Safe to repeat: the one-meeting-per-series-per-date constraint guards the INSERT.
    from checklists.meetings.services import meetings_create_due

    return str(meetings_create_due(team=Team.objects.get(pk=team_id), now=datetime.fromisoformat(now_iso)))
