"""API shapes for duties, escalations, problem orders, campaigns and plans."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from checklists.models import Campaign, Plan, ProblemKind, ProblemOrder, Task, TaskSource, TaskStatus
from opsteam.api import DateField, DateTimeField, IdField, NumberField


class TaskSerializer(serializers.ModelSerializer):
    role = serializers.SlugRelatedField(slug_field="code", read_only=True)
    owner_name = serializers.CharField(source="owner.display_name", read_only=True, default=None, allow_null=True)
    assignee_name = serializers.CharField(source="assignee.display_name", read_only=True, default=None, allow_null=True)
    is_late = serializers.BooleanField(read_only=True)

    class Meta:
        model = Task
        fields = [
            "id", "source", "playbook_id", "title", "detail", "role", "owner", "owner_name", "assignee", "assignee_name",
            "date", "due_at", "status", "target", "unit", "value", "note", "done_at", "done_by", "created_by", "created_at",
            "campaign", "plan", "plan_stage", "is_late",
        ]  # fmt: skip
        read_only_fields = fields


class TaskQuerySerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=TaskStatus.choices, required=False)
    mine = serializers.BooleanField(required=False, default=False)
    date = DateField(required=False)
    source = serializers.ChoiceField(choices=TaskSource.choices, required=False)


class TaskCreateSerializer(serializers.Serializer):
    """An assigned duty: to a member (owner) or to a role (its code, e.g. warehouse)."""

    title = serializers.CharField(max_length=200)
    detail = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)
    due_at = DateTimeField()
    owner = IdField(required=False, allow_null=True, default=None)
    role = serializers.CharField(required=False, allow_blank=True, default="", max_length=20)


class TaskCompleteSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)
    value = NumberField(required=False, allow_null=True, default=None)  # the column's DecimalField(14, 2)


class ProblemOrderSerializer(serializers.ModelSerializer):
    is_on_time = serializers.BooleanField(read_only=True, allow_null=True)

    class Meta:
        model = ProblemOrder
        fields = ["id", "order_no", "kind", "note", "logged_by", "logged_at", "due_at", "closed_at", "closed_by", "resolution", "task",
                  "is_on_time"]  # fmt: skip
        read_only_fields = fields


class ProblemOrderCreateSerializer(serializers.Serializer):
    order_no = serializers.CharField(max_length=64)
    kind = serializers.ChoiceField(choices=ProblemKind.choices, error_messages={"invalid_choice": _("Choose a kind from the list.")})
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)


class ProblemOrderCloseSerializer(serializers.Serializer):
    resolution = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)


class CampaignSerializer(serializers.ModelSerializer):
    tasks_total = serializers.IntegerField(read_only=True)
    tasks_done = serializers.IntegerField(read_only=True)

    class Meta:
        model = Campaign
        fields = ["id", "name", "date", "signup_date", "template", "created_by", "created_at", "tasks_total", "tasks_done"]
        read_only_fields = fields


class CampaignCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    date = DateField()
    signup_date = DateField(required=False, allow_null=True, default=None, help_text=_("报名日: T-CAMPAIGN-3 counts from it"))
    template = IdField(required=False, allow_null=True, default=None, help_text=_("Empty: the playbook's T-CAMPAIGN"))


class PlanSerializer(serializers.ModelSerializer):
    class Meta:
        model = Plan
        fields = ["id", "title", "proposal", "stage", "status", "created_by", "created_at"]
        read_only_fields = fields


class PlanCreateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    proposal = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)
