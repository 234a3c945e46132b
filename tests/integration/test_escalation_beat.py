"""Beat sends the escalation sweep through Redis; a real worker raises the levels and writes the messages once."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from checklists.duties.services import task_create
from checklists.models import Delivery, Escalation, Notification
from checklists.playbook.services import playbook_load
from opsteam.lib.clock import local_date
from roles.models import CalendarOverride
from tests.factories import TeamFactory, member_with_role
from tests.integration.processes import wait_for
from tests.integration.test_beat_and_worker import BEAT_OPTIONS, WORKER_OPTIONS, _not_about_to_turn_midnight

pytestmark = pytest.mark.integration

SWEEP_SUCCEEDED = re.compile(r"Task checklists\.escalate_team\[[^\]]+\] succeeded")


@pytest.mark.django_db(transaction=True)
def test_beat_runs_the_sweep_and_a_real_worker_escalates_each_level_once(start_celery):
    _not_about_to_turn_midnight()
    now = timezone.now()
    team = TeamFactory(slug="escalation-shop")
    playbook_load(team=team)
    CalendarOverride.objects.create(team=team, date=local_date(now), is_workday=True, note="integration test")
    owner = member_with_role(team, "service", username="cs-beat", display_name="郑客服")
    lead = member_with_role(team, "service", lead=True, username="cs-lead-beat", display_name="吴客服")
    director = member_with_role(team, "director", lead=True, username="boss-beat", display_name="张总监", is_director=True)
    for person in (owner, lead, director):
        person.user.email = f"{person.user.username}@example.com"
        person.user.save(update_fields=["email"])
    # Overdue by 3 hours: every level of the default chain (owner, lead, director) is due at once.
    task = task_create(team=team, title="退款 3021123456789", due_at=now - timedelta(hours=3), source="problem_order", now=now, owner=owner)
    # Only the sweep: the other entries would race this test's clock for nothing.
    PeriodicTask.objects.exclude(name="escalate").update(enabled=False)
    periodic = PeriodicTask.objects.get(name="escalate")
    assert periodic.task == "checklists.escalate_due"
    periodic.interval, _ = IntervalSchedule.objects.get_or_create(every=2, period=IntervalSchedule.SECONDS)
    periodic.save()

    worker = start_celery("worker", *WORKER_OPTIONS)
    beat = start_celery("beat", *BEAT_OPTIONS)
    wait_for(
        lambda: Escalation.objects.filter(task=task, notified_at__isnull=False).count() == 3,
        timeout=60,
        what="three levels raised and notified by the worker",
        processes=[worker, beat],
    )
    # Several more sweeps: nothing is raised or written twice.
    wait_for(lambda: len(SWEEP_SUCCEEDED.findall(worker.output())) >= 4, timeout=30, what="four sweeps", processes=[worker, beat])

    assert sorted(Escalation.objects.filter(task=task).values_list("level_order", "recipient__user__username")) == [
        (1, "cs-beat"),
        (2, "cs-lead-beat"),
        (3, "boss-beat"),
    ]
    # Counted through the escalations: other jobs (e.g. the monthly-meeting reminder after the 20th) may also write.
    about_task = Notification.objects.filter(escalations__task=task).distinct()
    assert about_task.count() == 3
    assert Delivery.objects.filter(notification__in=about_task, channel="email").count() == 3
