"""Issue 15: a figure, a figure's change history or a target stored past its column's digits is cleared.

Before the fix the import and the figures form took values below 1e14 and rounded them (99999999999999.999 became
15 whole digits), and a target took the same range into a column of 12 whole digits; SQLite stored them and every
later read of the row failed (the board, the scorecard, the export). PostgreSQL's numeric refused them, so there is
nothing to clear there. Such a value was a typo and is not recoverable: a nullable column is set to NULL (the
history's before and after), a row whose value is required (the figure, the target) is deleted, as if never
entered. Reverse: nothing to restore.
"""

from decimal import Decimal

from django.db import migrations

COLUMNS = (
    ("roles", "MetricEntry", "value"),
    ("roles", "MetricEntryChange", "before"),
    ("roles", "MetricEntryChange", "after"),
    ("roles", "Target", "value"),
)


def values_past_their_columns_clear(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "sqlite":
        return
    for app, model_name, field_name in COLUMNS:
        model = apps.get_model(app, model_name)
        field = model._meta.get_field(field_name)
        limit = Decimal(10) ** (field.max_digits - field.decimal_places) - Decimal(10) ** -field.decimal_places
        table, column = connection.ops.quote_name(model._meta.db_table), connection.ops.quote_name(field.column)
        # The names are the model's own (quoted), never input.
        action = f"UPDATE {table} SET {column} = NULL" if field.null else f"DELETE FROM {table}"  # noqa: S608
        # CAST: SQLite orders any number below any text, so a text parameter would match nothing.
        with connection.cursor() as cursor:
            cursor.execute(f"{action} WHERE abs({column}) > CAST(%s AS NUMERIC)", [str(limit)])
            if cursor.rowcount:
                print(f"\n  {model._meta.db_table}.{field.column}: {cursor.rowcount} row(s) past {limit} cleared")


class Migration(migrations.Migration):
    dependencies = [
        ("roles", "0006_responsibilities"),
    ]

    operations = [migrations.RunPython(values_past_their_columns_clear, migrations.RunPython.noop, elidable=True)]
