"""Database helpers the hot paths share (issue 8)."""

from __future__ import annotations

import functools

from django.db import connection

# psycopg prepares a statement on its fifth run on a connection (opsteam.lib.env sets prepare_threshold for
# PostgreSQL; Django leaves it off). Only cursors that bind on the server prepare: the ORM's never do.
PREPARE_THRESHOLD = 5


def prepared_cursor():
    """A cursor on the default PostgreSQL connection whose statements the server plans once per connection.

    Django binds parameters on the client, so PostgreSQL parses and plans every statement anew: for the
    tick's statement and the token's join that is about half of their time. This cursor binds on the
    server, so psycopg prepares what it runs often, and with persistent connections (DATABASE_CONN_MAX_AGE)
    a statement is planned once. It is still Django's cursor wrapper: errors are Django's, and tests' query
    counts see its statements. Only for a few fixed hand-written statements; behind PgBouncer in transaction
    mode, use PgBouncer 1.21+ with max_prepared_statements set (docs/deployment.md). On another database (SQLite:
    the fast tier, `make run`) it is the usual cursor.
    """
    if connection.vendor != "postgresql":
        return connection.cursor()
    from django.db.backends.postgresql.base import ServerBindingCursor

    connection.close_if_health_check_failed()
    connection.ensure_connection()
    with connection.wrap_database_errors:
        raw = ServerBindingCursor(connection.connection)
    return connection.make_debug_cursor(raw) if connection.queries_logged else connection.make_cursor(raw)


@functools.cache
def _fields(model, only: tuple[str, ...] | None) -> tuple:
    fields = model._meta.concrete_fields
    return tuple(fields) if only is None else tuple(field for field in fields if field.attname in only)


def model_columns(model, alias: str, only: tuple[str, ...] | None = None) -> str:
    """The model's columns by name, in field order, for a hand-written SELECT (see model_from_row).

    Named, not alias.*: a column added by a migration would change a prepared statement's result type, and
    web workers still running the old code would fail until they reconnect. `only` (attribute names, the
    primary key first) leaves the others deferred, as QuerySet.only() does.
    """
    return ", ".join(f'{alias}."{field.column}"' for field in _fields(model, only))


def model_width(model, only: tuple[str, ...] | None = None) -> int:
    return len(_fields(model, only))


@functools.cache
def row_slices(*parts: tuple) -> tuple[slice, ...]:
    """Where each (model, only) part of a SELECT of consecutive model_columns lies in its rows, in order."""
    slices, start = [], 0
    for model, only in parts:
        end = start + model_width(model, only)
        slices.append(slice(start, end))
        start = end
    return tuple(slices)


@functools.cache
def _attnames(model, only: tuple[str, ...] | None) -> list[str]:
    return [field.attname for field in _fields(model, only)]


def model_from_row(model, values, only: tuple[str, ...] | None = None):
    """A model instance from a row's slice of model_columns, as the ORM builds it; None for a LEFT JOIN's missing row."""
    if values[0] is None:
        return None
    return model.from_db(connection.alias, _attnames(model, only), values)
