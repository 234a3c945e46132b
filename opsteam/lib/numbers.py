"""Numbers typed by people: the one parser for counts, amounts and weights, with messages a shop worker understands.

Every number a person types (the page forms, the API's bodies, the KPI import) goes through decimal_parse, which
checks the value AFTER rounding it to the column's places against the column's digits: 999999999999.999 rounds to
1000000000000.00, one digit more than a DecimalField(max_digits=14, decimal_places=2) holds, and is refused
(issue 15: SQLite stored it and every later read of the row failed; PostgreSQL refused it with a 500).
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Context, Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

# Ticks' and duties' values: DecimalField(max_digits=14, decimal_places=2), at most 999,999,999,999.99.
MAX_DIGITS = 14
DECIMAL_PLACES = 2
# Longer than any number a person types; a megabyte of digits is refused before it is parsed.
MAX_TEXT = 100
# 1,234,567.50 as shops write it: commas only between groups of three digits ("1,5" is not 15).
GROUPED = re.compile(r"[+-]?\d{1,3}(,\d{3})+(\.\d*)?")
# Currency marks and full-width commas an export or a phone keyboard adds.
DECORATION = str.maketrans({"¥": None, "￥": None, "元": None, "，": ","})


def column_digits(column) -> tuple[int, int]:
    """(max_digits, decimal_places) of a model's DecimalField: the limits a value must fit after rounding."""
    return column.max_digits, column.decimal_places


def number_limit(*, max_digits: int = MAX_DIGITS, decimal_places: int = DECIMAL_PLACES) -> Decimal:
    """The largest value a column holds: 999999999999.99 for (14, 2)."""
    return Decimal(10) ** (max_digits - decimal_places) - Decimal(10) ** -decimal_places


def number_limit_text(*, max_digits: int = MAX_DIGITS, decimal_places: int = DECIMAL_PLACES) -> str:
    """The limit as a message shows it: 999,999,999,999.99."""
    return f"{number_limit(max_digits=max_digits, decimal_places=decimal_places):,.{decimal_places}f}"


def decimal_parse(
    raw,
    *,
    field: str | None = "value",
    label: str | None = None,
    column=None,
    max_digits: int = MAX_DIGITS,
    decimal_places: int = DECIMAL_PLACES,
    allow_negative: bool = True,
) -> Decimal | None:
    """'' or None → None; '3.5' → Decimal('3.50'); anything else is a ValidationError.

    column (a model's DecimalField) gives max_digits and decimal_places. The value is rounded half up to the
    places, then refused if it has more digits than the column holds. NaN, infinities, huge exponents (1e1000000)
    and texts longer than MAX_TEXT are refused without arithmetic on them. The error is keyed by `field` (None: a
    plain message), and each message starts with `label` when one is given (the import's "访客数: …").
    """
    if column is not None:
        max_digits, decimal_places = column_digits(column)
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, str | int | float | Decimal):
        _refuse(_not_a_number(raw, label), field)
    text = str(raw).strip().translate(DECORATION).strip()
    if text in ("", "-", "—") and isinstance(raw, str):
        return None
    if GROUPED.fullmatch(text):
        text = text.replace(",", "")
    value = None
    if len(text) <= MAX_TEXT:
        try:
            value = Decimal(text)
        except (InvalidOperation, ValueError):
            value = None
    if value is None or not value.is_finite():
        _refuse(_not_a_number(raw, label), field)
    if not allow_negative and value < 0:
        message = _("%(label)s cannot be negative (%(value)s).") % {"label": label, "value": raw} if label else _("Enter 0 or more.")
        _refuse(message, field)
    whole_digits = max_digits - decimal_places
    # adjusted() is the power of ten of the first digit: checked before any arithmetic, so 1e1000000 is "too
    # large", not decimal.Overflow. A value that passes has at most whole_digits + 1 digits before the point.
    if value and value.adjusted() >= whole_digits:
        _refuse(_too_large(raw, label, max_digits=max_digits, decimal_places=decimal_places), field)
    # A context wide enough for the column: quantize cannot raise, tiny exponents (1e-999999) round to zero.
    context = Context(prec=max_digits + 2, rounding=ROUND_HALF_UP)
    rounded = value.quantize(Decimal(10) ** -decimal_places, context=context) if value.adjusted() > -decimal_places - 2 else None
    if rounded is None:
        rounded = Decimal(0).quantize(Decimal(10) ** -decimal_places)
    if abs(rounded) > number_limit(max_digits=max_digits, decimal_places=decimal_places):  # 999999999999.999 → 10^12
        _refuse(_too_large(raw, label, max_digits=max_digits, decimal_places=decimal_places), field)
    return rounded


def _not_a_number(raw, label: str | None) -> str:
    if label:
        return _("%(label)s: “%(value)s” is not a number.") % {"label": label, "value": _shown(raw)}
    return _("Enter a number, e.g. 10 or 3.5.")


def _too_large(raw, label: str | None, *, max_digits: int, decimal_places: int) -> str:
    limit = number_limit_text(max_digits=max_digits, decimal_places=decimal_places)
    if label:
        return _("%(label)s is too large (%(value)s): the largest is %(limit)s.") % {"label": label, "value": _shown(raw), "limit": limit}
    return _("This number is too large: the largest is %(limit)s.") % {"limit": limit}


def _shown(raw) -> str:
    text = str(raw)
    return text if len(text) <= 40 else text[:40] + "…"


def _refuse(message: str, field: str | None):
    raise ValidationError({field: [message]} if field else message)


# A weekday's share of a month's target (the targets page's seven weights): relative, so 1 and 1.5 are typical.
WEIGHT_DIGITS, WEIGHT_PLACES = 8, 4


def weights_parse(raw: list) -> list[float]:
    """Seven weekday weights as typed ('' is 0) → floats; NaN, infinities, negatives and huge ones are refused."""
    weights = []
    for weight in raw:
        try:
            number = decimal_parse(
                "0" if weight in ("", None) else weight,
                field=None,
                max_digits=WEIGHT_DIGITS,
                decimal_places=WEIGHT_PLACES,
                allow_negative=False,
            )
        except ValidationError:
            limit = f"{10 ** (WEIGHT_DIGITS - WEIGHT_PLACES):,}"
            raise ValidationError(
                _("Weekday weights are numbers from 0 to below %(limit)s, e.g. 1 or 1.5 (“%(value)s” is not one).")
                % {"limit": limit, "value": _shown(weight)}
            ) from None
        weights.append(float(number))
    return weights
