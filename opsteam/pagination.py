"""API list pagination: `limit` and `offset`, with a ceiling on `limit`."""

from __future__ import annotations

from rest_framework.pagination import LimitOffsetPagination


class Pagination(LimitOffsetPagination):
    """100 rows a page by default (PAGE_SIZE); a caller may ask for up to 500.

    Without a ceiling, ?limit=<30 digits> reached the database as a LIMIT it cannot hold (schemathesis found it).
    """

    max_limit = 500
