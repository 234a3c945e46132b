"""Board and KPI API (issue 5): the same selectors and services as the /board/ pages."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import api_view, parser_classes, permission_classes
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from checklists.board.live.api import behind_data
from checklists.board.selectors import Board, board_get, board_scope
from checklists.daily.api import IsTeamMember
from opsteam.api import DateField, IdField
from opsteam.lib.clock import local_date
from opsteam.parsers import JSONParser
from roles.models import Member
from roles.selectors.kpi import figures_by_day, member_can_enter_figures
from roles.selectors.kpi_scorecard import Scorecard, scorecard_get
from roles.services.kpi import entry_save
from roles.services.kpi_import import entries_import
from roles.services.kpi_import_plan import ImportPlan

MAX_RANGE_DAYS = 366


class BoardQuerySerializer(serializers.Serializer):
    date = DateField(required=False, help_text="YYYY-MM-DD (Asia/Shanghai), today or earlier; default today")
    role = IdField(required=False, help_text="a role ID: only that role")

    def validate_date(self, value):
        # As the page says: a day that has not happened has no lists, and "month to date" would run to its end.
        today = local_date(timezone.now())
        if value > today:
            raise serializers.ValidationError(
                _("%(day)s has not happened yet: choose today (%(today)s) or an earlier day.") % {"day": value.isoformat(), "today": today}
            )
        return value


class RangeQuerySerializer(serializers.Serializer):
    start = DateField(required=False, help_text="YYYY-MM-DD; default the first day of the end's month")
    end = DateField(required=False, help_text="YYYY-MM-DD; default today")

    def validate(self, attrs):
        end = attrs.get("end") or local_date(timezone.now())
        start = attrs.get("start") or end.replace(day=1)
        if start > end:
            raise serializers.ValidationError({"start": _("The start must be on or before the end.")})
        if (end - start).days >= MAX_RANGE_DAYS:
            raise serializers.ValidationError({"start": _("Ask for at most 366 days at a time.")})
        return {"start": start, "end": end}


class EntryInputSerializer(serializers.Serializer):
    date = DateField()
    figures = serializers.DictField(
        child=serializers.CharField(allow_blank=True, allow_null=True), help_text='{"sales": "12000.50", "visitors": 1000}; null removes'
    )
    member = IdField(required=False, help_text="a member ID, for figures recorded per member (客服 询单)")


class ImportInputSerializer(serializers.Serializer):
    file = serializers.FileField(help_text=".xlsx, .xls, or .csv / tab-separated text in UTF-8 (with or without BOM), GBK or UTF-16")
    dry_run = serializers.BooleanField(required=False, default=False, help_text="true: the preview only, nothing written")
    layout = serializers.SlugField(required=False, max_length=40, help_text="a file layout's code; default: recognised by its columns")
    date = DateField(required=False, help_text="the day of an export without a 日期 column (a 客服 export)")
    agents = serializers.JSONField(required=False, binary=True, help_text='{"name in the export": member id}: 客服 names mapped once')

    def validate_agents(self, value):
        if not isinstance(value, dict) or len(value) > 500 or not all(isinstance(k, str) and len(k) <= 100 for k in value):
            raise serializers.ValidationError(_('Send {"name in the export": member id, ...}.'))
        return value


def _plan_data(plan: ImportPlan) -> dict:
    """The preview: each column and what it becomes, skipped rows and why, per day before → after and what stays."""
    return {
        "layout": plan.layout.code,
        "layout_name": plan.layout.name,
        "columns": [{"header": c.header, "becomes": c.becomes or None, "reason": c.reason or None} for c in plan.columns],
        "skipped": [{"row": row, "reason": reason} for row, reason in plan.skipped],
        "notes": plan.notes,
        "warnings": plan.warnings,
        "days": [
            {
                "date": d.day.isoformat(),
                "who": d.who or None,
                "changes": [
                    {
                        "metric": c.metric.code,
                        "name": c.metric.name,
                        "before": _num(c.before),
                        "after": _num(c.after),
                        "summed": c.sum_text or None,
                    }
                    for c in d.changes
                ],
                "kept": [{"metric": m.code, "name": m.name, "value": _num(v)} for m, v in d.kept],
            }
            for d in plan.per_day
        ],
        "periods": [
            {
                "start": p.start.isoformat(),
                "end": p.end.isoformat(),
                "changes": [{"metric": c.metric.code, "before": _num(c.before), "after": _num(c.after)} for c in p.changes],
            }
            for p in plan.per_period
        ],
        "unmapped_agents": plan.unmapped_agents,
    }


def _num(value) -> float | None:
    return float(value) if value is not None else None


def _board_data(board: Board) -> dict:
    return {
        "date": board.day.isoformat(),
        "role": board.scope.role.pk if board.scope.role else None,
        "total": _completion(board.total),
        "roles": [
            {
                "role": r.role_id,
                "name": r.name,
                **_completion(r.completion),
                "people": [{"member": p.member_id, "name": p.name, **_completion(p.completion)} for p in r.people],
            }
            for r in board.roles
        ],
        "escalations": [
            {
                "id": e.pk,
                "item": e.item_id,
                "task": e.task_id,
                "level": e.level_order,
                "status": e.status,
                "raised_at": e.raised_at.isoformat(),
                "recipient": e.recipient.display_name if e.recipient else None,
                "acknowledged_by": e.acknowledged_by.display_name if e.acknowledged_by else None,
                "acknowledged_at": e.acknowledged_at.isoformat() if e.acknowledged_at else None,
            }
            for e in board.escalations
        ],
        "overdue_duties": [
            {
                "id": t.pk,
                "title": t.title,
                "role": t.role_id,
                "who": (t.assignee or t.owner).display_name if (t.assignee or t.owner) else None,
                "due_at": t.due_at.isoformat(),
            }
            for t in board.overdue
        ],
        "scorecard": _scorecard_data(board.scorecard),
        # Who is behind now, worst first (issue 20: the one definition, checklists.daily.pace).
        "behind": behind_data(board.behind),
    }


def _completion(c) -> dict:
    return {
        "total": c.total,
        "done": c.done,
        "late": c.late,
        "not_done": c.not_done,
        "missed": c.missed,
        "percent": c.percent,
        "due": c.due,
        "behind": c.is_behind,
    }


def _scorecard_data(card: Scorecard) -> dict:
    return {
        "start": card.start.isoformat(),
        "end": card.end.isoformat(),
        "metrics": [
            {
                "code": r.metric.code,
                "name": r.metric.name,
                "unit": r.metric.unit,
                "value": _num(r.value),
                "display": r.display,
                "numerator": _num(r.numerator),
                "denominator": _num(r.denominator),
                "target": _num(r.target),
                "grade": (r.grade or {}).get("label"),
            }
            for r in card.rows
        ],
        "kpis": [
            {
                "id": k.kpi.playbook_id,
                "name": k.kpi.name,
                "value": _num(k.value),
                "display": k.display,
                "grade": (k.grade or {}).get("label") or None,
                "tone": k.tone or None,
                "detail": k.detail,
                "days": [
                    {
                        "date": d.day.isoformat(),
                        "sales": _num(d.sales),
                        "target": _num(d.target),
                        "verdict": d.verdict,
                        "flagged": d.flagged,
                    }
                    for d in k.days
                ],
                "members": [
                    {
                        "member": m.member_id,
                        "name": m.name,
                        "value": _num(m.value),
                        "numerator": _num(m.numerator),
                        "denominator": _num(m.denominator),
                        "above_average": m.above_average,
                    }
                    for m in k.members
                ],
                # A per-agent ratio (K-CS-CONV): the days whose parts, summed, make `value`, each with its agents.
                "numerator": _num(k.numerator),
                "denominator": _num(k.denominator),
                "daily": [
                    {
                        "date": d.day.isoformat(),
                        "numerator": _num(d.numerator),
                        "denominator": _num(d.denominator),
                        "value": _num(d.value),
                        "agents": [
                            {
                                "member": a.member_id,
                                "name": a.name,
                                "numerator": _num(a.numerator),
                                "denominator": _num(a.denominator),
                                "value": _num(a.value),
                            }
                            for a in d.agents
                        ],
                    }
                    for d in k.daily
                ],
            }
            for k in card.kpis
        ],
    }


@extend_schema(parameters=[BoardQuerySerializer], responses={200: OpenApiTypes.OBJECT})
@api_view(["GET"])
@permission_classes([IsTeamMember])
def board(request):
    """The board for a day: completion by role and person, open escalations, overdue duties, month-to-date KPIs."""
    query = BoardQuerySerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    scope = board_scope(viewer=request.member, role_id=query.validated_data.get("role"))
    now = timezone.now()
    data = board_get(scope=scope, day=query.validated_data.get("date") or local_date(now), now=now)
    return Response(_board_data(data))


@extend_schema(parameters=[RangeQuerySerializer], responses={200: OpenApiTypes.OBJECT})
@api_view(["GET"])
@permission_classes([IsTeamMember])
def scorecard(request):
    """Every metric (ratios from summed parts) and every §5 target over a period, graded."""
    board_scope(viewer=request.member)
    query = RangeQuerySerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    card = scorecard_get(team=request.member.team, **query.validated_data)
    return Response(_scorecard_data(card))


@extend_schema(
    methods=["GET"],
    parameters=[RangeQuerySerializer],
    # A list of {date, figures} (schemathesis found the schema said one object).
    responses={200: {"type": "array", "items": {"type": "object"}}},
    description="The shop's figures per day.",
)
@extend_schema(methods=["POST"], request=EntryInputSerializer, responses={200: OpenApiTypes.OBJECT})
@api_view(["GET", "POST"])
@permission_classes([IsTeamMember])
@parser_classes([JSONParser, FormParser])
def entries(request):
    """GET: the shop's recorded figures per day. POST: record a day's figures (an empty or null value removes one)."""
    board_scope(viewer=request.member)
    team = request.member.team
    if request.method == "GET":
        query = RangeQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        by_day = figures_by_day(team=team, **query.validated_data)
        return Response(
            [
                {"date": day.isoformat(), "figures": {code: float(v) for code, v in figures.items()}}
                for day, figures in sorted(by_day.items())
            ]
        )
    if not member_can_enter_figures(member=request.member):
        raise PermissionDenied(_("Only the director and the role leads enter the shop's figures."))
    data = EntryInputSerializer(data=request.data)
    data.is_valid(raise_exception=True)
    member = None
    if data.validated_data.get("member") is not None:
        member = Member.objects.filter(team=team, pk=data.validated_data["member"]).first()
        if member is None:
            raise serializers.ValidationError({"member": _("That member is not in this team.")})
    saved = entry_save(
        team=team,
        day=data.validated_data["date"],
        figures=data.validated_data["figures"],
        member=member,
        actor=request.member,
        now=timezone.now(),
        source="api",
    )
    return Response({"date": data.validated_data["date"].isoformat(), "figures": {code: _num(v) for code, v in saved.items()}})


@extend_schema(request={"multipart/form-data": ImportInputSerializer}, responses={200: OpenApiTypes.OBJECT})
@api_view(["POST"])
@permission_classes([IsTeamMember])
@parser_classes([MultiPartParser])
def kpi_import(request):
    """Import a shop's analytics export: all rows or none (400 with each bad row's number and reason). dry_run=true
    answers the preview (columns, skipped rows, per day before → after) and writes nothing."""
    board_scope(viewer=request.member)
    if not member_can_enter_figures(member=request.member):
        raise PermissionDenied(_("Only the director and the role leads enter the shop's figures."))
    data = ImportInputSerializer(data=request.data)
    data.is_valid(raise_exception=True)
    upload = data.validated_data["file"]
    result = entries_import(
        team=request.member.team,
        content=upload.read(),
        filename=upload.name,
        actor=request.member,
        now=timezone.now(),
        layout=data.validated_data.get("layout"),
        day=data.validated_data.get("date"),
        agents=data.validated_data.get("agents"),
        dry_run=data.validated_data["dry_run"],
    )
    return Response(
        {
            "dry_run": not result.written,
            "preview": _plan_data(result.plan),
            "days": [d.isoformat() for d in result.days],
            "replaced": [d.isoformat() for d in result.replaced],
            "figures": result.figures,
            "ignored_columns": result.ignored_columns,
            "per_day": [{"date": d.day.isoformat(), "replaced": d.replaced, "added": d.added, "kept": d.kept} for d in result.per_day],
            "message": " ".join(
                [
                    _("Nothing was written: this is the preview.")
                    if not result.written
                    else _("Imported %(figures)d figures for %(days)d days; figures the file does not carry were kept.")
                    % {"figures": result.figures, "days": len(result.days)},
                    *(d.summary for d in result.per_day),
                ]
            ),
        }
    )
