"""The Celery app. Beat's schedule lives in `checklists.schedule.beat_schedule()` and in the admin."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opsteam.settings.dev")

app = Celery("opsteam")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.task(name="opsteam.ping")
def ping() -> str:
    """Answer 'pong': used by health checks to prove a worker is consuming."""
    return "pong"
