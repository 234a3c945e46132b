"""{{ notes|markdown }}: Markdown rendered and sanitised (opsteam.lib.text)."""

from django import template

from opsteam.lib.text import markdown_render

register = template.Library()


@register.filter(name="markdown")
def markdown_filter(text: str):
    return markdown_render(text or "")


@register.filter(name="answer")
def answer_filter(answers: dict, key: str) -> str:
    """{{ reflection.answers|answer:key }}: one answer of a weekly reflection."""
    return (answers or {}).get(key, "")


@register.filter(name="notes_version")
def notes_version_filter(notes: str) -> str:
    """{{ item.notes|notes_version }}: the version a notes box starts from (a second writer's save is a conflict)."""
    from checklists.meetings.editing import notes_version

    return notes_version(notes or "")
