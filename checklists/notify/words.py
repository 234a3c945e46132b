"""A notification's words in the reader's language (issue 17).

A notification stores what happened (`event`) and its values; the words are made when it is read, in the
language the reader has chosen, not when it was written. title and body keep the words as sent (email and robots
send them at once, in the team's language) and are what older rows without an event show.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _


@dataclass(frozen=True)
class Words:
    title: str
    body: str


def _duty_assigned(values: dict, _notification) -> Words:
    return Words(
        title=_("New duty: %(title)s") % {"title": values.get("title", "")},
        body=_("Due %(due)s · %(source)s") % {"due": values.get("due", ""), "source": _source_label(values.get("source", ""))},
    )


def _nudge(values: dict, _notification) -> Words:
    lines = [f"- {text} ({_('due')} {due})" for text, due in values.get("items", [])]
    if values.get("more"):
        lines.append("- " + _("… and %(n)d more") % {"n": values["more"]})
    return Words(
        title=_("%(sender)s reminds you: %(n)d items due are still open") % {"sender": values.get("sender", ""), "n": values.get("n", 0)},
        body="\n".join(lines),
    )


def _source_label(source: str) -> str:
    from checklists.models import TaskSource

    return str(TaskSource(source).label) if source in TaskSource.values else source


# event -> render(values, notification). Rooms above notify add theirs at start-up (checklists.apps: the escalation
# chain's reminders and escalations, whose words live with the chain).
EVENTS = {"duty_assigned": _duty_assigned, "nudge": _nudge}


def notification_words(notification) -> Words:
    """The title and body to show, in the active language: from the event and its values, else as stored."""
    render = EVENTS.get(notification.event)
    if render is None:
        return Words(title=notification.title, body=notification.body)
    try:
        return render(notification.values or {}, notification)
    except (KeyError, TypeError, ValueError):  # values of an older shape: the words as sent
        return Words(title=notification.title, body=notification.body)
