"""Celery tasks: thin, take IDs and ISO instants, call a service (STYLE §4)."""

from __future__ import annotations

from datetime import datetime

from celery import shared_task
from django.utils import timezone

from checklists.services.generation import run_generate_due
from roles.models import Team


@shared_task(name="checklists.generate_due")
def generate_due() -> int:
    """Beat entry point: one task per active team (not one per member). Returns how many were sent."""
    now = timezone.now().isoformat()
    team_ids = list(Team.objects.filter(is_active=True).values_list("id", flat=True))
    for team_id in team_ids:
        generate_for_team.delay(team_id, now)
    return len(team_ids)


@shared_task(name="checklists.generate_for_team", autoretry_for=(Exception,), retry_backoff=True, max_retries=5)
def generate_for_team(team_id: int, now_iso: str) -> str:
    team = Team.objects.get(pk=team_id)
    return str(run_generate_due(team=team, now=datetime.fromisoformat(now_iso)))
