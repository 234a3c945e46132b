"""{% idempotency_field %}: the hidden key a page form sends so that a double tap creates one row (opsteam.lib.idempotency)."""

import uuid

from django import template
from django.utils.html import format_html

from opsteam.lib.idempotency import FORM_FIELD

register = template.Library()


@register.simple_tag
def idempotency_field() -> str:
    """A fresh key each time the form is drawn: a resubmission of this drawing repeats it, a new drawing is a new create."""
    return format_html('<input type="hidden" name="{}" value="{}">', FORM_FIELD, uuid.uuid4())
