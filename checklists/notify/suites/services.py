"""The director's side: the suite app's credentials (sealed, never shown again) and the optional org import."""

from __future__ import annotations

import re
from datetime import datetime

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from checklists.notify.suites import adapter_for, call_with_token, vault
from checklists.notify.suites.base import TokenRefused
from checklists.notify.suites.crypto import CryptoError, wx_aes_key
from checklists.notify.suites.models import ImportProposal, SuiteApp, SuiteKind, SuiteLink
from checklists.notify.suites.signin import mobile_normal
from checklists.notify.suites.tokens import TokenUnavailable, token_forget
from opsteam.lib.text import text_line
from roles.models import Member, MemberRole, Role, Team

SECRETS = ("app_secret", "callback_token", "callback_key")
IDS = ("corp_id", "app_key", "agent_id")
# Which identifiers each suite needs (docs/integrations.md says where each is in the console).
REQUIRED = {
    SuiteKind.DINGTALK: ("corp_id", "app_key", "agent_id"),
    SuiteKind.WECOM: ("corp_id", "agent_id"),
    SuiteKind.FEISHU: ("app_key",),
}
_ID = re.compile(r"^[\w.-]{1,64}$")


def _require_director(actor: Member, team: Team) -> None:
    if not (actor.is_director or actor.user.is_superuser) or actor.team_id != team.pk:
        raise PermissionDenied(_("Only the director manages the suite app."))


def suite_app_save(*, team: Team, actor: Member, kind: str, is_active: bool = True, **fields) -> SuiteApp:
    """Create or change the team's app. An empty secret keeps the stored one; a new app needs all three."""
    _require_director(actor, team)
    if kind not in SuiteKind.values:
        raise ValidationError({"kind": _("Choose DingTalk, WeCom or Feishu.")})
    app = SuiteApp.objects.filter(team=team).first() or SuiteApp(team=team, kind=kind)
    errors: dict[str, str] = {}
    ids = {name: text_line(fields.get(name) or "", field=name).strip() for name in IDS}
    for name, value in ids.items():
        if value and not _ID.match(value):
            errors[name] = _("Letters, digits, dots, dashes and underscores only.")
    for name in REQUIRED[kind]:
        if not ids[name]:
            errors[name] = _("Copy this from the suite's developer console.")
    if ids["agent_id"] and not ids["agent_id"].isdigit():
        errors["agent_id"] = _("The agent ID is a number.")
    secrets = {name: (fields.get(name) or "").strip() for name in SECRETS}
    changing_kind = app.pk and app.kind != kind
    for name in SECRETS:
        if not secrets[name] and (not app.pk or changing_kind):
            errors[name] = _("Copy this from the suite's developer console.")
    if secrets["callback_key"] and kind in (SuiteKind.DINGTALK, SuiteKind.WECOM):
        try:
            wx_aes_key(secrets["callback_key"])
        except CryptoError:
            errors["callback_key"] = _("The EncodingAESKey is 43 letters and digits.")
    if errors:
        raise ValidationError(errors)
    before = (app.kind, app.corp_id, app.app_key, app.app_secret_sealed)
    app.kind = kind
    for name, value in ids.items():
        setattr(app, name, value)
    for name, value in secrets.items():
        if value:
            setattr(app, f"{name}_sealed", vault.seal(value))
    app.is_active = is_active
    with transaction.atomic():
        if app.pk and before != (app.kind, app.corp_id, app.app_key, app.app_secret_sealed):
            token_forget(app)
            app.credentials_version += 1
        app.save()
    return app


def suite_app_shown(app: SuiteApp) -> dict[str, str]:
    """What the settings page shows of each secret: set or not, and at most its last four characters."""
    shown = {}
    for name in SECRETS:
        try:
            shown[name] = vault.masked(vault.unseal(getattr(app, f"{name}_sealed")))
        except ValueError:
            shown[name] = "?"
    return shown


