"""Give the demo shop 30 past days of checklists, mostly ticked, so the board's completion trend has a history.

Safe to run twice: a day that already has lists is left alone. Refused in production.
"""

import random
from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from checklists.daily.generation import run_generate_for_date
from checklists.models import Checklist, ChecklistItem, ItemStatus
from opsteam.lib.clock import local_date
from roles.models import Team

HISTORY_DAYS = 30
RECENT_DAYS = 3  # within the escalation lookback (48 h by default)


class Command(BaseCommand):
    help = "Add 30 past days of ticked checklists to the demo shop (after load_demo), for the board's trends."

    def handle(self, *args, **options):
        if getattr(settings, "OPSTEAM_PRODUCTION", False):
            raise CommandError("Refusing to load demo data into a production configuration.")
        team = Team.objects.filter(slug="demo").first()
        if team is None:
            raise CommandError("Run load_demo first: there is no demo team.")
        now = timezone.now()
        today = local_date(now)
        rng = random.Random("demo-history")  # noqa: S311 - demo ticks, not security
        days = 0
        for offset in range(HISTORY_DAYS, 0, -1):
            day = today - timedelta(days=offset)
            if Checklist.objects.filter(team=team, date=day).exists():
                continue
            with transaction.atomic():
                if not run_generate_for_date(team=team, day=day, now=now).checklists_created:
                    continue  # a day off
                items = list(
                    ChecklistItem.objects.filter(checklist__team=team, checklist__date=day, is_group=False).select_related("checklist")
                )
                # Most items on time, some late, a few marked not done, the rest missed; better towards today.
                on_time = 0.62 + 0.01 * (HISTORY_DAYS - offset)
                for item in items:
                    roll = rng.random()
                    if roll < on_time:
                        item.status, item.done_at = ItemStatus.DONE, item.due_at - timedelta(minutes=rng.randint(5, 240))
                    elif roll < on_time + 0.12:
                        item.status, item.done_at = ItemStatus.DONE, item.due_at + timedelta(minutes=rng.randint(10, 300))
                    elif roll < on_time + 0.16:
                        item.status, item.done_at, item.note = ItemStatus.NOT_DONE, item.due_at, "缺货,明天补上"
                    elif offset > RECENT_DAYS:
                        continue  # missed
                    else:  # recent days close everything, or the escalation sweep would chase demo items
                        item.status, item.done_at = ItemStatus.DONE, item.due_at + timedelta(minutes=rng.randint(30, 300))
                    item.done_by_id = item.checklist.assignee_id
                ChecklistItem.objects.bulk_update(items, ["status", "done_at", "done_by", "note"], batch_size=500)
                days += 1
        self.stdout.write(self.style.SUCCESS(f"Demo history: {days} past working days of ticked checklists."))
