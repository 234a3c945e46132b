"""Load the default playbook into a team: the rows whose models exist, never over an owner's edit."""

from __future__ import annotations

from datetime import time

from django.db import transaction

from checklists.models import (
    CampaignAnchor,
    CampaignStep,
    CampaignTemplate,
    ChecklistTemplate,
    DutyTemplate,
    ItemKind,
    PlanStageTemplate,
    ScheduleKind,
    TemplateItem,
)
from checklists.playbook.differences import playbook_differences_record
from opsteam.lib.playbook import SyncReport, playbook_read, playbook_row_sync, playbook_rows_retire, row_is_edited
from roles.models import Kpi, Responsibility, Role, Team
from roles.services import role_sync_from_playbook
from roles.services.kpi import kpi_sync_from_playbook, metric_sync_from_playbook
from roles.services.responsibilities import responsibility_sync_from_playbook

SCHEDULES = {
    "daily": ScheduleKind.WORKDAYS,
    "weekdays": ScheduleKind.WEEKDAYS,
    "weekly": ScheduleKind.WEEKLY,
    "every_n_weeks": ScheduleKind.EVERY_N_WEEKS,
    "monthly": ScheduleKind.MONTHLY,
}


@transaction.atomic
def playbook_load(*, team: Team, data: dict | None = None) -> SyncReport:
    data = data or playbook_read()
    report = SyncReport()
    roles = role_sync_from_playbook(team=team, rows=data["roles"], report=report)
    # PLAYBOOK §7.1 (issue 19): what each role is for.
    responsibility_sync_from_playbook(team=team, roles=roles, rows=data.get("responsibilities", []), report=report)
    for row in data["checklist_templates"]:
        _template_sync(team=team, role=roles[row["role"]], row=row, report=report)
    # PLAYBOOK §3 (issue 4): recurring duties, the campaign template and the plan stages; the default escalation chain.
    _duties_sync(team=team, roles=roles, rows=data.get("duties", []), report=report)
    from checklists.escalation.policies import policy_default_ensure

    policy_default_ensure(team=team)
    # PLAYBOOK §5-6 (issue 5): the metrics, then the targets that grade them.
    metrics = metric_sync_from_playbook(team=team, data=data.get("metrics", {}), report=report)
    kpi_sync_from_playbook(team=team, rows=data.get("targets", []), metrics=metrics, report=report)
    # PLAYBOOK §4 (issue 6): the meeting series and the 团队思考 questions.
    from checklists.meetings.services import meeting_series_sync_from_playbook, reflection_questions_sync_from_playbook

    meeting_series_sync_from_playbook(team=team, rows=data.get("meetings", []), report=report)
    _legacy_ids_rename(team=team)
    reflection_questions_sync_from_playbook(team=team, rows=data.get("reflection_questions", []), report=report)
    _retire_and_record(team=team, report=report)
    return report


# IDs an earlier default playbook gave a row: the row takes its new ID, so that what hangs on it (a member's answers
# to a 团队思考 question) stays with it.
LEGACY_IDS = {f"Q-{n}": f"Q-THINK-{n}" for n in range(1, 15)}


def _legacy_ids_rename(*, team: Team) -> None:
    """Q-1…Q-14 become Q-THINK-1…14, and the answers members gave, keyed by the question's ID, follow them."""
    from checklists.models import ReflectionQuestion, WeeklyReflection

    renamed = {}
    for old, new in LEGACY_IDS.items():
        if ReflectionQuestion.objects.filter(team=team, playbook_id=new).exists():
            continue
        if ReflectionQuestion.objects.filter(team=team, playbook_id=old).update(playbook_id=new):
            renamed[old] = new
    if renamed:
        for reflection in WeeklyReflection.objects.filter(team=team):
            if set(reflection.answers) & set(renamed):
                reflection.answers = {renamed.get(key, key): value for key, value in reflection.answers.items()}
                reflection.save(update_fields=["answers"])


