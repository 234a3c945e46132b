"""The board's own records (issue 20): the nudges (催一下) sent from it and the 17:00 digests."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from roles.models import Member, Role, Team


class Nudge(models.Model):
    """A 催一下 from the board: who reminded whom, when, and which items were open then (what got done since is
    counted from `items`)."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="+", verbose_name=_("team"), db_index=False)
    sender = models.ForeignKey(Member, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("nudged by"), db_index=False)
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="nudges", verbose_name=_("member"), db_index=False)
    # Set when the nudge was one of a role's (the role's 催一下 reminds everyone behind in it).
    role = models.ForeignKey(Role, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("role"))
    day = models.DateField(_("day"))
    at = models.DateTimeField(_("when"))
    open_count = models.PositiveSmallIntegerField(_("items open"))
    # The open items as the message named them, kept as they were (an item's text may change later).
    summary = models.TextField(_("what was open"))
    items = models.ManyToManyField("checklists.ChecklistItem", related_name="nudges", verbose_name=_("items open"))
    notification = models.ForeignKey(
        "checklists.Notification", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("notification")
    )

    class Meta:
        verbose_name = _("nudge")
        verbose_name_plural = _("nudges")
        ordering = ["-at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(open_count__gte=1), name="checklists_nudge_names_an_open_item"),
        ]
        indexes = [
            # The rate limit and the today page read a member's latest nudges; the board reads a team's day.
            models.Index(fields=["member", "-at"], name="checklists_nudge_member_at"),
            models.Index(fields=["team", "day"], name="checklists_nudge_team_day"),
        ]

    def __str__(self) -> str:
        return f"{self.member_id} · {self.at:%Y-%m-%d %H:%M}"


class BoardDigest(models.Model):
    """The day's 17:00 digest of a team: written once per team and day (the constraint), before anything is sent."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="+", verbose_name=_("team"), db_index=False)
    day = models.DateField(_("day"))
    sent_at = models.DateTimeField(_("sent at"))
    recipients = models.PositiveSmallIntegerField(_("recipients"), default=0)

    class Meta:
        verbose_name = _("board digest")
        verbose_name_plural = _("board digests")
        ordering = ["-day", "team"]
        constraints = [models.UniqueConstraint(fields=["team", "day"], name="checklists_boarddigest_once_per_team_day")]

    def __str__(self) -> str:
        return f"{self.team_id} · {self.day}"
