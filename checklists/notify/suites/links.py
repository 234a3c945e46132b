"""Who receives personal cards: one expression the outbox annotates members with (no extra query)."""

from __future__ import annotations

from django.db.models import Exists, OuterRef

from checklists.notify.suites.models import SuiteLink


def suite_linked() -> Exists:
    """The member has an active link to their team's active suite app."""
    return Exists(SuiteLink.objects.filter(member=OuterRef("pk"), is_active=True, app__is_active=True, app__team_id=OuterRef("team_id")))
