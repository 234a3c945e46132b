"""Template helpers for the board (issue 5)."""

from urllib.parse import urlencode

from django import template
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from roles.selectors import Level, member_level

register = template.Library()


@register.filter
def can_see_board(member) -> bool:
    """The top bar shows the board to the director and the role leads (staff get a 403 there)."""
    return member is not None and member_level(member=member) in (Level.LEAD, Level.DIRECTOR, Level.ADMIN)


@register.filter
def percent(value) -> str:
    """0.8765 -> 88%"""
    return "" if value is None else f"{value * 100:.0f}%"


@register.simple_tag
def completion_cells(items_url: str, day: str, role_id: int, completion, member_id: int | None = None) -> str:
    """A board row's count cells (done/total, late, not done, missed, %), each a link to the items behind it.

    Built here rather than in the template: 500 people x 5 links through the template engine cost more
    than all of the board's queries (bench/board.py).
    """
    query = urlencode({"date": day, "role": role_id, **({"member": member_id} if member_id else {})})
    base = f"{items_url}?{query}"
    cells = [format_html('<td class="n"><a class="count" href="{}">{}/{}</a></td>', base, completion.done, completion.total)]
    for status in ("late", "not_done", "missed"):
        count = getattr(completion, status)
        test_id = format_html(' data-testid="{}-{}"', status, member_id) if member_id and status != "not_done" else ""
        cells.append(
            format_html(
                '<td class="n"><a class="count {}"{} href="{}&amp;status={}">{}</a></td>',
                "hot" if count else "zero",
                test_id,
                base,
                status,
                count,
            )
        )
    cells.append(format_html('<td class="n">{}%</td>', completion.percent))
    return mark_safe("".join(cells))  # noqa: S308 - every part above went through format_html
