"""Writes for teams, roles, members and covers. Every write goes through one function here."""

from __future__ import annotations

from datetime import date

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from opsteam.lib.playbook import SyncReport, playbook_row_sync
from opsteam.lib.text import text_line
from roles.models import Cover, Member, MemberRole, Role, Team


def team_create(*, name: str, slug: str) -> Team:
    name = text_line(name, field="name")
    team, _created = Team.objects.get_or_create(slug=slug, defaults={"name": name})
    return team


def role_sync_from_playbook(*, team: Team, rows: list[dict], report: SyncReport) -> dict[str, Role]:
    """Load PLAYBOOK §1 roles into the team; returns them by code."""
    roles = {}
    for row in rows:
        roles[row["code"]] = playbook_row_sync(
            Role,
            lookup={"team": team, "code": row["code"]},
            values={
                "playbook_id": row["id"],
                "name": row["name"],
                "responsibilities": row.get("responsibilities", ""),
                "order": row.get("order", 0),
            },
            report=report,
        )
    return roles


@transaction.atomic
def member_create(
    *,
    team: Team,
    username: str,
    password: str,
    display_name: str,
    roles: list[Role] = (),
    lead_of: list[Role] = (),
    is_director: bool = False,
    email: str = "",
) -> Member:
    """Create a login and its membership; a second call with the same username returns the existing member."""
    display_name = text_line(display_name, field="display_name")
    User = get_user_model()
    user, created = User.objects.get_or_create(username=username, defaults={"email": email})
    if created:
        # The same validators as the admin and any API that sets a password (settings.AUTH_PASSWORD_VALIDATORS).
        validate_password(password, user=user)  # raising rolls the new login back (atomic)
        user.set_password(password)
        user.save(update_fields=["password"])
    member, _created = Member.objects.get_or_create(
        user=user, defaults={"team": team, "display_name": display_name, "is_director": is_director}
    )
    if member.team_id != team.pk:
        raise ValidationError(_("This login already belongs to another team."))
    for role in {*roles, *lead_of}:
        MemberRole.objects.get_or_create(member=member, role=role, defaults={"is_lead": role in lead_of})
    return member


def cover_create(*, absent: Member, cover: Member, start_date: date, end_date: date, reason: str = "") -> Cover:
    if absent.team_id != cover.team_id:
        raise ValidationError(_("A cover must be in the same team."))
    if absent.pk == cover.pk:
        raise ValidationError(_("A member cannot cover themselves."))
    if end_date < start_date:
        raise ValidationError(_("The cover must end on or after the day it starts."))
    reason = text_line(reason, field="reason")
    return Cover.objects.create(team=absent.team, absent=absent, cover=cover, start_date=start_date, end_date=end_date, reason=reason)
