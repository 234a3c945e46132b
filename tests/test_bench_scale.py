"""Issue 22: make bench-scale's and make bench-peak's judgements, on made-up measurements (the runs themselves take minutes)."""

import re
from collections import Counter
from pathlib import Path

import pytest

from bench.peak import check_records, percentile
from bench.scale import chart, size_table, verdicts


def _size(members, *, gen=1.0, copy=0.5, nothing=0.01, rss=110.0, steady=(0.05, 0.02), catchup=(0.5, 0.2), board=(0.1, 0.08), q=5):
    return {
        "members": members,
        "generation": {
            "shops": members // 10,
            "items": members * 20,
            "ours": gen,
            "reference": copy,
            "nothing": nothing,
            "rows_ok": True,
            "tasks_ok": True,
            "shop_tasks_sent": [members // 10, 0],
            "worker_rss_mb": rss,
        },
        "big": {"open": members * 100},
        "sweep": {
            "steady": {"ours": steady[0], "reference": steady[1], "late": 100, "raised_ok": True},
            "catchup": {"ours": catchup[0], "reference": catchup[1], "late": 1000, "raised_ok": True},
        },
        "board": {"ours": board[0], "reference": board[1], "queries": q},
    }


def _passed(rows, pattern):
    return [row["passed"] for row in rows if re.search(pattern, row["target"])]


def test_every_target_passes_when_the_curve_is_flat_and_each_ratio_within_its_limit():
    sizes = [_size(1000, gen=1.0), _size(10_000, gen=10.0, copy=5.0), _size(100_000, gen=100.0, copy=50.0, nothing=0.5)]
    rows = verdicts(sizes)
    assert all(row["passed"] for row in rows), rows
    assert len(_passed(rows, "^nothing to do")) == 3  # one row per size
    assert _passed(rows, "peak RSS") == [True]


def test_a_cost_per_member_that_grows_fails_the_flat_target_and_a_slow_idle_run_fails_its_own():
    sizes = [_size(1000, gen=1.0), _size(10_000, gen=10.0), _size(100_000, gen=200.0, copy=100.0, nothing=30.0)]
    rows = verdicts(sizes)
    assert _passed(rows, "per member flat") == [False]
    assert _passed(rows, "^nothing to do at 100,000") == [False]
    assert _passed(rows, "^nothing to do at 1,000 ") == [True]


def test_generation_over_three_times_copy_a_board_whose_queries_grow_and_a_growing_worker_fail():
    sizes = [_size(1000), _size(10_000, rss=110), _size(100_000, gen=4.0, copy=1.0, board=(0.2, 0.1), q=6, rss=400)]
    rows = verdicts(sizes)
    assert _passed(rows, "^generation at 100,000") == [False]
    assert _passed(rows, "^board") == [False]
    assert _passed(rows, "peak RSS") == [False]


def test_the_table_and_the_chart_are_drawn(tmp_path: Path):
    sizes = [_size(1000), _size(10_000, gen=10.0), _size(100_000, gen=100.0)]
    assert "100,000" in size_table(sizes)
    chart(sizes, path=tmp_path / "scale.png")
    assert (tmp_path / "scale.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_percentiles_are_nearest_rank():
    values = list(range(1, 101))
    assert (percentile(values, 0.5), percentile(values, 0.95), percentile(values, 0.99)) == (50, 95, 99)
    assert percentile([], 0.99) == 0.0
    assert percentile([7.0], 0.5) == 7.0


@pytest.mark.django_db
def test_the_peak_finds_a_tick_answered_but_not_recorded_and_one_recorded_twice(generate, warehouse_member):
    from django.utils import timezone

    from checklists.models import ChecklistItem, TickEvent

    generate()
    since = timezone.now()
    first, second = ChecklistItem.objects.filter(checklist__member=warehouse_member, is_group=False)[:2]
    TickEvent.objects.create(item=first, actor=warehouse_member, action="tick", at=timezone.now())
    done = {"tick": Counter({first.pk: 1}), "untick": Counter()}
    assert check_records(done, since)["passed"]
    done["tick"][second.pk] += 1  # answered 200, never recorded
    assert not check_records(done, since)["passed"]
    done["tick"][second.pk] -= 1
    TickEvent.objects.create(item=first, actor=warehouse_member, action="tick", at=timezone.now())  # recorded twice
    result = check_records(done, since)
    assert not result["passed"]
    assert result["tick"]["items_differing"] == 1
