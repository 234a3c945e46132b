"""Teams, roles, members, covers and calendar (team.py); KPI definitions, daily figures, targets and grades (kpi.py);
what each role is for (responsibility.py)."""

from roles.models.devices import ClientChange, RememberedDevice
from roles.models.kpi import (
    AgentName,
    Aggregation,
    Direction,
    EntrySource,
    ImportLayout,
    Kpi,
    KpiKind,
    Metric,
    MetricEntry,
    MetricKind,
    MetricScope,
    PeriodFigure,
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
    "AgentName",
    "Aggregation",
    "CalendarGap",
    "CalendarOverride",
    "ClientChange",
    "Cover",
    "Direction",
    "EntrySource",
    "ImportLayout",
    "Kpi",
    "KpiKind",
    "Member",
    "MemberRole",
    "Metric",
    "MetricEntry",
    "MetricKind",
    "MetricScope",
    "PeriodFigure",
    "PlaybookRow",
    "RememberedDevice",
    "Responsibility",
    "Role",
    "RoleCode",
    "SplitKind",
    "Target",
    "Team",
    "Tone",
]
