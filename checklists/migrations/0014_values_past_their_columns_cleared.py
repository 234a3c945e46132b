"""Issue 15: a tick's or a duty's value stored with more digits than its column holds is cleared (set to NULL).

Before the fix, 999999999999.999 passed the "< 1e12" check and was rounded to 13 whole digits; SQLite stored it
and every later read of the row failed (the today page, the lists, the board, the export, /audit/). PostgreSQL's
numeric(14, 2) refused such a value, so there is nothing to clear there. The value is not recoverable (it was a
typo); the tick's note and history are kept. Reverse: nothing to restore.
"""

from decimal import Decimal

from django.db import migrations

COLUMNS = (("checklists", "ChecklistItem", "value"), ("checklists", "Task", "value"))


def values_past_their_columns_clear(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "sqlite":
        return
    for app, model_name, field_name in COLUMNS:
        model = apps.get_model(app, model_name)
        field = model._meta.get_field(field_name)
        limit = Decimal(10) ** (field.max_digits - field.decimal_places) - Decimal(10) ** -field.decimal_places
        table, column = connection.ops.quote_name(model._meta.db_table), connection.ops.quote_name(field.column)
        # CAST: SQLite orders any number below any text, so a text parameter would match nothing.
        with connection.cursor() as cursor:
            cursor.execute(f"UPDATE {table} SET {column} = NULL WHERE abs({column}) > CAST(%s AS NUMERIC)", [str(limit)])  # noqa: S608 - names from the model
            if cursor.rowcount:
                print(f"\n  {model._meta.db_table}.{field.column}: {cursor.rowcount} value(s) past {limit} cleared")


class Migration(migrations.Migration):
    dependencies = [
        ("checklists", "0013_template_for_the_lead_only"),
    ]

    operations = [migrations.RunPython(values_past_their_columns_clear, migrations.RunPython.noop, elidable=True)]
