"""The bell in the header: the signed-in member's unread count, one query per page; in-app message bodies."""

from django import template
from django.conf import settings
from django.template.loader import render_to_string

from checklists.notify.selectors import notification_unread_count

register = template.Library()


@register.simple_tag
def notification_bell(member, oob: bool = False) -> str:
    """The bell out of band, after a message is marked read (the top bar draws it in _topbar.html)."""
    unread = notification_unread_count(member=member) if member else 0
    return render_to_string("checklists/_bell.html", {"unread": unread, "oob": oob})


@register.filter(name="in_app")
def in_app_filter(body: str) -> str:
    """A message's links to OpsTeam itself, made relative: in the app they open where the app runs.

    Email and robot messages need OPSTEAM_BASE_URL's absolute links; a page must not depend on it being right.
    """
    base = settings.OPSTEAM_BASE_URL.rstrip("/")
    return (body or "").replace(f"]({base}/", "](/")


@register.simple_tag
def notification_words(notification):
    """{% notification_words n as words %}: its title and body in the reader's language (checklists.notify.words)."""
    from checklists.notify.words import notification_words as words

    return words(notification)


@register.filter(name="failure")
def failure_filter(delivery) -> str:
    """{{ delivery|failure }}: its error code as a sentence in the reader's language."""
    from checklists.notify.robots import delivery_failure_label

    return delivery_failure_label(channel=delivery.channel, error_code=delivery.error_code)
