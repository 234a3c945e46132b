"""`make bench`: real PostgreSQL and Redis, the product's settings plus the reference views of bench/urls.py.

The harness (bench/run.py) sets DATABASE_URL to its own database (opsteam_bench) and CELERY_BROKER_URL
to Redis database 10; nothing here is reachable from the production settings.
"""

import os

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/opsteam_bench")
os.environ.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/10")

from .base import *  # noqa: F403

# The product's URLs plus the reference views the benchmark compares against.
ROOT_URLCONF = "bench.urls"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
MEDIA_ROOT = VAR_DIR / "bench-media"
DEBUG = False
# The worker counts finished tasks in Redis so the harness knows when a fan-out is over.
CELERY_IMPORTS = ["bench.worker_signals"]
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
