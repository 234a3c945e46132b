"""{% jinja "name.jinja" key=value %}: a Jinja2 part (opsteam/jinja2.py) placed in a Django template.

The parts every page shares (the head, the top bar, the messages) and the duty row are Jinja2 templates, so
that base.jinja (the today page) and Django's base.html draw them from one source. A part gets the page's
request and current member, and the values given; it is escaped by Jinja2 already.
"""

from django import template
from django.template import engines
from django.utils.safestring import mark_safe

register = template.Library()


@register.simple_tag(takes_context=True)
def jinja(context, name: str, **values) -> str:
    values.setdefault("current_member", context.get("current_member"))
    html = engines["jinja2"].get_template(name).render(values, context.request)
    return mark_safe(html)  # noqa: S308 (escaped by Jinja2's autoescape)