def _retire_and_record(*, team: Team, report: SyncReport) -> None:
    """Issue 19: a row this playbook no longer names (SC-CS-5 moved to 运营's list in v2, a dropped step) is switched
    off unless its owner edited it; every edited row's difference from the playbook is kept for the director."""
    from checklists.models import MeetingSeries, ReflectionQuestion

    for queryset in (
        TemplateItem.objects.filter(template__team=team),
        ChecklistTemplate.objects.filter(team=team),
        Responsibility.objects.filter(team=team),
        DutyTemplate.objects.filter(team=team),
        MeetingSeries.objects.filter(team=team),
        ReflectionQuestion.objects.filter(team=team),
        # v2: K-24H became K-24H-ISSUE and K-24H-SHIP; the old single measure goes off unless the team edited it.
        Kpi.objects.filter(team=team),
    ):
        playbook_rows_retire(queryset, report=report)
    playbook_differences_record(team=team, differences=report.differences, loaded=report.seen)


TEMPLATE_KEYS = {
    "id",
    "role",
    "lead_only",
    "is_active",
    "name",
    "source",
    "schedule",
    "weekdays",
    "month_day",
    "interval_weeks",
    "anchor_date",
    "generate_at",
    "due_at",
    "items",
}
ITEM_KEYS = {"id", "text", "source", "kind", "target", "unit", "due_at", "note_required", "sub_items"}


def _keys_check(row: dict, allowed: set[str]) -> None:
    """A stray key is a typo or an unquoted comma that cut a text short: refuse it rather than load half a row."""
    unknown = set(row) - allowed
    if unknown:
        raise ValueError(
            f"Playbook row {row.get('id', '?')} has unknown keys {sorted(map(str, unknown))}; quote texts that contain commas."
        )


def _template_sync(*, team: Team, role: Role, row: dict, report: SyncReport) -> None:
    _keys_check(row, TEMPLATE_KEYS)
    template = playbook_row_sync(
        ChecklistTemplate,
        lookup={"team": team, "playbook_id": row["id"]},
        values={
            "role": role,
            "lead_only": bool(row.get("lead_only", False)),
            # Only when the row says so: a team switches a list off, and the loader leaves that alone.
            **({"is_active": bool(row["is_active"])} if "is_active" in row else {}),
            "name": row["name"],
            "source": row.get("source", ""),
            **_schedule_values(row),
        },
        report=report,
    )
    for order, item in enumerate(row["items"], start=1):
        parent = _item_sync(template=template, parent=None, order=order * 10, row=item, report=report)
        for sub_order, sub in enumerate(item.get("sub_items", []), start=1):
            _item_sync(template=template, parent=parent, order=order * 10 + sub_order, row=sub, report=report)


def _item_sync(*, template: ChecklistTemplate, parent: TemplateItem | None, order: int, row: dict, report: SyncReport) -> TemplateItem:
    _keys_check(row, ITEM_KEYS)
    due = row.get("due_at")
    return playbook_row_sync(
        TemplateItem,
        lookup={"template": template, "playbook_id": row["id"]},
        values={
            "parent": parent,
            "order": order,
            "text": row["text"],
            "source": row.get("source", ""),
            "kind": ItemKind(row.get("kind", "check")),
            "target": row.get("target"),
            "unit": row.get("unit", ""),
            "due_at": time.fromisoformat(due) if due else None,
            "note_required": bool(row.get("note_required", False)),
        },
        report=report,
    )


DUTY_KEYS = {
    "id", "name", "role", "kind", "source", "hours", "schedule", "weekdays", "interval_weeks", "anchor_date", "month_day",
    "generate_at", "due_at", "target", "unit", "note", "weekday_titles", "steps", "stages", "is_active", "flow",
}  # fmt: skip
STEP_KEYS = {"id", "phase", "anchor", "offset", "window", "after", "role", "title", "due_at"}
STAGE_KEYS = {"order", "name", "who", "days"}


