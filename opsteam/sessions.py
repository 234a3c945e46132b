"""The session engine (SESSION_ENGINE): Django's database sessions, with the read of a session written out.

Every page reads its session first. Django builds `Session.objects.get(session_key=..., expire_date__gt=now)`
anew each time, which cost more than running it (issue 8); this is the same SELECT, prepared once per
connection on PostgreSQL (opsteam.lib.db.prepared_cursor). Saving, expiry and clearsessions are Django's.
"""

from __future__ import annotations

from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.db import connection
from django.utils import timezone

from opsteam.lib.db import prepared_cursor


class SessionStore(DatabaseSessionStore):
    def load(self) -> dict:
        if not self.session_key:
            self._session_key = None
            return {}
        table = self.model._meta.db_table
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        with prepared_cursor() as cursor:
            cursor.execute(f"SELECT session_data FROM {table} WHERE session_key = %s AND expire_date > %s", [self.session_key, now])  # noqa: S608 (a table name)
            row = cursor.fetchone()
        if row is None:
            # As Django's: an unknown or expired key starts a new session (and a new key on save).
            self._session_key = None
            return {}
        return self.decode(row[0])
