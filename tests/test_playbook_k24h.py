"""PLAYBOOK v2 §5 (issue 19): K-24H is two measures, K-24H-ISSUE and K-24H-SHIP, each its own share on time."""

from __future__ import annotations

import copy

from checklists.playbook.services import playbook_load
from opsteam.lib.playbook import playbook_read
from roles.models import Kpi, KpiKind
from tests.factories import TeamFactory


def _version_1(data: dict) -> dict:
    """The default playbook as v1 had it: one K-24H merging the two measures."""
    old = copy.deepcopy(data)
    old["targets"] = [row for row in old["targets"] if not row["id"].startswith("K-24H-")]
    old["targets"].append({"id": "K-24H", "name": "问题订单 24 小时内处理;订单 24 小时内发货", "kind": "on_time", "source": "001"})
    return old


def test_the_two_24h_measures_are_targets_of_their_own(team):
    rows = {k.playbook_id: k for k in Kpi.objects.filter(team=team, playbook_id__startswith="K-24H")}
    assert set(rows) == {"K-24H-ISSUE", "K-24H-SHIP"}
    assert {k.kind for k in rows.values()} == {KpiKind.ON_TIME}
    assert rows["K-24H-ISSUE"].source == "001 §3.4"
    assert rows["K-24H-SHIP"].source == "001 §9.2"


def test_a_team_loaded_before_gets_the_two_measures_and_the_merged_one_switched_off(db):
    team = TeamFactory(slug="v1-k24h")
    playbook_load(team=team, data=_version_1(playbook_read()))
    assert Kpi.objects.get(team=team, playbook_id="K-24H").is_active
    playbook_load(team=team)
    active = set(Kpi.objects.filter(team=team, is_active=True, playbook_id__startswith="K-24H").values_list("playbook_id", flat=True))
    assert active == {"K-24H-ISSUE", "K-24H-SHIP"}


def test_a_merged_measure_the_team_edited_stays_on_and_the_difference_is_recorded(db):
    from checklists.models import PlaybookDifference

    team = TeamFactory(slug="v1-k24h-edited")
    playbook_load(team=team, data=_version_1(playbook_read()))
    Kpi.objects.filter(team=team, playbook_id="K-24H").update(rule="我们自己的规则")
    playbook_load(team=team)
    assert Kpi.objects.get(team=team, playbook_id="K-24H").is_active
    assert PlaybookDifference.objects.filter(team=team, playbook_id="K-24H", field="is_active").exists()
