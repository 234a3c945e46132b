"""Production: everything secret or host-specific must come from the environment."""

import os

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import SECRET_KEY, env_bool, env_int

if not os.environ.get("SECRET_KEY") or SECRET_KEY.startswith("dev-only"):
    raise ImproperlyConfigured("SECRET_KEY must be set in the environment for production.")
if not os.environ.get("DATABASE_URL", "").startswith(("postgres", "pgsql")):
    raise ImproperlyConfigured("DATABASE_URL must point at PostgreSQL in production, e.g. postgres://user:pass@db:5432/opsteam.")
if not os.environ.get("CELERY_BROKER_URL", os.environ.get("REDIS_URL", "")).startswith(("redis", "rediss", "amqp")):
    raise ImproperlyConfigured("CELERY_BROKER_URL (or REDIS_URL) must point at Redis in production, e.g. redis://redis:6379/0.")

DEBUG = False
OPSTEAM_PRODUCTION = True
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 3600, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
# Preloading commits the whole registrable domain (not just OpsTeam's host) to HTTPS in browsers for good:
# a decision for whoever owns the domain, so it is opt-in, and the deploy check's reminder is silenced until then.
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
SECURE_CONTENT_TYPE_NOSNIFF = True
