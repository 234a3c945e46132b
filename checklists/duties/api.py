"""Duties, escalations, problem orders, campaigns and plans over the API. Same services as the pages.

A service's PermissionDenied becomes a 403 with its message in DRF's own exception handler.
"""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from checklists.daily.api import IsTeamMember
from checklists.duties import serializers as s
from checklists.duties.campaigns import campaign_create
from checklists.duties.problems import problem_order_close, problem_order_log
from checklists.duties.selectors import (
    campaign_access_by_id,
    campaign_list,
    plan_access_by_id,
    plan_list,
    problem_order_access_by_id,
    problem_order_list,
    task_access_by_id,
    task_list,
)
from checklists.duties.services import plan_create, task_assign, task_complete
from checklists.models import Campaign, CampaignTemplate, Plan, ProblemOrder, Task
from opsteam.api import IDEMPOTENCY_KEY_PARAMETER, created_response, idempotency_key_from
from opsteam.lib.net import client_ip
from roles.models import Member, Role


class TaskViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Duties the caller may see; POST assigns one (a lead for their role, the director for anyone)."""

    serializer_class = s.TaskSerializer
    permission_classes = [IsTeamMember]
    queryset = Task.objects.none()

    def get_queryset(self):
        if self.action == "list":
            query = s.TaskQuerySerializer(data=self.request.query_params)
            query.is_valid(raise_exception=True)
            data = query.validated_data
            return task_list(
                viewer=self.request.member, status=data.get("status"), mine=data.get("mine", False), day=data.get("date"),
                source=data.get("source"),
            )  # fmt: skip
        return task_list(viewer=self.request.member)

    @extend_schema(parameters=[s.TaskQuerySerializer])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    def retrieve(self, request, pk=None):
        return Response(s.TaskSerializer(task_access_by_id(viewer=request.member, task_id=pk)).data)

    @extend_schema(request=s.TaskCreateSerializer, responses={201: s.TaskSerializer}, parameters=[IDEMPOTENCY_KEY_PARAMETER])
    def create(self, request):
        key = idempotency_key_from(request)
        data = s.TaskCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        member = request.member
        owner = role = None
        if data.validated_data["owner"] is not None:
            # Another team's member ID is treated as unknown: nobody learns it exists.
            owner = Member.objects.visible_to(member).filter(pk=data.validated_data["owner"]).first()
            if owner is None:
                raise exceptions.ValidationError({"owner": [_("This member is not in your team.")]})
        if data.validated_data["role"]:
            role = Role.objects.filter(team_id=member.team_id, code=data.validated_data["role"]).first()
            if role is None:
                raise exceptions.ValidationError({"role": [_("No such role in your team.")]})
        task = task_assign(
            member=member, title=data.validated_data["title"], detail=data.validated_data["detail"],
            due_at=data.validated_data["due_at"], owner=owner, role=role, now=timezone.now(), ip=client_ip(request),
            idempotency_key=key,
        )  # fmt: skip
        return created_response(s.TaskSerializer(task).data, obj=task)

    @extend_schema(request=s.TaskCompleteSerializer, responses={200: s.TaskSerializer})
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        task = task_access_by_id(viewer=request.member, task_id=pk)
        data = s.TaskCompleteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        task = task_complete(task=task, member=request.member, now=timezone.now(), ip=client_ip(request), **data.validated_data)
        return Response(s.TaskSerializer(task).data)


class ProblemOrderViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Problem orders (T-24H) and orders to ship (T-SHIP): log one, close it."""

    serializer_class = s.ProblemOrderSerializer
    permission_classes = [IsTeamMember]
    queryset = ProblemOrder.objects.none()

    def get_queryset(self):
        return problem_order_list(viewer=self.request.member, open_only=self.request.query_params.get("open") in ("1", "true"))

    def retrieve(self, request, pk=None):
        return Response(s.ProblemOrderSerializer(problem_order_access_by_id(viewer=request.member, problem_id=pk)).data)

    @extend_schema(request=s.ProblemOrderCreateSerializer, responses={201: s.ProblemOrderSerializer})
    def create(self, request):
        data = s.ProblemOrderCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        problem = problem_order_log(member=request.member, now=timezone.now(), ip=client_ip(request), **data.validated_data)
        return Response(s.ProblemOrderSerializer(problem).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.ProblemOrderCloseSerializer, responses={200: s.ProblemOrderSerializer})
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        problem = problem_order_access_by_id(viewer=request.member, problem_id=pk)
        data = s.ProblemOrderCloseSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        problem = problem_order_close(
            problem=problem, member=request.member, now=timezone.now(), ip=client_ip(request), **data.validated_data
        )
        return Response(s.ProblemOrderSerializer(problem).data)


class CampaignViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Campaigns (T-CAMPAIGN): a lead or the director creates one and gets duties per role."""

    serializer_class = s.CampaignSerializer
    permission_classes = [IsTeamMember]
    queryset = Campaign.objects.none()

    def get_queryset(self):
        return campaign_list(viewer=self.request.member)

    def retrieve(self, request, pk=None):
        return Response(s.CampaignSerializer(campaign_access_by_id(viewer=request.member, campaign_id=pk)).data)

    @extend_schema(request=s.CampaignCreateSerializer, responses={201: s.CampaignSerializer})
    def create(self, request):
        data = s.CampaignCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        templates = CampaignTemplate.objects.filter(team_id=request.member.team_id, is_active=True)
        template_id = data.validated_data["template"]
        template = templates.filter(pk=template_id).first() if template_id else templates.order_by("pk").first()
        if template is None:
            raise exceptions.ValidationError({"template": [_("No such campaign template in your team.")]})
        campaign = campaign_create(
            member=request.member, template=template, name=data.validated_data["name"], day=data.validated_data["date"],
            signup_date=data.validated_data["signup_date"], now=timezone.now(), ip=client_ip(request),
        )  # fmt: skip
        return Response(s.CampaignSerializer(campaign_access_by_id(viewer=request.member, campaign_id=campaign.pk)).data, status=201)


class PlanViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Plans (T-PLAN): the director's proposal, stage by stage."""

    serializer_class = s.PlanSerializer
    permission_classes = [IsTeamMember]
    queryset = Plan.objects.none()

    def get_queryset(self):
        return plan_list(viewer=self.request.member)

    def retrieve(self, request, pk=None):
        return Response(s.PlanSerializer(plan_access_by_id(viewer=request.member, plan_id=pk)).data)

    @extend_schema(request=s.PlanCreateSerializer, responses={201: s.PlanSerializer}, parameters=[IDEMPOTENCY_KEY_PARAMETER])
    def create(self, request):
        key = idempotency_key_from(request)
        data = s.PlanCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        plan = plan_create(member=request.member, now=timezone.now(), idempotency_key=key, **data.validated_data)
        return created_response(s.PlanSerializer(plan).data, obj=plan)
