"""Laptop settings: SQLite, the filesystem broker, email to the console. `make run` uses these."""

from .base import *  # noqa: F403
from .base import VAR_DIR, env_bool

DEBUG = env_bool("DEBUG", True)
VAR_DIR.mkdir(parents=True, exist_ok=True)
