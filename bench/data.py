"""The benchmark's organisation: N shops, each with one role, its members and one template of K items.

Built with bulk_create in a few seconds (the set-up is not measured). Templates are generated at 00:00
and every shop has a calendar override making today a working day, so the run works on any date.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time

from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone
from rest_framework.authtoken.models import Token

from checklists.models import ChecklistTemplate, TemplateItem
from opsteam.lib.clock import local_date
from roles.models import CalendarOverride, Member, MemberRole, Role, Team

DUE = time(23, 30)


@dataclass
class Org:
    team_ids: list[int]
    member_ids: list[int]
    members_per_team: int
    items_per_template: int
    day: date


def org_create(*, teams: int, members_per_team: int, items_per_template: int, prefix: str = "shop", day: date | None = None) -> Org:
    day = day or local_date(timezone.now())
    User = get_user_model()
    team_rows = Team.objects.bulk_create(Team(name=f"{prefix} {n}", slug=f"{prefix}-{n}") for n in range(teams))
    roles = Role.objects.bulk_create(Role(team=t, code="warehouse", name="仓库", order=5) for t in team_rows)
    CalendarOverride.objects.bulk_create(CalendarOverride(team=t, date=day, is_workday=True, note="bench") for t in team_rows)
    unusable = "!"  # an unusable password hash: bench users log in by token only
    users = User.objects.bulk_create(
        User(username=f"{prefix}-{t}-{m}", password=unusable, is_active=True) for t in range(teams) for m in range(members_per_team)
    )
    members = Member.objects.bulk_create(
        Member(user=users[t * members_per_team + m], team=team_rows[t], display_name=f"员工{t}-{m}", is_director=m == 0)
        for t in range(teams)
        for m in range(members_per_team)
    )
    MemberRole.objects.bulk_create(
        MemberRole(member=members[t * members_per_team + m], role=roles[t], is_lead=m == 1)
        for t in range(teams)
        for m in range(members_per_team)
    )
    templates = ChecklistTemplate.objects.bulk_create(
        ChecklistTemplate(team=t, role=r, name="仓库每日自查", generate_at=time(0, 0), due_at=DUE)
        for t, r in zip(team_rows, roles, strict=True)
    )
    TemplateItem.objects.bulk_create(
        TemplateItem(template=tpl, order=n, text=f"检查第 {n + 1} 项：货架、包装盒、快递单和出库记录")
        for tpl in templates
        for n in range(items_per_template)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return Org(
        team_ids=[t.pk for t in team_rows],
        member_ids=[m.pk for m in members],
        members_per_team=members_per_team,
        items_per_template=items_per_template,
        day=day,
    )


def token_for(member_id: int) -> str:
    member = Member.objects.select_related("user").get(pk=member_id)
    token, _ = Token.objects.get_or_create(user=member.user)
    return token.key
