"""The daily lists' Celery tasks: beat's generation entry point and the per-shop batches (STYLE §4: thin, ids and instants)."""

from __future__ import annotations

from datetime import datetime

from celery import shared_task
from django.utils import timezone

from checklists.daily.generation import run_generate_due
from roles.models import Team

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

    from checklists.daily.generation_due import teams_generation_due

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
