"""Notification API: my notifications (optionally unread only) and marking them read. Same services as the pages."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from checklists.daily.api import IsTeamMember
from checklists.models import Notification
from checklists.notify.selectors import notification_list, notification_unread_count
from checklists.notify.services import notification_mark_read
from opsteam.api import IdField


class NotificationSerializer(serializers.ModelSerializer):
    is_read = serializers.SerializerMethodField()

    class Meta:
        model = Notification
        fields = ["id", "kind", "title", "body", "url", "urgent", "created_at", "read_at", "is_read"]
        read_only_fields = fields

    def get_is_read(self, notification: Notification) -> bool:
        return notification.read_at is not None


class NotificationQuerySerializer(serializers.Serializer):
    unread = serializers.BooleanField(required=False, default=False, help_text=_("1: only unread notifications"))


class MarkReadInputSerializer(serializers.Serializer):
    ids = serializers.ListField(child=IdField(), required=False, max_length=1000)
    all = serializers.BooleanField(required=False, default=False)

    def validate(self, attrs):
        if not attrs.get("all") and not attrs.get("ids"):
            raise serializers.ValidationError({"ids": _('Give the ids of the notifications to mark read, or "all": true.')})
        return attrs


class MarkReadOutputSerializer(serializers.Serializer):
    marked = serializers.IntegerField()
    unread = serializers.IntegerField()


class NotificationViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The caller's own notifications, newest first."""

    serializer_class = NotificationSerializer
    permission_classes = [IsTeamMember]
    queryset = Notification.objects.none()  # for the schema; requests go through get_queryset

    def get_queryset(self):
        query = NotificationQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        return notification_list(viewer=self.request.member, unread=query.validated_data["unread"])

    @extend_schema(parameters=[NotificationQuerySerializer])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(request=MarkReadInputSerializer, responses={200: MarkReadOutputSerializer})
    @action(detail=False, methods=["post"])
    def read(self, request):
        """Mark notifications read: {"ids": [1, 2]} or {"all": true}. Other people's ids are ignored."""
        data = MarkReadInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        marked = notification_mark_read(
            member=request.member,
            notification_ids=data.validated_data.get("ids"),
            all_unread=data.validated_data["all"],
            now=timezone.now(),
        )
        return Response({"marked": marked, "unread": notification_unread_count(member=request.member)})
