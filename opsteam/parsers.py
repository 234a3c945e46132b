"""The API's JSON parser: DRF's, refusing bodies nested deeper than any request of this API (issue 15).

50,000 opening brackets made Python's JSON decoder raise RecursionError, a 500 even on the anonymous token URL.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from rest_framework import parsers
from rest_framework.exceptions import ParseError

# The deepest body the API takes is two levels ({"figures": {...}}); 32 leaves room and stays far from the
# interpreter's recursion limit for whatever walks the data afterwards.
MAX_DEPTH = 32


def json_depth_exceeds(data, limit: int = MAX_DEPTH) -> bool:
    """Whether lists and objects nest deeper than `limit`, walked without recursion."""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


class JSONParser(parsers.JSONParser):
    """DRF's JSONParser; too deep a body is a 400 that says so."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            data = None
            deep = True
        else:
            deep = json_depth_exceeds(data)
        if deep:
            raise ParseError(_("JSON parse error - nested deeper than %(limit)d levels.") % {"limit": MAX_DEPTH})
        return data
