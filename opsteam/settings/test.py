"""Fast tier: SQLite in memory and eager Celery."""

import os

os.environ.setdefault("DATABASE_URL", "sqlite://:memory:")

from opsteam.lib.env import origin_parse

from .base import *  # noqa: F403

CELERY_TASK_ALWAYS_EAGER = True
CELERY_BROKER_URL = "memory://"
CELERY_BROKER_TRANSPORT_OPTIONS = {}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
MEDIA_ROOT = BASE_DIR / "var" / "test-media"
DATABASES["default"]["OPTIONS"] = {}

# The suites stand up a local HTTP server for each robot (tests/robot_server.py, any free port): allow it
# beside the vendors' hosts, which stay allowed so the pages can be tested with real-looking addresses.
OPSTEAM_ROBOT_HOSTS = {
    kind: (*origins, origin_parse("OPSTEAM_ROBOT_HOSTS", "http://127.0.0.1:*")) for kind, origins in OPSTEAM_ROBOT_HOSTS.items()
}
