"""Shared API pieces: the exception handler that turns Django errors into clear 4xx answers, and the id field."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, serializers
from rest_framework.views import exception_handler as drf_exception_handler


def exception_handler(exc, context):
    """Services raise Django's ValidationError; the API answers 400 with the same message."""
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        exc = exceptions.ValidationError(detail=detail)
    return drf_exception_handler(exc, context)


# The largest id PostgreSQL's bigint and SQLite's INTEGER hold; a larger number is a typo, never a row.
ID_MAX = 2**63 - 1


class IdField(serializers.IntegerField):
    """An object's id in a query or body: a positive whole number that a database column can hold."""

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", ID_MAX)
        message = _("Not a valid ID: use the id number shown by the list.")
        kwargs["error_messages"] = {"min_value": message, "max_value": message, **kwargs.get("error_messages", {})}
        super().__init__(**kwargs)
