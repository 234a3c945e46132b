"""Forget the reply bodies stored as robot errors before only the vendor's code and message were kept.

A webhook pointing at an internal address (SSRF) had its HTML reply stored on the send and the deliveries,
and the robots page showed it. Those rows carry an HTTP status as their code; the status stays.
"""

from django.db import migrations

HTTP_STATUS = r"^[1-5][0-9][0-9]$"


def forget_reply_bodies(apps, schema_editor):
    RobotSend = apps.get_model("checklists", "RobotSend")
    Delivery = apps.get_model("checklists", "Delivery")
    RobotSend.objects.filter(error_code__regex=HTTP_STATUS).exclude(error="").update(error="")
    Delivery.objects.filter(channel="robot", error_code__regex=HTTP_STATUS).exclude(error="").update(error="")


class Migration(migrations.Migration):
    dependencies = [("checklists", "0006_escalation_fewer_indexes")]

    # Nothing to put back: the bodies are gone on purpose.
    operations = [migrations.RunPython(forget_reply_bodies, migrations.RunPython.noop)]
