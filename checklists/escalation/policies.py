"""Escalation policies: the default chain, when quiet hours let a message out, and what one sweep did."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.utils.translation import gettext as _

from checklists.models import (
    EscalationLevel,
    EscalationPolicy,
    NotifyWhom,
)
from opsteam.lib.clock import business_tz, local_datetime
from roles.models import Team

# The default chain (issue 4): the owner 30 minutes before due, the role lead at due + 30 min, the director at due + 2 h.
DEFAULT_LEVELS = [
    {"order": 1, "offset_minutes": -30, "notify": NotifyWhom.OWNER, "repeat_every_minutes": 0, "repeat_times": 0},
    {"order": 2, "offset_minutes": 30, "notify": NotifyWhom.LEAD, "repeat_every_minutes": 60, "repeat_times": 2},
    {"order": 3, "offset_minutes": 120, "notify": NotifyWhom.DIRECTOR, "repeat_every_minutes": 0, "repeat_times": 0},
]


def policy_default_ensure(*, team: Team) -> EscalationPolicy:
    """The team's default policy with the default levels; created once, then the admin edits it."""
    policy, created = EscalationPolicy.objects.get_or_create(team=team, source="", defaults={"name": _("Default escalation")})
    if created:
        EscalationLevel.objects.bulk_create([EscalationLevel(policy=policy, **level) for level in DEFAULT_LEVELS])
    return policy


def quiet_release(*, policy: EscalationPolicy, now: datetime, urgent: bool) -> datetime:
    """When a message may go out: now, or the end of the policy's quiet hours (default 22:00-08:00)."""
    if urgent or policy.quiet_start == policy.quiet_end:
        return now
    local = now.astimezone(business_tz())
    at = local.time()
    start, end = policy.quiet_start, policy.quiet_end
    in_quiet = (start <= at or at < end) if start > end else (start <= at < end)
    if not in_quiet:
        return now
    day = local.date() if at < end else local.date() + timedelta(days=1)
    return local_datetime(day, end)


@dataclass
class SweepResult:
    team: str
    workday: bool = True
    raised: int = 0
    notified: int = 0
    repeated: int = 0
    failed: int = 0
    by_level: dict[int, int] = field(default_factory=dict)
    busy: bool = False

    def __str__(self) -> str:
        if not self.workday:
            return f"{self.team}: not a working day, no escalations"
        if self.busy:
            return f"{self.team}: another sweep of this team is running, skipped"
        return f"{self.team}: {self.raised} raised, {self.notified} notified, {self.repeated} repeated, {self.failed} failed"
