"""What a person types into an address or a form's date box: dates within a documented range, ids a database holds.

Dates: 2001-01-01 to 2100-12-31 (DATE_MIN, DATE_MAX), the API's range since issue 7. A business date outside it
is a typo, and a page's "previous day" or "month to date" on 0001-01-01 or 9999-12-31 left Python's calendar
(OverflowError, a 500: issue 15). Every page and endpoint that takes a date reads it through date_parse.
"""

from __future__ import annotations

import re
from datetime import date

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _

DATE_MIN = date(2001, 1, 1)
DATE_MAX = date(2100, 12, 31)
# The largest id PostgreSQL's bigint and SQLite's INTEGER hold; a larger number is a typo, never a row.
ID_MAX = 2**63 - 1
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def date_range_message() -> str:
    return _("Choose a date between %(first)s and %(last)s.") % {"first": DATE_MIN.isoformat(), "last": DATE_MAX.isoformat()}


def date_in_range(day: date) -> bool:
    return DATE_MIN <= day <= DATE_MAX


def date_parse(raw, *, field: str | None = None) -> date | None:
    """'' or None → None; '2026-11-23' → that date; a malformed date or one outside the range is a ValidationError."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    text = str(raw).strip()
    try:
        day = date.fromisoformat(text) if ISO_DATE.fullmatch(text) else None  # not 20261123 or 2026-W48-1
    except ValueError:  # 2026-02-30
        day = None
    if day is None:
        message = _("Enter a date as YYYY-MM-DD, e.g. 2026-11-30.")
    elif not date_in_range(day):
        message = date_range_message()
    else:
        return day
    raise ValidationError({field: [message]} if field else message)


def date_query(request: HttpRequest, name: str = "date", *, default: date, notify: bool = True) -> date:
    """A page's YYYY-MM-DD query parameter: absent → default; malformed or out of range → default, and (notify) a
    message on the page that says so. Pages fall back rather than fail, as the board always has."""
    try:
        day = date_parse(request.GET.get(name))
    except ValidationError as exc:
        if notify:
            shown = {"value": request.GET.get(name, "")[:40], "reason": exc.messages[0], "day": default.isoformat()}
            messages.warning(request, _("“%(value)s” is not a date this page can show. %(reason)s It shows %(day)s.") % shown)
        return default
    return default if day is None else day


def id_parse(raw) -> int | None:
    """An object's id from an address or a form: a whole number from 1 to ID_MAX, else None (not a row)."""
    try:
        number = int(str(raw).strip())
    except (TypeError, ValueError):
        return None
    return number if 1 <= number <= ID_MAX else None
