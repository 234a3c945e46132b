"""What a role is for (PLAYBOOK §7.1, R-*): responsibilities shown to members, never ticked."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from roles.models.team import PlaybookRow, Role, Team


class Responsibility(PlaybookRow):
    """One responsibility of a role (or of the whole team), e.g. R-CS-PRE-1 回答问题(熟悉产品)."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="responsibilities", verbose_name=_("team"))
    # Empty for rows the seeds give to the whole team (团队, 协同团队营销) or to no role (基本拍照, the levels).
    role = models.ForeignKey(
        Role, on_delete=models.CASCADE, null=True, blank=True, related_name="responsibility_rows", verbose_name=_("role")
    )
    heading = models.CharField(_("heading"), max_length=50, blank=True, help_text=_("e.g. 售前, 基本拍照"))
    text = models.TextField(_("text"))
    # As the playbook words it (每日, 出现问题时); empty when the seeds give no schedule (无排期).
    schedule = models.CharField(_("schedule"), max_length=100, blank=True)
    source = models.CharField(_("source"), max_length=100, blank=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("responsibility")
        verbose_name_plural = _("responsibilities")
        ordering = ["team", "order", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["team", "playbook_id"], condition=~Q(playbook_id=""), name="roles_responsibility_playbook_id_once_per_team"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.playbook_id} {self.text}".strip()
