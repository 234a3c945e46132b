"""PLAYBOOK v2 (issue 19): T-PLAN-1…5 name 003's five flows, so the plan stages are T-PLAN-1-1…7, not T-PLAN-1…7."""

from __future__ import annotations

import copy
import importlib

from django.apps import apps

from checklists.models import PlanStageTemplate
from checklists.playbook.services import playbook_load
from opsteam.lib.playbook import playbook_read
from tests.factories import TeamFactory

RENAME = importlib.import_module("checklists.migrations.0020_plan_stage_ids_under_their_flow")


def _version_1(data: dict) -> dict:
    """The default playbook as v1 loaded it: the plan stages under the IDs T-PLAN-1…7."""
    old = copy.deepcopy(data)
    plan = next(row for row in old["duties"] if row["kind"] == "plan")
    plan.pop("flow")
    return old


def _ids(team) -> list[str]:
    return list(PlanStageTemplate.objects.filter(team=team).order_by("order").values_list("playbook_id", flat=True))


def test_the_plan_stages_are_the_stages_of_the_first_flow(team):
    assert _ids(team) == [f"T-PLAN-1-{n}" for n in range(1, 8)]


def test_the_migration_renames_a_team_s_stage_ids_and_the_next_load_takes_them_as_unedited(db):
    team = TeamFactory(slug="v1-plan")
    playbook_load(team=team, data=_version_1(playbook_read()))
    assert _ids(team) == [f"T-PLAN-{n}" for n in range(1, 8)]
    PlanStageTemplate.objects.filter(team=team, order=7).update(days=9)  # the team edited stage 7
    RENAME.forwards(apps, None)
    assert _ids(team) == [f"T-PLAN-1-{n}" for n in range(1, 8)]
    report = playbook_load(team=team)
    assert report.kept.get("checklists.PlanStageTemplate") == 1  # only the edited stage
    assert not report.updated.get("checklists.PlanStageTemplate")
    assert PlanStageTemplate.objects.get(team=team, order=7).days == 9


def test_the_migration_goes_back(db):
    team = TeamFactory(slug="v2-plan")
    playbook_load(team=team)
    RENAME.backwards(apps, None)
    assert _ids(team) == [f"T-PLAN-{n}" for n in range(1, 8)]
