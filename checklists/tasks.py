"""Celery tasks: thin, take IDs and ISO instants, call a service (STYLE §4)."""

from __future__ import annotations

from datetime import datetime

from celery import shared_task
from django.utils import timezone

from checklists.services.escalation import escalation_sweep
from checklists.services.generation import run_generate_due
from checklists.services.tasks import duties_generate_for_date
from opsteam.lib.clock import local_date
from roles.models import Team


def _per_team(task) -> int:
    """Fan out: one task per active team with the same instant (not one per member). Returns how many were sent."""
    now = timezone.now().isoformat()
    team_ids = list(Team.objects.filter(is_active=True).values_list("id", flat=True))
    for team_id in team_ids:
        task.delay(team_id, now)
    return len(team_ids)


@shared_task(name="checklists.generate_due")
def generate_due() -> int:
    """Beat entry point: one task per shop with a list still to create, found by one query (issue 22). Returns how many were sent.

    A minute with nothing due sends no task at all.
    """
    from checklists.selectors.generation_due import teams_generation_due

    now = timezone.now()
    team_ids = teams_generation_due(now=now)
    for team_id in team_ids:
        generate_for_team.delay(team_id, now.isoformat())
    return len(team_ids)


@shared_task(name="checklists.generate_for_team", autoretry_for=(Exception,), retry_backoff=True, max_retries=5)
def generate_for_team(team_id: int, now_iso: str) -> str:
    team = Team.objects.get(pk=team_id)
    return str(run_generate_due(team=team, now=datetime.fromisoformat(now_iso)))


@shared_task(name="checklists.deliveries_flush")
def deliveries_flush(team_id: int | None = None) -> str:
    """Send due emails and robot messages. No autoretry: the delivery rows carry their own attempts and back-off."""
    from checklists.services.notifications import deliveries_flush as flush

    team = Team.objects.filter(pk=team_id).first() if team_id else None
    return str(flush(now=timezone.now(), team=team))


@shared_task(name="checklists.duties_due")
def duties_due() -> int:
    """Beat entry point: today's recurring duties, one task per active team."""
    return _per_team(duties_for_team)


@shared_task(name="checklists.duties_for_team", autoretry_for=(Exception,), retry_backoff=True, max_retries=5)
def duties_for_team(team_id: int, now_iso: str) -> str:
    now = datetime.fromisoformat(now_iso)
    return str(duties_generate_for_date(team=Team.objects.get(pk=team_id), day=local_date(now), now=now))


@shared_task(name="checklists.escalate_due")
def escalate_due() -> int:
    """Beat entry point, every minute: one sweep task per active team."""
    return _per_team(escalate_team)


@shared_task(name="checklists.escalate_team", autoretry_for=(Exception,), retry_backoff=True, max_retries=3)
def escalate_team(team_id: int, now_iso: str) -> str:
    # The sweep is safe to repeat: a retried or duplicated task raises and notifies nothing twice.
    return str(escalation_sweep(team=Team.objects.get(pk=team_id), now=datetime.fromisoformat(now_iso)))


@shared_task(name="checklists.meetings_due")
def meetings_due() -> int:
    """Beat entry point, every few minutes: today's meetings, one task per active team (issue 6)."""
    return _per_team(meetings_for_team)


@shared_task(name="checklists.meetings_for_team", autoretry_for=(Exception,), retry_backoff=True, max_retries=3)
def meetings_for_team(team_id: int, now_iso: str) -> str:
    # Safe to repeat: the one-meeting-per-series-per-date constraint guards the INSERT.
    from checklists.services.meetings import meetings_create_due

    return str(meetings_create_due(team=Team.objects.get(pk=team_id), now=datetime.fromisoformat(now_iso)))


# The suite apps' tasks (issue 21) live in their room; importing them here registers them with the worker.
from checklists.notify.suites.tasks import suite_card_update_task  # noqa: E402, F401
