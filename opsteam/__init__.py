"""OpsTeam: the daily routine of an e-commerce shop team."""

from .celery import app as celery_app

__all__ = ["celery_app"]
