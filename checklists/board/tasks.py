"""The board's Celery tasks (issue 20): the 17:00 digest. Thin: ids and ISO instants, one service call."""

from __future__ import annotations

from datetime import datetime

from celery import shared_task
from django.utils import timezone

from roles.models import Team


@shared_task(name="checklists.digests_due")
def digests_due() -> int:
    """Beat entry point, every minute: one task per team whose digest is due and not yet sent (none before the time)."""
    from checklists.board.digest import teams_digest_due

    now = timezone.now()
    team_ids = teams_digest_due(now=now)
    for team_id in team_ids:
        digest_for_team.delay(team_id, now.isoformat())
    return len(team_ids)


@shared_task(name="checklists.digest_for_team", autoretry_for=(Exception,), retry_backoff=True, max_retries=3)
def digest_for_team(team_id: int, now_iso: str) -> int:
    # Safe to repeat: the digest's once-per-team-and-day row is written before anything is sent.
    from checklists.board.digest import digest_send

    return digest_send(team=Team.objects.get(pk=team_id), now=datetime.fromisoformat(now_iso))
