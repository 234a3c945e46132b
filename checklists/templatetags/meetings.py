"""{{ notes|markdown }}: Markdown rendered and sanitised (opsteam.lib.text)."""

from django import template

from opsteam.lib.text import markdown_render

register = template.Library()


@register.filter(name="markdown")
def markdown_filter(text: str):
    return markdown_render(text or "")
