"""Teams, roles, members, covers and calendar (team.py); KPI definitions, daily figures, targets and grades (kpi.py);
what each role is for (responsibility.py)."""

from roles.models.kpi import (
    Aggregation,
    Direction,
    EntrySource,
    Kpi,
    KpiKind,
    Metric,
    MetricEntry,
    MetricKind,
    MetricScope,
    SplitKind,
    Target,
    Tone,
)
from roles.models.responsibility import Responsibility
from roles.models.team import (
    CalendarGap,
    CalendarOverride,
    Cover,
    Member,
    MemberRole,
    PlaybookRow,
    Role,
    RoleCode,
    Team,
)

__all__ = [
    "Aggregation",
    "CalendarGap",
    "CalendarOverride",
    "Cover",
    "Direction",
    "EntrySource",
    "Kpi",
    "KpiKind",
    "Member",
    "MemberRole",
    "Metric",
    "MetricEntry",
    "MetricKind",
    "MetricScope",
    "PlaybookRow",
    "Responsibility",
    "Role",
    "RoleCode",
    "SplitKind",
    "Target",
    "Team",
    "Tone",
]
