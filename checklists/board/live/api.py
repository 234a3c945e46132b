"""The board's who-is-behind and 催一下 in the API (issue 20): the same selector and service as the board's page."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import api_view, parser_classes, permission_classes
from rest_framework.parsers import FormParser
from rest_framework.response import Response

from checklists.board.live.nudges import NudgeTooSoon, nudge_interval, nudge_role, nudge_send
from checklists.board.selectors import board_scope
from checklists.daily.api import IsTeamMember
from checklists.daily.pace import BehindRow
from opsteam.api import IdField
from opsteam.parsers import JSONParser


def behind_data(rows: list[BehindRow]) -> list[dict]:
    """Who is behind now, worst first, as the board's first screen lists them."""
    return [
        {
            "member": r.member_id,
            "name": r.name,
            "role": r.role_id,
            "role_name": r.role_name,
            "total": r.pace.total,
            "done": r.pace.done,
            "due": r.pace.due,
            "missed": r.pace.missed,
            "share_done": round(r.pace.done_share, 4),
            "share_due": round(r.pace.due_share, 4),
            "open_since": r.since.isoformat() if r.since else None,
            "open_items": [{"id": i.item_id, "text": i.text, "due_at": i.due_at.isoformat()} for i in r.open_items],
            "nudged": (
                {"at": r.nudge.at.isoformat(), "by": r.nudge.by, "open": r.nudge.open_count, "done_since": r.nudge.done_since}
                if r.nudge
                else None
            ),
        }
        for r in rows
    ]


class NudgeInputSerializer(serializers.Serializer):
    member = IdField(required=False, help_text="a member ID: remind this member")
    role = IdField(required=False, help_text="a role ID: remind everyone behind in this role")

    def validate(self, attrs):
        if ("member" in attrs) == ("role" in attrs):
            raise serializers.ValidationError(_("Send either a member or a role."))
        return attrs


def _nudge_data(nudge) -> dict:
    return {"id": nudge.pk, "member": nudge.member_id, "at": nudge.at.isoformat(), "open": nudge.open_count}


@extend_schema(request=NudgeInputSerializer, responses={201: OpenApiTypes.OBJECT, 400: OpenApiTypes.OBJECT, 429: OpenApiTypes.OBJECT})
@api_view(["POST"])
@permission_classes([IsTeamMember])
@parser_classes([JSONParser, FormParser])
def nudge(request):
    """催一下: remind a member who is behind (or everyone behind in a role), in-app and on their channels.

    A member is reminded at most once per OPSTEAM_NUDGE_INTERVAL_MINUTES: sooner is a 429 that says when.
    """
    scope = board_scope(viewer=request.member)
    data = NudgeInputSerializer(data=request.data)
    data.is_valid(raise_exception=True)
    now = timezone.now()
    try:
        if "member" in data.validated_data:
            sent = nudge_send(scope=scope, member_id=data.validated_data["member"], now=now)
            return Response({"nudged": [_nudge_data(sent)], "refused": []}, status=status.HTTP_201_CREATED)
        result = nudge_role(scope=scope, role_id=data.validated_data["role"], now=now)
    except NudgeTooSoon as exc:
        response = Response({"detail": exc.messages[0], "code": "too_soon"}, status=status.HTTP_429_TOO_MANY_REQUESTS)
        response["Retry-After"] = str(int(nudge_interval().total_seconds()))
        return response
    except ValidationError as exc:
        return Response({"detail": exc.messages[0], "code": "not_behind"}, status=status.HTTP_400_BAD_REQUEST)
    code = status.HTTP_201_CREATED if result.sent else status.HTTP_429_TOO_MANY_REQUESTS
    return Response({"nudged": [_nudge_data(n) for n in result.sent], "refused": result.refused}, status=code)
