"""Numbers typed by people: one parser for counts and amounts, with messages a shop worker understands."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

# Larger than any count or amount a shop enters, and what the DecimalField(max_digits=14, 2 places) holds.
LIMIT = Decimal("1e12")


def decimal_parse(raw, *, field: str = "value") -> Decimal | None:
    """'' or None → None; '3.5' → Decimal('3.50'); anything else is a ValidationError on `field`."""
    if raw is None or raw == "":
        return None
    try:
        value = Decimal(str(raw).strip())
    except (InvalidOperation, ValueError):
        raise ValidationError({field: _("Enter a number, e.g. 10 or 3.5.")}) from None
    if not value.is_finite() or abs(value) >= LIMIT:
        raise ValidationError({field: _("This number is out of range.")})
    return value.quantize(Decimal("0.01"))
