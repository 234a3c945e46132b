"""Signing in through the suite: a code becomes the suite's user, and a linked, active user becomes the member.

An unlinked user is never given an account: when exactly one member of the shop has the mobile number the
suite reports (and no link yet), the person is asked to confirm "that is me" (suite_link_confirm); anyone
else gets a page saying to ask the director. A link deactivated (the person left) or a suite user the
suite reports as disabled gets a clear page too.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from checklists.notify.suites import adapter_for, call_with_token
from checklists.notify.suites.base import SuiteUser, TokenRefused
from checklists.notify.suites.models import SuiteApp, SuiteLink
from checklists.notify.suites.tokens import TokenUnavailable
from roles.models import Member

logger = logging.getLogger("opsteam.suites")


@dataclass
class SigninResult:
    status: str  # ok | propose | unlinked | deactivated | error
    member: Member | None = None
    suite_user: SuiteUser | None = None


def mobile_normal(mobile: str) -> str:
    digits = re.sub(r"[^\d]", "", mobile or "")
    return digits[2:] if digits.startswith("86") and len(digits) == 13 else digits


def suite_signin(*, app: SuiteApp, code: str, redirect_uri: str, in_app: bool) -> SigninResult:
    adapter = adapter_for(app)
    try:
        user, result = call_with_token(
            app, adapter, lambda token: adapter.user_from_code(token, code=code, redirect_uri=redirect_uri, in_app=in_app)
        )
    except (TokenRefused, TokenUnavailable) as exc:
        logger.warning("suite sign-in: team %s %s: no token (%s)", app.team_id, app.kind, exc)
        return SigninResult(status="error")
    if user is None:
        logger.info("suite sign-in: team %s %s: code refused (%s %s)", app.team_id, app.kind, result.code, result.message)
        return SigninResult(status="unlinked" if result.failure == "user" else "error")
    link = SuiteLink.objects.filter(app=app, suite_user_id=user.user_id).select_related("member__user").first()
    if link is not None:
        member = link.member
        if not (link.is_active and user.active and member.is_active and member.user.is_active):
            return SigninResult(status="deactivated", suite_user=user)
        return SigninResult(status="ok", member=member, suite_user=user)
    if not user.active:
        return SigninResult(status="deactivated", suite_user=user)
    mobile = mobile_normal(user.mobile)
    if mobile:
        candidates = [
            m
            for m in Member.objects.filter(team_id=app.team_id, is_active=True, user__is_active=True)
            .exclude(suite_links__app=app)
            .exclude(mobile="")
            if mobile_normal(m.mobile) == mobile
        ]
        if len(candidates) == 1:
            return SigninResult(status="propose", member=candidates[0], suite_user=user)
    return SigninResult(status="unlinked", suite_user=user)


def _link_create(*, app: SuiteApp, member: Member, suite_user_id: str, suite_name: str, actor: Member | None, now: datetime) -> SuiteLink:
    try:
        with transaction.atomic():
            return SuiteLink.objects.create(
                app=app, member=member, suite_user_id=suite_user_id, suite_name=suite_name[:100], linked_by=actor, linked_at=now
            )
    except IntegrityError:
        raise ValidationError(_("This person or this suite account is already linked.")) from None


def suite_link_confirm(*, app: SuiteApp, member: Member, suite_user_id: str, suite_name: str, now: datetime) -> SuiteLink:
    """The person confirmed the mobile match on the sign-in page (the proposal came from the session, set by suite_signin)."""
    return _link_create(app=app, member=member, suite_user_id=suite_user_id, suite_name=suite_name, actor=member, now=now)


def suite_link_by_director(*, app: SuiteApp, actor: Member, member: Member, suite_user_id: str, now: datetime) -> SuiteLink:
    if not (actor.is_director or actor.user.is_superuser) or actor.team_id != app.team_id:
        raise PermissionDenied(_("Only the director links members to the suite."))
    if member.team_id != app.team_id:
        raise ValidationError({"member": _("Choose one of your team's members.")})
    suite_user_id = (suite_user_id or "").strip()
    if not suite_user_id or len(suite_user_id) > 64 or not re.fullmatch(r"[\w.@+-]+", suite_user_id):
        raise ValidationError({"suite_user_id": _("Enter the person's user ID in the suite (letters, digits, _ . @ + -).")})
    return _link_create(app=app, member=member, suite_user_id=suite_user_id, suite_name="", actor=actor, now=now)


def suite_link_remove(*, link: SuiteLink, actor: Member) -> None:
    if not (actor.is_director or actor.user.is_superuser) or actor.team_id != link.app.team_id:
        raise PermissionDenied(_("Only the director links members to the suite."))
    link.delete()
