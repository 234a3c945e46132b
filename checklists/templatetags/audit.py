"""Audit labels in templates: a duty's record on its page names its events as the audit trail does."""

from django import template

from checklists.audit.selectors import audit_action_label

register = template.Library()


@register.filter
def audit_action(action: str, kind: str) -> str:
    """{{ event.action|audit_action:"duty" }}: the event's code as a label in the UI language."""
    return audit_action_label(kind=kind, action=action)
