"""The escalations' API shapes."""

from __future__ import annotations

from rest_framework import serializers

from checklists.models import Escalation, EscalationStatus


class EscalationSerializer(serializers.ModelSerializer):
    subject = serializers.SerializerMethodField()
    recipient_name = serializers.CharField(source="recipient.display_name", read_only=True, default=None)
    acknowledged_by_name = serializers.CharField(source="acknowledged_by.display_name", read_only=True, default=None, allow_null=True)

    class Meta:
        model = Escalation
        fields = [
            "id", "item", "task", "subject", "level_order", "notify", "role", "recipient", "recipient_name", "due_at",
            "raised_at", "status", "acknowledged_at", "acknowledged_by", "acknowledged_by_name", "resolved_at", "repeats_sent",
        ]  # fmt: skip
        read_only_fields = fields

    def get_subject(self, escalation: Escalation) -> str:
        return escalation.item.text if escalation.item_id else escalation.task.title


class EscalationQuerySerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=EscalationStatus.choices, required=False)
