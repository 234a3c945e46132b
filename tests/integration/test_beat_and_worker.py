"""Beat reads the schedule from PostgreSQL, sends through Redis, and a real worker generates the day's lists."""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta
from datetime import time as clock_time

import pytest
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from checklists.models import Checklist, ChecklistTemplate, TemplateItem
from checklists.playbook.services import playbook_load
from opsteam.lib.clock import business_tz, local_date
from roles.models import CalendarOverride
from tests.factories import TeamFactory, member_with_role
from tests.integration.processes import wait_for

pytestmark = pytest.mark.integration

# As in the Procfile, plus: start fast (no mingle/gossip) and look at the schedule every second.
WORKER_OPTIONS = ("--pool=solo", "--loglevel=INFO", "--without-mingle", "--without-gossip", "--hostname=opsteam-it@%h")
BEAT_OPTIONS = ("--scheduler=django_celery_beat.schedulers:DatabaseScheduler", "--loglevel=INFO", "--max-interval=1", "--pidfile=")
# Beat's entry task: it runs every time, and sends shop tasks only while a list is still to create (issue 22).
GENERATION_SUCCEEDED = re.compile(r"Task checklists\.generate_due\[[^\]]+\] succeeded")


def _not_about_to_turn_midnight(margin: int = 90) -> None:
    """The worker reads the clock itself: keep the business date from changing under the test (bounded wait)."""
    now = datetime.now(business_tz())
    midnight = datetime.combine(now.date() + timedelta(days=1), clock_time(0), tzinfo=business_tz())
    left = (midnight - now).total_seconds()
    if left < margin:
        time.sleep(left + 1)


@pytest.mark.django_db(transaction=True)
def test_beat_schedules_generation_and_a_real_worker_runs_it(start_celery):
    _not_about_to_turn_midnight()
    today = local_date(timezone.now())
    team = TeamFactory(slug="beat-shop")
    playbook_load(team=team)
    member = member_with_role(team, "warehouse", username="wh-beat")
    CalendarOverride.objects.create(team=team, date=today, is_workday=True, note="integration test")
    ChecklistTemplate.objects.filter(team=team).update(generate_at=clock_time(0, 0))
    expected_items = TemplateItem.objects.filter(template__team=team, template__playbook_id="SC-WH", is_active=True).count()
    assert expected_items == 9  # SC-WH: three items, one of them a group of six (SC-WH-4 is 运营's in PLAYBOOK v2)

    # Installed by the post_migrate hook (checklists.schedule); beat reads it from the database.
    periodic = PeriodicTask.objects.get(name="generate-checklists")
    assert periodic.task == "checklists.generate_due"
    assert periodic.enabled
    periodic.interval, _ = IntervalSchedule.objects.get_or_create(every=2, period=IntervalSchedule.SECONDS)
    periodic.save()

    worker = start_celery("worker", *WORKER_OPTIONS)
    beat = start_celery("beat", *BEAT_OPTIONS)

    checklist = wait_for(
        lambda: Checklist.objects.filter(member=member).first(), timeout=60, what="checklist made by the worker", processes=[worker, beat]
    )
    # Let beat fire twice more: later runs of the same day must find the list and add nothing.
    wait_for(
        lambda: len(GENERATION_SUCCEEDED.findall(worker.output())) >= 3,
        timeout=30,
        what="three generation runs in the worker log",
        processes=[worker, beat],
    )

    assert Checklist.objects.filter(member=member).count() == 1
    assert checklist.date == today
    assert checklist.template.playbook_id == "SC-WH"
    assert checklist.assignee == member
    assert checklist.items.count() == expected_items
    assert checklist.items.filter(is_group=True).count() == 1
    assert "checklists.generate_due" in beat.output()
