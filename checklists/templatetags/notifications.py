"""The bell in the header: the signed-in member's unread count, one query per page."""

from django import template

from checklists.selectors.notifications import notification_unread_count

register = template.Library()


@register.inclusion_tag("checklists/_bell.html")
def notification_bell(member, oob: bool = False) -> dict:
    return {"unread": notification_unread_count(member=member) if member else 0, "oob": oob}
