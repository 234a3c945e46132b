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


# Shops per generation task (issue 22): one task per shop cost ~12 ms of dispatch and acknowledgement each, four
# times the rows' own COPY time for shops of 10 members; 50 shops a task measured 1.6x COPY at 10,000 members.
# It also bounds a task's memory: a worker holds one batch of shops at a time, whatever the number of shops.
GENERATION_BATCH = 50


@shared_task(name="checklists.generate_due")
def generate_due() -> int:
    """Beat entry point: the shops with a list still to create, found by one query (issue 22), a task per batch of them.

    A minute with nothing due sends no task at all. Returns how many shops were sent.
    """
    from django.conf import settings

    from checklists.selectors.generation_due import teams_generation_due

    now = timezone.now()
    team_ids = teams_generation_due(now=now)
    batch = getattr(settings, "OPSTEAM_GENERATION_BATCH", GENERATION_BATCH)
    for start in range(0, len(team_ids), batch):
        generate_for_teams.delay(team_ids[start : start + batch], now.isoformat())
    return len(team_ids)


@shared_task(name="checklists.generate_for_teams", bind=True, max_retries=5)
def generate_for_teams(self, team_ids: list[int], now_iso: str) -> str:
    """Each shop of the batch in turn; a shop that fails does not stop the others, and only the failed ones are retried."""
    now = datetime.fromisoformat(now_iso)
    failed: list[int] = []
    error: Exception | None = None
    for team in Team.objects.filter(pk__in=team_ids).order_by("pk"):
        try:
            run_generate_due(team=team, now=now)
        except Exception as exc:  # retried below, with the other failures of the batch
            failed.append(team.pk)
            error = error or exc
    if failed:
        raise self.retry(args=(failed, now_iso), exc=error, countdown=2**self.request.retries)
    return f"{len(team_ids)} shops"


@shared_task(name="checklists.generate_for_team", autoretry_for=(Exception,), retry_backoff=True, max_retries=5)
def generate_for_team(team_id: int, now_iso: str) -> str:
    """One shop (kept for messages an earlier release queued, and for running one shop by hand)."""
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
