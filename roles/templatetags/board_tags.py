"""Template helpers for the board (issue 5)."""

from django import template

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