def suite_app_check(*, app: SuiteApp, actor: Member) -> str:
    """Ask the vendor for a token with the stored credentials: "" when it works, else the reason."""
    _require_director(actor, app.team)
    adapter = adapter_for(app)
    token_forget(app)
    try:
        call_with_token(app, adapter, lambda token: _ok())
    except TokenRefused as exc:
        return _("The suite refused the credentials (code %(code)s: %(message)s).") % {
            "code": exc.result.code,
            "message": exc.result.message,
        }
    except TokenUnavailable:
        return _("Could not reach the suite. Try again in a minute.")
    return ""


def _ok():
    from checklists.notify.suites.base import CallResult

    return CallResult(ok=True)


# --- org import (optional) ---------------------------------------------------------------------------

ROLE_WORDS = (
    ("运营", "operations"),
    ("推广", "promotion"),
    ("美工", "design"),
    ("设计", "design"),
    ("客服", "service"),
    ("仓", "warehouse"),
)


def role_guess(department: str) -> str:
    for word, code in ROLE_WORDS:
        if word in (department or ""):
            return code
    return ""


def org_import_read(*, app: SuiteApp, actor: Member, now: datetime) -> int:
    """Read the suite's directory into proposals (replacing the previous ones). Creates no member."""
    _require_director(actor, app.team)
    adapter = adapter_for(app)
    try:
        users, result = call_with_token(app, adapter, lambda token: adapter.directory(token))
    except (TokenRefused, TokenUnavailable):
        raise ValidationError(_("Could not read the suite's directory: check the credentials.")) from None
    if not result.ok:
        raise ValidationError(_("The suite refused to list its directory (code %(code)s).") % {"code": result.code})
    linked = set(SuiteLink.objects.filter(app=app).values_list("suite_user_id", flat=True))
    by_mobile = {mobile_normal(m.mobile): m for m in Member.objects.filter(team=app.team).exclude(mobile="")}
    with transaction.atomic():
        ImportProposal.objects.filter(app=app).delete()
        ImportProposal.objects.bulk_create(
            ImportProposal(
                app=app,
                suite_user_id=user.user_id[:64],
                name=text_line(user.name or user.user_id, field="name")[:100],
                mobile=mobile_normal(user.mobile)[:20],
                department=text_line(user.department, field="department")[:100],
                role_code=role_guess(user.department),
                existing_member=by_mobile.get(mobile_normal(user.mobile)) if user.mobile else None,
                created_at=now,
            )
            for user in users
            if user.active and user.user_id and user.user_id not in linked
        )
    return ImportProposal.objects.filter(app=app).count()


def org_import_confirm(*, app: SuiteApp, actor: Member, choices: dict[int, str], now: datetime) -> int:
    """The director's choices: {proposal id: role code or "" for no role}. Creates members (no password) and links."""
    _require_director(actor, app.team)
    roles = {r.code: r for r in Role.objects.filter(team=app.team)}
    made = 0
    User = get_user_model()
    with transaction.atomic():
        for proposal in ImportProposal.objects.filter(app=app, pk__in=list(choices)).select_related("existing_member"):
            member = proposal.existing_member
            if member is None:
                username = f"{app.team.slug}-{proposal.suite_user_id}"[:150]
                user = User(username=username)
                user.set_unusable_password()  # they sign in through the suite; the director may set a password later
                user.save()
                member = Member.objects.create(user=user, team=app.team, display_name=proposal.name[:50], mobile=proposal.mobile)
                role = roles.get(choices[proposal.pk] or "")
                if role is not None:
                    MemberRole.objects.create(member=member, role=role)
            if not SuiteLink.objects.filter(app=app, member=member).exists():
                SuiteLink.objects.create(
                    app=app, member=member, suite_user_id=proposal.suite_user_id, suite_name=proposal.name, linked_by=actor, linked_at=now
                )
            proposal.delete()
            made += 1
    return made
