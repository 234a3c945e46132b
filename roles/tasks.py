"""Celery helpers shared by the apps' task modules."""

from __future__ import annotations

from django.utils import timezone

from roles.models import Team


def per_team(task) -> int:
    """Fan out: one task per active team with the same instant (not one per member). Returns how many were sent."""
    now = timezone.now().isoformat()
    team_ids = list(Team.objects.filter(is_active=True).values_list("id", flat=True))
    for team_id in team_ids:
        task.delay(team_id, now)
    return len(team_ids)
