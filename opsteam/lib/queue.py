"""Enqueue a Celery task by its registered name, so a service never imports a task module (docs/architecture.md).

The task modules sit above the services they call; a service that must start work after a commit names the
task instead. `.apply_async` on the registered task object keeps CELERY_TASK_ALWAYS_EAGER working in tests
(celery's send_task would not run eagerly) and keeps a test's patch of the task object effective.
"""

from __future__ import annotations

from celery import current_app


def task_enqueue(name: str, *, args: tuple = (), **options):
    """`apply_async` on the task registered as `name`; the apps' task modules are imported on first use."""
    task = current_app.tasks.get(name)
    if task is None:
        current_app.loader.import_default_modules()
        task = current_app.tasks[name]
    return task.apply_async(args=args, **options)
