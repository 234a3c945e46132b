"""API shapes for checklists and ticks."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from checklists.models import Checklist, ChecklistItem, ItemStatus
from opsteam.api import DateField, IdField, NumberField


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
        return f"/api/v1/checklist-items/{item.pk}/photo/" if item.photo else None


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


# The columns the answers are built from, by attribute name (a model instance) or value name (a .values() row).
ITEM_FIELDS = (
    "id", "parent_id", "playbook_id", "order", "text", "kind", "target", "unit", "note_required", "is_group", "due_at",
    "status", "value", "text_value", "note", "photo", "done_at", "done_by_id",
)  # fmt: skip
LIST_FIELDS = (
    "id", "date", "name", "role__code", "role__name", "member_id", "member__display_name", "assignee_id", "assignee__display_name",
)  # fmt: skip


def item_row_data(row: dict) -> dict:
    """ChecklistItemSerializer's answer for one item, from its ITEM_FIELDS."""
    done_at = row["done_at"]
    return {
        "id": row["id"],
        "parent": row["parent_id"],
        "playbook_id": row["playbook_id"],
        "order": row["order"],
        "text": row["text"],
        "kind": row["kind"],
        "target": row["target"],
        "unit": row["unit"],
        "note_required": row["note_required"],
        "is_group": row["is_group"],
        "due_at": _DATETIME.to_representation(row["due_at"]),
        "status": row["status"],
        "value": None if row["value"] is None else _VALUE.to_representation(row["value"]),
        "text_value": row["text_value"],
        "note": row["note"],
        "photo_url": f"/api/v1/checklist-items/{row['id']}/photo/" if row["photo"] else None,
        "done_at": None if done_at is None else _DATETIME.to_representation(done_at),
        "done_by": row["done_by_id"],
        # ChecklistItem.is_late, on the row's values.
        "is_late": row["status"] == "done" and done_at is not None and done_at > row["due_at"],
    }


def item_data(item: ChecklistItem) -> dict:
    """ChecklistItemSerializer(item).data, without building the serializer."""
    return item_row_data({name: getattr(item, name) for name in ITEM_FIELDS})


def _list_row_data(row: dict, items: list[dict]) -> dict:
    return {
        "id": row["id"],
        "date": row["date"].isoformat(),
        "name": row["name"],
        "role": row["role__code"],
        "role_name": row["role__name"],
        "member": row["member_id"],
        "member_name": row["member__display_name"],
        "assignee": row["assignee_id"],
        "assignee_name": row["assignee__display_name"],
        "is_covered": row["member_id"] != row["assignee_id"],
        "items": items,
    }


def checklist_data(checklist: Checklist) -> dict:
    """ChecklistSerializer(checklist).data, with its prefetched items, without building the serializers."""
    row = {name: getattr(checklist, name) for name in ("id", "date", "name", "member_id", "assignee_id")}
    row |= {
        "role__code": checklist.role.code,
        "role__name": checklist.role.name,
        "member__display_name": checklist.member.display_name,
        "assignee__display_name": checklist.assignee.display_name,
    }
    return _list_row_data(row, [item_data(item) for item in checklist.items.all()])


def checklists_data(checklists: QuerySet[Checklist]) -> list[dict]:
    """ChecklistSerializer(checklists, many=True).data, read as plain rows: the lists and their items in one query.

    The lists LEFT JOIN their items (a list without items still comes, with NULLs), in the lists' order and then
    the items'; no model instance is built for the 25 items of a member's day (issue 8).
    """
    paths = [f"items__{name}" for name in ITEM_FIELDS]
    ordering = [*(checklists.query.order_by or Checklist._meta.ordering), "items__order", "items__id"]
    answer: list[dict] = []
    current_id = None
    for row in checklists.prefetch_related(None).values(*LIST_FIELDS, *paths).order_by(*ordering):
        if row["id"] != current_id:
            current_id = row["id"]
            answer.append(_list_row_data(row, []))
        if row["items__id"] is not None:
            answer[-1]["items"].append(item_row_data({name: row[path] for name, path in zip(ITEM_FIELDS, paths, strict=True)}))
    return answer


class TickInputSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=[ItemStatus.DONE, ItemStatus.NOT_DONE], default=ItemStatus.DONE)
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")
    value = NumberField(required=False, allow_null=True, default=None)  # the column's DecimalField(14, 2)
    text_value = serializers.CharField(required=False, allow_blank=True, max_length=500, default="")
    photo = serializers.FileField(required=False, allow_null=True, default=None)


class ChecklistQuerySerializer(serializers.Serializer):
    date = DateField(required=False, help_text=_("YYYY-MM-DD; default: today (Asia/Shanghai)"))
    member = IdField(required=False)


class TokenInputSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=128, style={"input_type": "password"}, trim_whitespace=False)


class TokenOutputSerializer(serializers.Serializer):
    token = serializers.CharField()
