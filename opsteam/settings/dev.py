"""Laptop settings: SQLite, the filesystem broker, email to the console. `make run` uses these (debug off; DEBUG=1 turns it on)."""

from .base import *  # noqa: F403
from .base import VAR_DIR, env_bool

# Off, so `make run` shows the product's own 404 and 500 pages (issue 17); a developer turns Django's debug pages
# on with DEBUG=1. The Procfile's `runserver --insecure` still serves the static files.
DEBUG = env_bool("DEBUG", False)
VAR_DIR.mkdir(parents=True, exist_ok=True)
