"""A notification's recipient and its escalation links lose the index another index already starts with (issue 8).

- Notification.recipient: the bell's (recipient, read_at) index serves every lookup by recipient.
- Notification.escalations' table (made by Django for the many-to-many) is written out as NotificationEscalation,
  the same table; its notification_id index goes, since the pair's unique index starts with notification_id.
  A sweep writes one link per escalation: one index fewer to keep at each.
"""

import django.db.models.deletion
from django.db import migrations, models

# The index names Django gave them (the same on PostgreSQL and SQLite). Dropped by name, so that the foreign
# keys stay as they are: Django's AlterField would drop and re-add them, checking every row of a large table.
RECIPIENT_INDEX = "checklists_notification_recipient_id_aa5250c5"
LINK_INDEX = "checklists_notification_escalations_notification_id_b7932306"


class Migration(migrations.Migration):
    dependencies = [
        ("checklists", "0009_tick_on_behalf_partial_index"),
        ("roles", "0005_metric_entry_change_history"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="notification",
                    name="recipient",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="notifications",
                        to="roles.member",
                        verbose_name="recipient",
                    ),
                ),
                # The table as Django made it, now a model of its own.
                migrations.CreateModel(
                    name="NotificationEscalation",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        (
                            "notification",
                            models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, to="checklists.notification"),
                        ),
                        ("escalation", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, to="checklists.escalation")),
                    ],
                    options={
                        "db_table": "checklists_notification_escalations",
                        "unique_together": {("notification", "escalation")},
                    },
                ),
                migrations.AlterField(
                    model_name="notification",
                    name="escalations",
                    field=models.ManyToManyField(
                        blank=True, related_name="notifications", through="checklists.NotificationEscalation", to="checklists.escalation"
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    f"DROP INDEX IF EXISTS {RECIPIENT_INDEX}",
                    reverse_sql=f'CREATE INDEX {RECIPIENT_INDEX} ON "checklists_notification" ("recipient_id")',
                ),
                migrations.RunSQL(
                    f"DROP INDEX IF EXISTS {LINK_INDEX}",
                    reverse_sql=f'CREATE INDEX {LINK_INDEX} ON "checklists_notification_escalations" ("notification_id")',
                ),
            ],
        ),
    ]
