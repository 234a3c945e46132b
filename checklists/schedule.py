"""The whole beat schedule in one place. Installed into django-celery-beat's tables, then editable in the admin."""

from __future__ import annotations

from django.db import transaction


def beat_schedule() -> dict[str, dict]:
    """name -> {task, every (seconds), expires (seconds)}. Fast entries expire so a backlog never piles up."""
    return {
        "generate-checklists": {"task": "checklists.generate_due", "every": 60, "expires": 55},
        "generate-duties": {"task": "checklists.duties_due", "every": 60, "expires": 55},
        "escalate": {"task": "checklists.escalate_due", "every": 60, "expires": 55},
        # Meetings: created on their day, refreshed 30 minutes before they start; every 5 minutes is soon enough.
        "create-meetings": {"task": "checklists.meetings_due", "every": 300, "expires": 290},
        # The outbox's safety net: what an on-commit nudge could not enqueue (broker down) goes out within a minute.
        "flush-deliveries": {"task": "checklists.deliveries_flush", "every": 60, "expires": 55},
        # The 17:00 digest (issue 20, OPSTEAM_DIGEST_AT): each minute finds the teams due and not yet sent.
        "board-digest": {"task": "checklists.digests_due", "every": 60, "expires": 55},
    }


def schedule_install() -> int:
    """Create missing periodic tasks; leaves existing ones (and an admin's edits) alone. Returns how many were created."""
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    created = 0
    with transaction.atomic():
        for name, entry in beat_schedule().items():
            interval, _ = IntervalSchedule.objects.get_or_create(every=entry["every"], period=IntervalSchedule.SECONDS)
            _, was_created = PeriodicTask.objects.get_or_create(
                name=name, defaults={"task": entry["task"], "interval": interval, "expire_seconds": entry.get("expires")}
            )
            created += was_created
    return created


def schedule_install_after_migrate(sender, using="default", **kwargs) -> None:
    """post_migrate hook: after migrations the (default) database has the schedule."""
    schedule_install()
