"""Where a team's playbook and a newer default playbook differ (issue 19): shown to the director, never applied."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from roles.models import Team


class PlaybookDifference(models.Model):
    """One field of a row the team edited that a newer default playbook would change, e.g. SC-WH-2's text."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="playbook_differences", verbose_name=_("team"))
    # The row: its model (app_label.Model, e.g. checklists.TemplateItem) and primary key, and its playbook ID.
    model = models.CharField(_("model"), max_length=60)
    object_id = models.PositiveBigIntegerField(_("row"))
    playbook_id = models.CharField(_("playbook ID"), max_length=40, blank=True)
    field = models.CharField(_("field"), max_length=60)
    team_value = models.TextField(_("the team's version"), blank=True)
    playbook_value = models.TextField(_("the default playbook's version"), blank=True)
    recorded_at = models.DateTimeField(_("recorded at"), auto_now=True)

    class Meta:
        verbose_name = _("playbook difference")
        verbose_name_plural = _("playbook differences")
        ordering = ["team", "model", "playbook_id", "field"]
        constraints = [
            models.UniqueConstraint(fields=["team", "model", "object_id", "field"], name="checklists_playbookdifference_once_per_field"),
        ]

    def __str__(self) -> str:
        return f"{self.playbook_id} {self.field}"
