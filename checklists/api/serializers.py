"""API shapes for checklists and ticks."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from checklists.models import Checklist, ChecklistItem, ItemStatus
from opsteam.api import IdField


class ChecklistItemSerializer(serializers.ModelSerializer):
    is_late = serializers.BooleanField(read_only=True)
    done_by = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)  # null until ticked (the schema says so)
    photo_url = serializers.SerializerMethodField()

    class Meta:
        model = ChecklistItem
        fields = [
            "id",
            "parent",
            "playbook_id",
            "order",
            "text",
            "kind",
            "target",
            "unit",
            "note_required",
            "is_group",
            "due_at",
            "status",
            "value",
            "text_value",
            "note",
            "photo_url",
            "done_at",
            "done_by",
            "is_late",
        ]
        read_only_fields = fields

    def get_photo_url(self, item: ChecklistItem) -> str | None:
        return f"/items/{item.pk}/photo/" if item.photo else None


class ChecklistSerializer(serializers.ModelSerializer):
    role = serializers.SlugRelatedField(slug_field="code", read_only=True)
    role_name = serializers.CharField(source="role.name", read_only=True)
    member_name = serializers.CharField(source="member.display_name", read_only=True)
    assignee_name = serializers.CharField(source="assignee.display_name", read_only=True)
    is_covered = serializers.BooleanField(read_only=True)
    items = ChecklistItemSerializer(many=True, read_only=True)

    class Meta:
        model = Checklist
        fields = ["id", "date", "name", "role", "role_name", "member", "member_name", "assignee", "assignee_name", "is_covered", "items"]
        read_only_fields = fields


# The tick and "my day" are the API's hot paths (issue 8): DRF builds a ModelSerializer's fields for every
# response and formats field by field, which cost more than the tick's SQL. These build the same dicts
# directly; the serializers above stay the schema, and tests/test_api.py asserts both give the same JSON.
_DATETIME = serializers.DateTimeField()
_VALUE = serializers.DecimalField(max_digits=14, decimal_places=2)


def item_data(item: ChecklistItem) -> dict:
    """ChecklistItemSerializer(item).data, without building the serializer."""
    return {
        "id": item.pk,
        "parent": item.parent_id,
        "playbook_id": item.playbook_id,
        "order": item.order,
        "text": item.text,
        "kind": item.kind,
        "target": item.target,
        "unit": item.unit,
        "note_required": item.note_required,
        "is_group": item.is_group,
        "due_at": _DATETIME.to_representation(item.due_at),
        "status": item.status,
        "value": None if item.value is None else _VALUE.to_representation(item.value),
        "text_value": item.text_value,
        "note": item.note,
        "photo_url": f"/items/{item.pk}/photo/" if item.photo else None,
        "done_at": None if item.done_at is None else _DATETIME.to_representation(item.done_at),
        "done_by": item.done_by_id,
        "is_late": item.is_late,
    }


def checklist_data(checklist: Checklist) -> dict:
    """ChecklistSerializer(checklist).data, with its prefetched items, without building the serializers."""
    return {
        "id": checklist.pk,
        "date": checklist.date.isoformat(),
        "name": checklist.name,
        "role": checklist.role.code,
        "role_name": checklist.role.name,
        "member": checklist.member_id,
        "member_name": checklist.member.display_name,
        "assignee": checklist.assignee_id,
        "assignee_name": checklist.assignee.display_name,
        "is_covered": checklist.is_covered,
        "items": [item_data(item) for item in checklist.items.all()],
    }


class TickInputSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=[ItemStatus.DONE, ItemStatus.NOT_DONE], default=ItemStatus.DONE)
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")
    value = serializers.DecimalField(required=False, allow_null=True, max_digits=14, decimal_places=2, default=None)
    text_value = serializers.CharField(required=False, allow_blank=True, max_length=500, default="")
    photo = serializers.FileField(required=False, allow_null=True, default=None)


class ChecklistQuerySerializer(serializers.Serializer):
    date = serializers.DateField(required=False, help_text=_("YYYY-MM-DD; default: today (Asia/Shanghai)"))
    member = IdField(required=False)

    def validate_date(self, value):
        if not (1 <= value.year - 2000 <= 100):
            raise serializers.ValidationError(_("Choose a date between 2001 and 2100."))
        return value


class TokenInputSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=128, style={"input_type": "password"}, trim_whitespace=False)


class TokenOutputSerializer(serializers.Serializer):
    token = serializers.CharField()
