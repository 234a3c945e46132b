"""The outbox's Celery task."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from roles.models import Team


@shared_task(name="checklists.deliveries_flush")
def deliveries_flush(team_id: int | None = None) -> str:
    """Send due emails and robot messages. No autoretry: the delivery rows carry their own attempts and back-off."""
    from checklists.notify.flush import deliveries_flush as flush

    team = Team.objects.filter(pk=team_id).first() if team_id else None
    return str(flush(now=timezone.now(), team=team))