def _duties_sync(*, team: Team, roles: dict[str, Role], rows: list[dict], report: SyncReport) -> None:
    """PLAYBOOK §3: recurring duties become duty templates, T-CAMPAIGN a campaign template, T-PLAN the plan stages.

    Event deadlines (T-24H, T-SHIP) need no row: logging a problem order creates its duty.
    """
    for row in rows:
        _keys_check(row, DUTY_KEYS)
        if row["kind"] == "recurring":
            _duty_template_sync(team=team, role=roles[row["role"]], row=row, report=report)
        elif row["kind"] == "campaign":
            template = playbook_row_sync(
                CampaignTemplate,
                lookup={"team": team, "playbook_id": row["id"]},
                values={"name": row["name"], "source": row.get("source", "")},
                report=report,
            )
            _campaign_steps_sync(template=template, roles=roles, rows=row["steps"], report=report)
        elif row["kind"] == "plan":
            for stage in row["stages"]:
                _keys_check(stage, STAGE_KEYS)
                playbook_row_sync(
                    PlanStageTemplate,
                    lookup={"team": team, "order": stage["order"]},
                    values={
                        # PLAYBOOK v2: T-PLAN-1…5 are the flows; a stage is <flow>-<stage> (T-PLAN-1-3).
                        "playbook_id": f"{row.get('flow', row['id'])}-{stage['order']}",
                        "name": stage["name"],
                        "who": stage["who"],
                        "days": stage["days"],
                    },
                    report=report,
                )


def _campaign_steps_sync(*, template: CampaignTemplate, roles: dict[str, Role], rows: list[dict], report: SyncReport) -> None:
    """PLAYBOOK v2 T-CAMPAIGN: each step anchored as its row says. A step the playbook no longer gives (v1's invented
    美工 T-7, 客服 T-3, 仓库 T-1) is removed unless the team edited it; campaigns already made keep their duties."""
    steps = {}
    for step in rows:
        _keys_check(step, STEP_KEYS)
        steps[step["id"]] = playbook_row_sync(
            CampaignStep,
            lookup={"template": template, "playbook_id": step["id"]},
            values={
                "role": roles[step["role"]],
                "phase": step["phase"],
                "anchor": step.get("anchor", CampaignAnchor.DAYS),
                "offset_days": int(step["offset"]),
                "window_days": int(step.get("window", 0)),
                "after": steps[step["after"]] if step.get("after") else None,
                "title": step["title"],
                "due_time": time.fromisoformat(step.get("due_at", "18:00")),
            },
            report=report,
        )
    label = str(CampaignStep._meta.label)
    stale = CampaignStep.objects.filter(template=template).exclude(playbook_id="").exclude(pk__in=[s.pk for s in steps.values()])
    for step in stale:
        if row_is_edited(step, report.keys.get(label, ())):
            report.count("kept", label)
            continue
        step.delete()
        report.count("retired", label)


def _schedule_values(row: dict) -> dict:
    """The schedule fields (models.templates.Scheduled) of a checklist template or a recurring duty."""
    return {
        "schedule": SCHEDULES[row.get("schedule", "daily")],
        "weekdays": str(row.get("weekdays", "")),
        "month_day": row.get("month_day"),
        "interval_weeks": row.get("interval_weeks", 1),
        "anchor_date": row.get("anchor_date"),
        "generate_at": time.fromisoformat(row.get("generate_at", "07:00")),
        "due_at": time.fromisoformat(row.get("due_at", "18:00")),
    }


def _duty_template_sync(*, team: Team, role: Role, row: dict, report: SyncReport) -> None:
    playbook_row_sync(
        DutyTemplate,
        lookup={"team": team, "playbook_id": row["id"]},
        values={
            "role": role,
            "name": row["name"],
            "source": row.get("source", ""),
            **_schedule_values(row),
            "target": row.get("target"),
            "unit": row.get("unit", ""),
            "note": row.get("note", ""),
            "weekday_titles": {str(k): v for k, v in (row.get("weekday_titles") or {}).items()},
            # PLAYBOOK v2: a duty the seeds give no schedule (无排期) is loaded switched off, for a lead to schedule.
            **({"is_active": bool(row["is_active"])} if "is_active" in row else {}),
        },
        report=report,
    )
