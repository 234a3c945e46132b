"""Shared API pieces: the exception handler that turns Django errors into clear 4xx answers, and the id field."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from opsteam.lib import idempotency
from opsteam.lib.numbers import DECIMAL_PLACES, MAX_DIGITS, decimal_parse
from opsteam.lib.params import ID_MAX, date_in_range, date_range_message


def exception_handler(exc, context):
    """Services raise Django's ValidationError; the API answers 400 with the same message."""
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        exc = exceptions.ValidationError(detail=detail)
    return drf_exception_handler(exc, context)


class IdField(serializers.IntegerField):
    """An object's id in a query or body: a positive whole number that a database column can hold."""

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", ID_MAX)
        message = _("Not a valid ID: use the id number shown by the list.")
        kwargs["error_messages"] = {"min_value": message, "max_value": message, **kwargs.get("error_messages", {})}
        super().__init__(**kwargs)


# --- creating once (opsteam.lib.idempotency) ---------------------------------------------------------------------------

IDEMPOTENCY_KEY_PARAMETER = OpenApiParameter(
    name=idempotency.HEADER,
    type=str,
    location=OpenApiParameter.HEADER,
    required=False,
    description=(
        "Any unique string of at most 64 letters, digits, - _ . or : (a UUID is best). A repeat of this create with the same "
        "key, by the same member, creates nothing and answers 201 with the object the first request created."
    ),
)


def idempotency_key_from(request) -> str | None:
    """The request's Idempotency-Key header; a malformed one is a 400 naming idempotency_key."""
    return idempotency.idempotency_key_clean(request.headers.get(idempotency.HEADER))


def created_response(data, *, obj) -> Response:
    """201 with the created object; for a repeat of an earlier create, the same, marked Idempotent-Replayed."""
    response = Response(data, status=status.HTTP_201_CREATED)
    if getattr(obj, "replayed", False):
        response["Idempotent-Replayed"] = "true"
    return response


class NumberField(serializers.DecimalField):
    """A number a person sends: parsed by opsteam.lib.numbers.decimal_parse, as the pages parse it (issue 15).

    Rounded half up to the column's places and then checked against its digits, with the page's message that names
    the limit; NaN, infinities and 1e1000000 are refused. The schema stays DRF's decimal string.
    """

    def __init__(self, *, max_digits: int = MAX_DIGITS, decimal_places: int = DECIMAL_PLACES, allow_negative: bool = True, **kwargs):
        self.allow_negative = allow_negative
        super().__init__(max_digits=max_digits, decimal_places=decimal_places, **kwargs)

    def to_internal_value(self, data):
        try:
            value = decimal_parse(
                data, field=None, max_digits=self.max_digits, decimal_places=self.decimal_places, allow_negative=self.allow_negative
            )
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from None
        if value is None:  # "-" or a blank text where allow_null is off
            self.fail("invalid")
        return value


class DateField(serializers.DateField):
    """A business date in a query or body: YYYY-MM-DD between 2001-01-01 and 2100-12-31 (opsteam.lib.params).

    Outside the range a date is a typo, and a day's neighbours or its month left Python's calendar (issue 15)."""

    def to_internal_value(self, value):
        day = super().to_internal_value(value)
        if not date_in_range(day):
            raise serializers.ValidationError(date_range_message())
        return day


class DateTimeField(serializers.DateTimeField):
    """An instant in a body (a duty's due time): its business date within the same range as DateField."""

    def to_internal_value(self, value):
        moment = super().to_internal_value(value)
        if not date_in_range(moment.date()):  # 9999-12-31T23:00 in UTC is the year 10000 in Shanghai
            raise serializers.ValidationError(date_range_message())
        return moment
