"""Importing a shop's export (生意参谋, 千牛 客服, a week's or a month's): the plan read (kpi_import_plan), shown as a
preview with a signed token, and written in one transaction, all rows or none."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from roles.models import AgentName, EntrySource, ImportLayout, Member, Metric, MetricKind, PeriodFigure, Team
from roles.services.kpi import _entries_write
from roles.services.kpi_import_plan import ImportPlan, agents_choose, agents_resolve, import_plan_read, plan_compare

TOKEN_SALT = "roles.kpi-import"  # noqa: S105 - a signing salt (namespace), not a secret
TOKEN_MAX_AGE = 3600  # a preview is confirmed within the hour, or the file is chosen again


# --- writing ---------------------------------------------------------------------------------------------------------------


@dataclass
class ImportDay:
    """One imported day: figures of the file that replaced recorded ones, new ones, and recorded ones kept."""

    day: date
    replaced: int
    added: int
    kept: int
    who: str = ""

    @property
    def summary(self) -> str:
        text = _("%(day)s: %(replaced)d replaced, %(added)d added, %(kept)d kept (not in the file).") % {
            "day": self.day.isoformat(),
            "replaced": self.replaced,
            "added": self.added,
            "kept": self.kept,
        }
        return f"{self.who}: {text}" if self.who else text


@dataclass
class ImportResult:
    """What an import saved (or, for a dry run, would save): the days, each day's counts, unused columns, the plan."""

    days: list[date] = field(default_factory=list)
    replaced: list[date] = field(default_factory=list)
    figures: int = 0
    ignored_columns: list[str] = field(default_factory=list)
    per_day: list[ImportDay] = field(default_factory=list)
    plan: ImportPlan | None = None
    written: bool = False


def entries_import(
    *,
    team: Team,
    content: bytes,
    filename: str,
    actor: Member | None,
    now: datetime,
    layout: str | None = None,
    day: date | None = None,
    agents: dict[str, object] | None = None,
    dry_run: bool = False,
) -> ImportResult:
    """Import a shop's export: all rows or none. The file's figures replace recorded ones, others are kept and said.

    dry_run: the plan only (the preview), nothing written.
    """
    plan = import_plan_read(team=team, content=content, filename=filename, now=now, layout=layout, day=day)
    agents_choose(team=team, plan=plan, choices=agents or {})
    plan_compare(team=team, plan=plan)
    if dry_run:
        return _result(plan, written=False)
    return plan_write(team=team, plan=plan, actor=actor, now=now, choices=agents or {})


def plan_write(*, team: Team, plan: ImportPlan, actor: Member | None, now: datetime, choices: dict[str, object]) -> ImportResult:
    """Write the plan in one transaction: the shop's days, each 客服's days, the period figures, the names mapped."""
    if plan.unmapped_agents:
        raise ValidationError(
            _("These 客服 names are not mapped to a member: %(names)s. Choose the member for each, once; the import remembers it.")
            % {"names": "、".join(plan.unmapped_agents)}
        )
    with transaction.atomic():
        _entries_write(
            team=team,
            values={(day, metric): value for day, values in plan.shop.items() for metric, value in values.items()},
            member=None,
            source=EntrySource.IMPORT,
            actor=actor,
            now=now,
        )
        by_member: dict[Member, dict] = defaultdict(dict)
        for name, by_day in plan.agents.items():
            member = plan.agent_members[name]
            for day, values in by_day.items():
                for metric, value in values.items():
                    key = (day, metric)
                    by_member[member][key] = by_member[member].get(key, Decimal(0)) + value
        for member, values in by_member.items():
            _entries_write(team=team, values=values, member=member, source=EntrySource.IMPORT, actor=actor, now=now)
        for (start, end), values in plan.periods.items():
            for metric, value in values.items():
                PeriodFigure.objects.update_or_create(
                    team=team,
                    metric=metric,
                    start=start,
                    end=end,
                    defaults={"value": value, "source": EntrySource.IMPORT, "entered_by": actor, "entered_at": now},
                )
        for name, member_id in choices.items():
            member = plan.agent_members.get(name)
            if member is not None and member_id not in (None, ""):
                AgentName.objects.update_or_create(team=team, name=name[:100], defaults={"member": member})
    return _result(plan, written=True)


