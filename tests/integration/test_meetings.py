"""Meetings on PostgreSQL: concurrent schedulers and publishers, and the constraints behind them (issue 6)."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from checklists.meetings.minutes import meeting_publish
from checklists.meetings.services import meetings_create_due
from checklists.models import AgendaItem, Attendance, Meeting, MeetingReminder, Notification, WeeklyReflection
from checklists.playbook.services import playbook_load
from opsteam.lib.clock import local_date
from roles.models import CalendarOverride, Member, Team
from tests.conftest import MONDAY
from tests.factories import TeamFactory, member_with_role
from tests.integration.processes import wait_for
from tests.integration.test_beat_and_worker import BEAT_OPTIONS, WORKER_OPTIONS, _not_about_to_turn_midnight
from tests.integration.test_concurrency import run_at_once

pytestmark = pytest.mark.integration


@pytest.mark.django_db(transaction=True)
def test_concurrent_schedulers_create_each_meeting_once_with_one_agenda(team, director, warehouse_member):
    results = run_at_once(lambda own: meetings_create_due(team=own, now=MONDAY), prepare=lambda _i: Team.objects.get(pk=team.pk))
    assert sum(len(r.created) for r in results) == 2  # the evening and the weekly meeting, whoever won
    assert Meeting.objects.filter(team=team).count() == 2
    weekly = Meeting.objects.get(team=team, series__playbook_id="M-WEEKLY")
    assert AgendaItem.objects.filter(meeting=weekly).count() == len(weekly.series.standing_agenda) + 3
    assert Attendance.objects.filter(meeting=weekly).count() == 1
    assert sum(r.reminded for r in results) == MeetingReminder.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_people_publishing_at_once_publish_once_and_notify_once(team, director, warehouse_lead, service_member):
    meetings_create_due(team=team, now=MONDAY)
    weekly = Meeting.objects.get(team=team, series__playbook_id="M-WEEKLY")

    def publish(member: Member):
        try:
            meeting_publish(meeting=Meeting.objects.get(pk=weekly.pk), member=member, now=MONDAY)
        except ValidationError:
            return "refused"
        return "published"

    people = [director, warehouse_lead] * 4
    results = run_at_once(publish, prepare=lambda i: Member.objects.select_related("user").get(pk=people[i].pk))
    assert sorted(results).count("published") == 1
    assert Notification.objects.filter(kind="meeting_published", recipient=service_member).count() == 1


def test_the_database_keeps_one_reflection_per_member_per_week_and_only_mondays(team, warehouse_member):
    WeeklyReflection.objects.create(team=team, member=warehouse_member, week=MONDAY.date(), updated_at=MONDAY)
    with pytest.raises(IntegrityError), transaction.atomic():
        WeeklyReflection.objects.create(team=team, member=warehouse_member, week=MONDAY.date(), updated_at=MONDAY)
    with pytest.raises(IntegrityError), transaction.atomic():
        WeeklyReflection.objects.create(team=team, member=warehouse_member, week=date(2026, 11, 24), updated_at=MONDAY)
    WeeklyReflection.objects.create(team=team, member=warehouse_member, week=MONDAY.date() + timedelta(weeks=1), updated_at=MONDAY)


def test_the_database_keeps_one_attendance_per_member_and_one_meeting_per_series_and_date(team, director):
    meetings_create_due(team=team, now=MONDAY)
    weekly = Meeting.objects.get(team=team, series__playbook_id="M-WEEKLY")
    with pytest.raises(IntegrityError), transaction.atomic():
        Attendance.objects.create(meeting=weekly, member=director)
    with pytest.raises(IntegrityError), transaction.atomic():
        Meeting.objects.create(team=team, series=weekly.series, title="x", date=weekly.date, starts_at=weekly.starts_at, created_at=MONDAY)


MEETINGS_SUCCEEDED = re.compile(r"Task checklists\.meetings_for_team\[[^\]]+\] succeeded")


@pytest.mark.django_db(transaction=True)
def test_beat_runs_the_meetings_job_and_a_real_worker_creates_todays_meeting_once(start_celery):
    _not_about_to_turn_midnight()
    now = timezone.now()
    team = TeamFactory(slug="meeting-shop")
    playbook_load(team=team)
    CalendarOverride.objects.create(team=team, date=local_date(now), is_workday=True, note="integration test")
    member_with_role(team, "director", lead=True, username="boss-meet", display_name="张总监", is_director=True)
    # Only this job, every 2 seconds instead of 5 minutes.
    PeriodicTask.objects.exclude(name="create-meetings").update(enabled=False)
    periodic = PeriodicTask.objects.get(name="create-meetings")
    assert periodic.task == "checklists.meetings_due"
    periodic.interval, _ = IntervalSchedule.objects.get_or_create(every=2, period=IntervalSchedule.SECONDS)
    periodic.save()

    worker = start_celery("worker", *WORKER_OPTIONS)
    beat = start_celery("beat", *BEAT_OPTIONS)
    wait_for(lambda: len(MEETINGS_SUCCEEDED.findall(worker.output())) >= 3, timeout=60, what="three runs", processes=[worker, beat])

    evening = Meeting.objects.filter(team=team, series__playbook_id="M-EVENING", date=local_date(now))
    assert evening.count() == 1  # every working day (today is made one)
    assert AgendaItem.objects.filter(meeting__in=evening).count() > 1
