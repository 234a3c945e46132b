"""What only a real database shows: concurrent generation and ticks, and the constraints behind them."""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from typing import TypeVar

import pytest
from django.db import IntegrityError, connection, transaction

from checklists.daily.generation import run_generate_for_date
from checklists.daily.ticks import tick_record
from checklists.models import Checklist, ChecklistItem, ItemStatus, TemplateItem, TickAction, TickEvent
from roles.models import Member, Team
from tests.conftest import MONDAY
from tests.factories import member_with_role

pytestmark = pytest.mark.integration

T = TypeVar("T")
THREADS = 8
JOIN_TIMEOUT = 60.0


def run_at_once(work: Callable[[object], T], *, prepare: Callable[[int], object] = lambda index: index, threads: int = THREADS) -> list[T]:
    """Run work(prepare(i)) in `threads` threads, released together once each has prepared (and connected).

    Each thread uses and then closes its own connection. Returns the results in thread order and
    re-raises the first exception a thread raised. Every wait is bounded.
    """
    barrier = threading.Barrier(threads, timeout=JOIN_TIMEOUT)
    results: list = [None] * threads
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            prepared = prepare(index)
            connection.ensure_connection()
            barrier.wait()
            results[index] = work(prepared)
        except BaseException as exc:
            errors.append(exc)
            barrier.abort()
        finally:
            connection.close()

    workers = [threading.Thread(target=run, args=(i,), name=f"concurrent-{i}") for i in range(threads)]
    for worker in workers:
        worker.start()
    deadline = time.monotonic() + JOIN_TIMEOUT
    for worker in workers:
        worker.join(timeout=max(0.0, deadline - time.monotonic()))
    assert not [worker.name for worker in workers if worker.is_alive()], "threads still running: a lock wait never ended"
    if errors:
        raise errors[0]
    return results


def test_these_tests_run_on_postgresql_in_a_database_of_their_own(db):
    assert connection.vendor == "postgresql"
    assert connection.settings_dict["NAME"].startswith("test_")


@pytest.mark.django_db(transaction=True)
def test_concurrent_generation_creates_exactly_one_list_per_member(team):
    members = [member_with_role(team, "warehouse", username=f"wh{i}") for i in range(3)]
    members += [member_with_role(team, "service", username=f"cs{i}") for i in range(2)]
    day = MONDAY.date()

    def generate(own_team: Team):
        return run_generate_for_date(team=own_team, day=day, now=MONDAY)

    results = run_at_once(generate, prepare=lambda _index: Team.objects.get(pk=team.pk))

    checklists = list(Checklist.objects.filter(team=team, date=day))
    assert len(checklists) == len(members)  # one daily template per role
    assert Counter((c.member_id, c.template_id, c.date) for c in checklists).most_common(1)[0][1] == 1
    # Each list was created by exactly one of the runs, and that run filled it.
    assert sum(r.checklists_created for r in results) == len(members)
    assert sum(r.items_created for r in results) == ChecklistItem.objects.filter(checklist__team=team).count()
    for checklist in checklists:
        copied = list(checklist.items.values_list("template_item_id", flat=True))
        assert len(copied) == len(set(copied)), f"{checklist}: an item was copied twice"
        assert len(copied) == TemplateItem.objects.filter(template=checklist.template, is_active=True).count()
        # Sub-items hang under the group of their own list, never under another run's copy.
        assert not checklist.items.filter(parent__isnull=False).exclude(parent__checklist=checklist).exists()


@pytest.mark.django_db(transaction=True)
def test_two_clients_ticking_the_same_item_at_once_record_one_tick(team, warehouse_member):
    run_generate_for_date(team=team, day=MONDAY.date(), now=MONDAY)
    item = ChecklistItem.objects.get(checklist__member=warehouse_member, playbook_id="SC-WH-2")

    def load(index: int):  # each client has its own copies, as two phones would
        return index, Member.objects.get(pk=warehouse_member.pk), ChecklistItem.objects.get(pk=item.pk)

    def tick(loaded) -> bool:
        index, actor, own_item = loaded
        _item, changed = tick_record(item=own_item, actor=actor, now=MONDAY.replace(hour=9, second=index), ip="10.0.0.1")
        return changed

    changed = run_at_once(tick, prepare=load)

    assert changed.count(True) == 1
    events = list(TickEvent.objects.filter(item=item))
    assert [event.action for event in events] == [TickAction.TICK]
    assert events[0].actor_id == warehouse_member.pk
    item.refresh_from_db()
    assert item.status == ItemStatus.DONE
    assert item.done_by_id == warehouse_member.pk
    assert item.done_at == events[0].at


def test_the_database_refuses_a_second_list_for_the_same_member_template_and_day(team, warehouse_member):
    run_generate_for_date(team=team, day=MONDAY.date(), now=MONDAY)
    first = Checklist.objects.get(member=warehouse_member)

    with pytest.raises(IntegrityError) as refused, transaction.atomic():
        Checklist.objects.create(
            team=team,
            template=first.template,
            role=first.role,
            member=warehouse_member,
            assignee=warehouse_member,
            date=first.date,
            name="duplicate",
            batch=uuid.uuid4(),
        )

    assert refused.value.__cause__.diag.constraint_name == "checklists_checklist_one_per_member_template_day"
    assert Checklist.objects.filter(member=warehouse_member).count() == 1


def test_the_database_refuses_a_closed_item_without_a_time(team, warehouse_member):
    run_generate_for_date(team=team, day=MONDAY.date(), now=MONDAY)
    item = ChecklistItem.objects.get(checklist__member=warehouse_member, playbook_id="SC-WH-2")

    with pytest.raises(IntegrityError) as refused, transaction.atomic():
        ChecklistItem.objects.filter(pk=item.pk).update(status=ItemStatus.DONE)

    assert refused.value.__cause__.diag.constraint_name == "checklists_item_closed_has_time"
