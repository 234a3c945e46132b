"""Integration tier: real PostgreSQL and Redis, a real worker and beat (see tests/integration)."""

import os

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/opsteam")
os.environ.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/0")

from .base import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
MEDIA_ROOT = BASE_DIR / "var" / "test-media"
