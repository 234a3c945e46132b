"""/api/v1/escalations/: list, read, acknowledge."""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from checklists.daily.api import IsTeamMember
from checklists.escalation import serializers as s
from checklists.escalation.acknowledging import escalation_acknowledge
from checklists.escalation.selectors import escalation_access_by_id, escalation_list
from checklists.models import Escalation
from opsteam.lib.net import client_ip


class EscalationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Escalations sent to the caller, or for their roles as lead, or the team's for the director."""

    serializer_class = s.EscalationSerializer
    permission_classes = [IsTeamMember]
    queryset = Escalation.objects.none()

    def get_queryset(self):
        query = s.EscalationQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        return escalation_list(viewer=self.request.member, status=query.validated_data.get("status"))

    @extend_schema(parameters=[s.EscalationQuerySerializer])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    def retrieve(self, request, pk=None):
        return Response(s.EscalationSerializer(escalation_access_by_id(viewer=request.member, escalation_id=pk)).data)

    @extend_schema(request=None, responses={200: s.EscalationSerializer})
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, pk=None):
        escalation = escalation_access_by_id(viewer=request.member, escalation_id=pk)
        escalation = escalation_acknowledge(escalation=escalation, member=request.member, now=timezone.now(), ip=client_ip(request))
        return Response(s.EscalationSerializer(escalation_access_by_id(viewer=request.member, escalation_id=escalation.pk)).data)
