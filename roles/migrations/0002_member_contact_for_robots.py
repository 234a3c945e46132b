from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("roles", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="member",
            name="mobile",
            field=models.CharField(blank=True, max_length=20, verbose_name="mobile"),
        ),
        migrations.AddField(
            model_name="member",
            name="feishu_open_id",
            field=models.CharField(blank=True, max_length=64, verbose_name="Feishu open_id"),
        ),
        migrations.AddField(
            model_name="member",
            name="notify_by_email",
            field=models.BooleanField(default=True, verbose_name="notify by email"),
        ),
    ]
