"""Meetings over the API (issue 6): list, book, read and write minutes, publish, action items. Same services as the pages."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from checklists.daily.api import IsTeamMember
from checklists.meetings.minutes import (
    action_item_create,
    agenda_notes_amend,
    agenda_notes_save,
    attendance_mark,
    meeting_publish,
    meeting_update,
)
from checklists.meetings.selectors import agenda_item_get, meeting_get, meeting_list, meeting_series_list
from checklists.meetings.services import meeting_call
from checklists.models import ActionItem, AgendaItem, Amendment, Attendance, AttendanceStatus, Decision, Meeting
from opsteam.api import IDEMPOTENCY_KEY_PARAMETER, DateField, IdField, created_response, idempotency_key_from
from opsteam.lib.text import NOTES_MAX, markdown_render
from roles.models import Member

# --- shapes -----------------------------------------------------------------------------------------------------------


class AgendaItemSerializer(serializers.ModelSerializer):
    notes_html = serializers.SerializerMethodField(help_text="The notes rendered from Markdown and sanitised")

    class Meta:
        model = AgendaItem
        fields = ["id", "order", "kind", "title", "prepared", "notes", "notes_html", "action_item", "carry_count"]
        read_only_fields = fields

    def get_notes_html(self, item: AgendaItem) -> str:
        return str(markdown_render(item.notes))


class AttendanceSerializer(serializers.ModelSerializer):
    member_name = serializers.CharField(source="member.display_name", read_only=True)

    class Meta:
        model = Attendance
        fields = ["member", "member_name", "status"]
        read_only_fields = fields


class DecisionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Decision
        fields = ["id", "agenda_item", "text", "created_by", "created_at"]
        read_only_fields = fields


class ActionItemSerializer(serializers.ModelSerializer):
    owner_name = serializers.CharField(source="owner.display_name", read_only=True)
    is_done = serializers.BooleanField(read_only=True, help_text="Read from the duty: done when the duty is done")

    class Meta:
        model = ActionItem
        fields = ["id", "meeting", "agenda_item", "title", "owner", "owner_name", "due_date", "task", "is_done", "created_at"]
        read_only_fields = fields


class AmendmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Amendment
        fields = ["id", "member", "at", "field", "agenda_item", "before", "after", "reason"]
        read_only_fields = fields


class MeetingSerializer(serializers.ModelSerializer):
    series_id = serializers.CharField(source="series.playbook_id", read_only=True)
    series_name = serializers.CharField(source="series.name", read_only=True)
    chair_name = serializers.CharField(source="chair.display_name", read_only=True, default=None, allow_null=True)

    class Meta:
        model = Meeting
        fields = [
            "id", "series", "series_id", "series_name", "title", "date", "starts_at", "chair", "chair_name", "status",
            "published_at", "published_by",
        ]  # fmt: skip
        read_only_fields = fields


class MeetingDetailSerializer(MeetingSerializer):
    agenda_items = AgendaItemSerializer(many=True, read_only=True)
    attendance = AttendanceSerializer(many=True, read_only=True)
    decisions = DecisionSerializer(many=True, read_only=True)
    action_items = ActionItemSerializer(many=True, read_only=True)
    amendments = AmendmentSerializer(many=True, read_only=True)

    class Meta(MeetingSerializer.Meta):
        fields = [*MeetingSerializer.Meta.fields, "agenda_items", "attendance", "decisions", "action_items", "amendments"]
        read_only_fields = fields


class MeetingQuerySerializer(serializers.Serializer):
    q = serializers.CharField(required=False, allow_blank=True, max_length=100, help_text="Search the minutes")
    series = IdField(required=False)


class MeetingCreateSerializer(serializers.Serializer):
    series = IdField(help_text="The meeting series (GET /meetings/ shows their ids)")
    date = DateField()
    title = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")
    starts_at = serializers.TimeField(required=False, allow_null=True, default=None, help_text="HH:MM; default: the series' time")


class NotesInputSerializer(serializers.Serializer):
    id = IdField()
    notes = serializers.CharField(allow_blank=True, max_length=NOTES_MAX, trim_whitespace=False)


class AttendanceInputSerializer(serializers.Serializer):
    member = IdField()
    status = serializers.ChoiceField(choices=AttendanceStatus.choices, help_text="expected clears the mark")


class MeetingPatchSerializer(serializers.Serializer):
    title = serializers.CharField(required=False, max_length=200)
    chair = IdField(required=False)
    agenda_items = NotesInputSerializer(many=True, required=False, help_text="Notes per agenda item (Markdown)")
    attendance = AttendanceInputSerializer(many=True, required=False)
    reason = serializers.CharField(
        required=False, allow_blank=True, max_length=300, default="", help_text="Required for published minutes: the amendment's reason"
    )


class ActionItemInputSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    owner = IdField()
    due_date = DateField()
    agenda_item = IdField(required=False, allow_null=True, default=None)
    reason = serializers.CharField(
        required=False, allow_blank=True, max_length=300, default="", help_text="Required for published minutes: the amendment's reason"
    )


# --- the viewset ------------------------------------------------------------------------------------------------------


def _member(request, pk: int, *, field: str) -> Member:
    member = Member.objects.visible_to(request.member).active().filter(pk=pk).first()
    if member is None:
        raise exceptions.ValidationError({field: [_("Choose a member of your team.")]})
    return member


def _agenda_item(request, meeting: Meeting, pk: int, *, field: str) -> AgendaItem:
    """An agenda item named in a body: one of this meeting's, else a 400 on `field` (not the URL's 404)."""
    try:
        return agenda_item_get(viewer=request.member, meeting=meeting, item_id=pk)
    except Http404:
        raise exceptions.ValidationError({field: [_("Choose an agenda item of this meeting.")]}) from None


class MeetingViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The team's meetings. POST books or calls one; PATCH writes the minutes (amendments once published)."""

    permission_classes = [IsTeamMember]
    serializer_class = MeetingSerializer
    queryset = Meeting.objects.none()
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        if self.action == "list":
            query = MeetingQuerySerializer(data=self.request.query_params)
            query.is_valid(raise_exception=True)
            return meeting_list(
                viewer=self.request.member, query=query.validated_data.get("q", ""), series_id=query.validated_data.get("series")
            )
        return Meeting.objects.visible_to(self.request.member)

    def get_serializer_class(self):
        return MeetingDetailSerializer if self.action in ("retrieve", "partial_update", "publish") else MeetingSerializer

    def _meeting(self) -> Meeting:
        return meeting_get(viewer=self.request.member, meeting_id=self.kwargs["pk"])

    def _detail(self, meeting: Meeting, *, code: int = status.HTTP_200_OK) -> Response:
        meeting = (
            Meeting.objects.prefetch_related(
                "agenda_items", "attendance__member", "decisions", "action_items__owner", "action_items__task", "amendments"
            )
            .select_related("series", "chair")
            .get(pk=meeting.pk)
        )
        return Response(MeetingDetailSerializer(meeting).data, status=code)

    @extend_schema(parameters=[MeetingQuerySerializer])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    def retrieve(self, request, *args, **kwargs):
        return self._detail(self._meeting())

    @extend_schema(request=MeetingCreateSerializer, responses={201: MeetingDetailSerializer}, parameters=[IDEMPOTENCY_KEY_PARAMETER])
    def create(self, request):
        key = idempotency_key_from(request)
        data = MeetingCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        series = meeting_series_list(viewer=request.member).filter(pk=data.validated_data["series"]).first()
        if series is None:
            raise exceptions.ValidationError({"series": [_("Choose a meeting series of your team.")]})
        try:
            meeting = meeting_call(
                series=series, member=request.member, day=data.validated_data["date"], now=timezone.now(),
                title=data.validated_data["title"], starts_at=data.validated_data["starts_at"], idempotency_key=key,
            )  # fmt: skip
        except DjangoPermissionDenied as exc:
            raise exceptions.PermissionDenied(str(exc)) from None
        response = self._detail(meeting, code=status.HTTP_201_CREATED)
        return created_response(response.data, obj=meeting)

    @extend_schema(request=MeetingPatchSerializer, responses={200: MeetingDetailSerializer})
    def partial_update(self, request, *args, **kwargs):
        meeting = self._meeting()
        data = MeetingPatchSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values, now, member = data.validated_data, timezone.now(), request.member
        try:
            with transaction.atomic():
                if "title" in values or "chair" in values:
                    chair = _member(request, values["chair"], field="chair") if "chair" in values else None
                    meeting_update(meeting=meeting, member=member, now=now, title=values.get("title"), chair=chair)
                for row in values.get("attendance", []):
                    attendee = _member(request, row["member"], field="attendance")
                    attendance_mark(meeting=meeting, member=member, attendee=attendee, status=row["status"], now=now)
                for row in values.get("agenda_items", []):
                    item = _agenda_item(request, meeting, row["id"], field="agenda_items")
                    if meeting.is_published:
                        agenda_notes_amend(item=item, member=member, notes=row["notes"], reason=values["reason"], now=now)
                    else:
                        agenda_notes_save(item=item, member=member, notes=row["notes"], now=now)
        except DjangoPermissionDenied as exc:
            raise exceptions.PermissionDenied(str(exc)) from None
        return self._detail(meeting)

    @extend_schema(request=None, responses={200: MeetingDetailSerializer})
    @action(detail=True, methods=["post"])
    def publish(self, request, pk=None):
        """Lock the minutes and notify the attendees: the chair, the leads and the director only (403 otherwise)."""
        meeting = self._meeting()
        try:
            meeting_publish(meeting=meeting, member=request.member, now=timezone.now())
        except DjangoPermissionDenied as exc:
            raise exceptions.PermissionDenied(str(exc)) from None
        return self._detail(meeting)

    @extend_schema(methods=["GET"], request=None, responses={200: ActionItemSerializer(many=True)})
    @extend_schema(
        methods=["POST"], request=ActionItemInputSerializer, responses={201: ActionItemSerializer}, parameters=[IDEMPOTENCY_KEY_PARAMETER]
    )
    @action(detail=True, methods=["get", "post"], url_path="action-items", serializer_class=ActionItemSerializer)
    def action_items(self, request, pk=None):
        """The meeting's action items; POST adds one, which becomes the owner's duty at once."""
        meeting = self._meeting()
        if request.method == "GET":
            # Paginated like every other list (limit/offset), as the schema says (issue 15: it was a bare array).
            rows = self.paginate_queryset(meeting.action_items.select_related("owner", "task").order_by("due_date", "id"))
            return self.get_paginated_response(ActionItemSerializer(rows, many=True).data)
        key = idempotency_key_from(request)
        data = ActionItemInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        agenda_item = _agenda_item(request, meeting, values["agenda_item"], field="agenda_item") if values["agenda_item"] else None
        try:
            row = action_item_create(
                meeting=meeting, member=request.member, title=values["title"], owner=_member(request, values["owner"], field="owner"),
                due_date=values["due_date"], agenda_item=agenda_item, reason=values["reason"], now=timezone.now(), idempotency_key=key,
            )  # fmt: skip
        except DjangoPermissionDenied as exc:
            raise exceptions.PermissionDenied(str(exc)) from None
        return created_response(ActionItemSerializer(row).data, obj=row)