def _result(plan: ImportPlan, *, written: bool) -> ImportResult:
    result = ImportResult(plan=plan, written=written)
    result.ignored_columns = [c.header for c in plan.columns if c.reason]
    result.per_day = [
        ImportDay(day=d.day, replaced=d.replaced, added=d.added, kept=len(d.kept), who=d.who.split(" → ")[-1] if d.who else "")
        for d in plan.per_day
    ]
    result.days = plan.days
    result.replaced = sorted({d.day for d in plan.per_day if d.replaced})
    result.figures = plan.figures
    return result


# --- the preview's token: what was read, confirmed later without reading the file again ------------------------------------


def plan_token(*, team: Team, actor: Member | None, plan: ImportPlan) -> str:
    """The plan's figures, signed: the confirm step writes exactly what the preview showed (the file is not kept)."""
    data = {
        "t": team.pk,
        "a": actor.pk if actor else None,
        "l": plan.layout.code,
        "f": plan.filename[:200],
        "s": {d.isoformat(): {m.code: str(v) for m, v in values.items()} for d, values in plan.shop.items()},
        "p": [[s.isoformat(), e.isoformat(), {m.code: str(v) for m, v in values.items()}] for (s, e), values in plan.periods.items()],
        "g": {n: {d.isoformat(): {m.code: str(v) for m, v in vs.items()} for d, vs in by_day.items()} for n, by_day in plan.agents.items()},
        "k": [
            [agent or "", d.isoformat(), code, [str(v) for v in values]]
            for (agent, d, code), values in plan.summed.items()
            if len(values) > 1
        ],
    }
    return signing.dumps(data, salt=TOKEN_SALT, compress=True)


def entries_import_confirm(
    *, team: Team, token: str, actor: Member | None, now: datetime, agents: dict[str, object] | None = None
) -> ImportResult:
    """Write what a preview showed (its signed token), with the 客服 names the importer mapped on it."""
    try:
        data = signing.loads(token, salt=TOKEN_SALT, max_age=TOKEN_MAX_AGE)
    except signing.SignatureExpired:
        raise ValidationError(_("This preview is more than an hour old: choose the file again.")) from None
    except signing.BadSignature:
        raise ValidationError(_("This preview cannot be read: choose the file again.")) from None
    if data.get("t") != team.pk or data.get("a") != (actor.pk if actor else None):
        raise ValidationError(_("This preview was made by someone else: choose the file again."))
    metrics = {m.code: m for m in Metric.objects.filter(team=team, is_active=True, kind=MetricKind.BASE)}
    layout = ImportLayout.objects.filter(team=team, code=data["l"]).first() or ImportLayout(team=team, code=data["l"], name=data["l"])
    plan = ImportPlan(layout=layout, filename=data.get("f", ""))

    def figures(raw: dict) -> dict[Metric, Decimal]:
        try:
            return {metrics[code]: Decimal(value) for code, value in raw.items()}
        except KeyError:
            raise ValidationError(_("A figure of this preview has been switched off since: choose the file again.")) from None

    plan.shop = {date.fromisoformat(d): figures(v) for d, v in data["s"].items()}
    plan.periods = {(date.fromisoformat(s), date.fromisoformat(e)): figures(v) for s, e, v in data["p"]}
    plan.agents = {n: {date.fromisoformat(d): figures(v) for d, v in by_day.items()} for n, by_day in data["g"].items()}
    plan.summed = {(a or None, date.fromisoformat(d), code): [Decimal(v) for v in values] for a, d, code, values in data["k"]}
    if plan.agents:
        plan.agent_members = agents_resolve(team=team, names=list(plan.agents))
    agents_choose(team=team, plan=plan, choices=agents or {})
    with transaction.atomic():
        plan_compare(team=team, plan=plan)
        return plan_write(team=team, plan=plan, actor=actor, now=now, choices=agents or {})
