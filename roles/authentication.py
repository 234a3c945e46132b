"""The user behind a login, with their member, team and roles, in one query (issue 8): API tokens and sessions."""

from __future__ import annotations

import json
from functools import cache

from django.contrib.auth import get_user_model
from django.db import connection
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token

from opsteam.lib.db import model_columns, model_from_row, prepared_cursor
from roles.models import Cover, Member, MemberRole, Team

# An API request never uses these, and their timestamps cost as much to decode as a tick's whole row: left
# deferred (as QuerySet.only() would), read on first use. A session keeps them all: its password hash checks
# the session, and the admin shows the names.
_DEFERRED_FOR_TOKENS = {
    "authtoken.token": ("created",),
    "auth.user": ("password", "last_login", "first_name", "last_name", "email", "date_joined"),
    "roles.team": ("created_at",),
}


@cache
def _select(vendor: str, by: str) -> tuple[str, list[tuple[type, tuple[str, ...]]]]:
    """The one query and, per model, the attribute names its columns fill, in the model's field order.

    by "token": what `Token.objects.select_related("user__member__team").get(key=key)` sends; by "user": the
    same from the user's id (a session). Written out once: the ORM builds such a statement anew on every
    request, and on a tick that cost about as much as the tick itself.
    """
    user_model = get_user_model()
    parts = [(Token, "t")] if by == "token" else []
    parts += [(user_model, "u"), (Member, "m"), (Team, "s")]
    columns, layout = [], []
    for model, alias in parts:
        deferred = _DEFERRED_FOR_TOKENS.get(model._meta.label_lower, ()) if by == "token" else ()
        only = tuple(f.attname for f in model._meta.concrete_fields if f.attname not in deferred)
        columns.append(model_columns(model, alias, only))
        layout.append((model, only))
    # The member's roles too (roles.selectors.member_role_links), so that the access rules read the roles they lead
    # from the member instead of adding a subquery to every list they filter (issue 8): [[id, role id, lead], ...].
    links = MemberRole._meta.db_table
    if vendor == "postgresql":
        aggregate = "coalesce(json_agg(json_build_array(r.id, r.role_id, r.is_lead)), '[]')"
    else:  # SQLite (the fast tier, make run): JSON text, '[]' when there are none
        aggregate = "json_group_array(json_array(r.id, r.role_id, r.is_lead))"
    columns.append(f"(SELECT {aggregate} FROM {links} r WHERE r.member_id = m.id)")  # noqa: S608 (no value in it)
    # Whether they cover anyone at all (roles.Cover): most never do, and their access rules then need no cover subquery.
    columns.append(f"EXISTS (SELECT 1 FROM {Cover._meta.db_table} v WHERE v.cover_id = m.id)")  # noqa: S608 (no value in it)
    users = user_model._meta.db_table
    source = f"{Token._meta.db_table} t JOIN {users} u ON u.id = t.user_id" if by == "token" else f"{users} u"
    sql = (
        f"SELECT {', '.join(columns)} FROM {source} "  # noqa: S608 (names from the models' _meta, the key a parameter)
        f"LEFT JOIN {Member._meta.db_table} m ON m.user_id = u.id "
        f"LEFT JOIN {Team._meta.db_table} s ON s.id = m.team_id "
        f"WHERE {'t.key' if by == 'token' else 'u.id'} = %s"
    )
    return sql, layout


def _read(by: str, value) -> list | None:
    """[token,] user, member or None, with the member's team, user, roles and covers cached; None if no such row."""
    sql, layout = _select(connection.vendor, by)
    with prepared_cursor() as cursor:
        cursor.execute(sql, [value])
        row = cursor.fetchone()
    if row is None:
        return None
    objects, start = [], 0
    for model, names in layout:
        values = row[start : start + len(names)]
        start += len(names)
        objects.append(model_from_row(model, values, names))
    user, member, team = objects[-3:]
    if member is not None:
        Member.team.field.set_cached_value(member, team)
        Member.user.field.set_cached_value(member, user)
        links = row[start]
        if isinstance(links, str):  # SQLite returns JSON as text
            links = json.loads(links)
        member._role_links = [MemberRole(id=pk, member_id=member.pk, role_id=role_id, is_lead=bool(lead)) for pk, role_id, lead in links]
        member._covers_anyone = bool(row[start + 1])
    # user.member: the member, or None cached as "no member" (a superuser without one).
    Member.user.field.remote_field.set_cached_value(user, member)
    return objects[:-2]


def user_by_id(user_id):
    """The user with their member, team, roles and covers in one query (roles.login.MemberModelBackend)."""
    try:
        user_id = int(user_id)
    except (TypeError, ValueError):
        return None
    found = _read("user", user_id) if 1 <= user_id < 2**63 else None
    return found[0] if found else None


class MemberTokenAuthentication(TokenAuthentication):
    """`Authorization: Token <key>`: the token, its user and the user's member, team and roles in one query.

    DRF's own reads the token and user, then every view reads the member: two round trips before any work.
    roles.selectors.member_get_for_user uses the member read here.
    """

    def authenticate_credentials(self, key):
        found = _read("token", key)
        if found is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        token, user = found
        if not user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        Token.user.field.set_cached_value(token, user)
        return user, token
