"""PLAYBOOK v2: T-PLAN-1…5 name 003's five flows, so the plan stages v1 called T-PLAN-1…7 become T-PLAN-1-1…7 (the
stages of the first flow). An unedited stage gets the checksum the loader would write, so it still counts as unedited."""

import hashlib
import json
import re

from django.db import migrations

STAGE_ID = re.compile(r"^T-PLAN-(\d+)$")


def _checksum(values):
    # opsteam.lib.playbook._checksum as it is today, frozen here (a migration must not follow later changes).
    plain = {k: v if isinstance(v, (int, float, bool, type(None), list, dict)) else str(v) for k, v in values.items()}
    data = json.dumps(dict(sorted(plain.items())), ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(data.encode()).hexdigest()


def _values(stage, playbook_id):
    return {"playbook_id": playbook_id, "name": stage.name, "who": stage.who, "days": stage.days}


def _rename(apps, pattern, new_id):
    PlanStageTemplate = apps.get_model("checklists", "PlanStageTemplate")
    for stage in PlanStageTemplate.objects.all():
        match = pattern.match(stage.playbook_id)
        if not match:
            continue
        renamed = new_id(match)
        fields = {"playbook_id": renamed}
        if stage.playbook_checksum == _checksum(_values(stage, stage.playbook_id)):
            fields["playbook_checksum"] = _checksum(_values(stage, renamed))
        PlanStageTemplate.objects.filter(pk=stage.pk).update(**fields)


def forwards(apps, schema_editor):
    _rename(apps, STAGE_ID, lambda m: f"T-PLAN-1-{m.group(1)}")


def backwards(apps, schema_editor):
    _rename(apps, re.compile(r"^T-PLAN-1-(\d+)$"), lambda m: f"T-PLAN-{m.group(1)}")


class Migration(migrations.Migration):
    dependencies = [("checklists", "0019_campaign_signup_date_and_step_anchors")]

    operations = [migrations.RunPython(forwards, backwards)]
