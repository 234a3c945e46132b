"""Faults tier: servers stopped, processes killed, a beat twice. ALWAYS on private PostgreSQL and Redis.

Run it with `make test-faults` (`pytest tests/faults -p no:cacheprovider --ds=opsteam.settings.integration`).
It starts its own PostgreSQL (initdb in a temporary directory) and its own Redis with AOF on, as in production,
each on a free port, and stops and restarts them: it never touches the machine's shared servers on 5432/6379.

The fast tier (`pytest tests --ignore=tests/integration ...` with the test settings) passes this folder by.
"""

import os

from django.conf import settings

if settings.SETTINGS_MODULE != "opsteam.settings.integration":
    collect_ignore_glob = ["*.py"]
else:
    # Forced, not defaulted: this tier stops servers, so it may only ever use ones it started itself.
    os.environ["OPSTEAM_TEST_SERVICES"] = "private"
    from tests.faults.fixtures import *  # noqa: F403
