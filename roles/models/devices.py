"""Phones a member chose to stay signed in on, and the changes a phone made offline (issue 17)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from roles.models.team import Member


class RememberedDevice(models.Model):
    """A session kept for weeks because its member ticked "记住这台手机" at login; revoking it ends the session."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="remembered_devices", verbose_name=_("member"))
    # The database session's key: revoking deletes that session, so the phone is signed out at its next request.
    session_key = models.CharField(_("session key"), max_length=40, unique=True)
    user_agent = models.CharField(_("browser"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("signed in"), auto_now_add=True)
    last_seen_at = models.DateTimeField(_("last seen"))
    expires_at = models.DateTimeField(_("expires"))

    class Meta:
        verbose_name = _("remembered phone")
        verbose_name_plural = _("remembered phones")
        ordering = ["-last_seen_at"]

    def __str__(self) -> str:
        return f"{self.member} · {self.user_agent[:40]}"


class ClientChange(models.Model):
    """A change a phone made under a key of its own (a tick, an undo, a note): replayed, it is recorded once."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="+", verbose_name=_("member"))
    key = models.CharField(_("key"), max_length=64)
    at = models.DateTimeField(_("when"))

    class Meta:
        verbose_name = _("change from a phone")
        verbose_name_plural = _("changes from phones")
        constraints = [models.UniqueConstraint(fields=["member", "key"], name="roles_clientchange_once_per_key")]

    def __str__(self) -> str:
        return f"{self.member_id}:{self.key}"
