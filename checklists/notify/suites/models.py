"""A shop's workplace-suite app (DingTalk, WeCom or Feishu), who is linked to whom, and what the cards did."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from roles.models import Member, Team


class SuiteKind(models.TextChoices):
    DINGTALK = "dingtalk", _("DingTalk")
    WECOM = "wecom", _("WeCom")
    FEISHU = "feishu", _("Feishu")


class SuiteAppQuerySet(models.QuerySet):
    def visible_to(self, viewer: Member) -> SuiteAppQuerySet:
        """The credentials are the director's (and a superuser's) alone."""
        if viewer.is_director or viewer.user.is_superuser:
            return self.filter(team_id=viewer.team_id)
        return self.none()


class SuiteApp(models.Model):
    """A shop's app in its suite: the identifiers in clear, the secrets sealed (vault.seal), never shown again in full."""

    team = models.OneToOneField(Team, on_delete=models.CASCADE, related_name="suite_app", verbose_name=_("team"))
    kind = models.CharField(_("suite"), max_length=10, choices=SuiteKind.choices)
    # DingTalk: CorpId (for the workbench's JSAPI) · WeCom: corpid · Feishu: empty.
    corp_id = models.CharField(_("corp ID"), max_length=64, blank=True)
    # DingTalk: AppKey (Client ID) · WeCom: empty (the corp id and the app's secret get the token) · Feishu: App ID.
    app_key = models.CharField(_("app key / app ID"), max_length=64, blank=True)
    # DingTalk and WeCom: the app's AgentId (work notifications go out in its name) · Feishu: empty.
    agent_id = models.CharField(_("agent ID"), max_length=32, blank=True)
    app_secret_sealed = models.TextField(blank=True, editable=False)
    # DingTalk / WeCom: the callback Token and EncodingAESKey · Feishu: the Verification Token and Encrypt Key.
    callback_token_sealed = models.TextField(blank=True, editable=False)
    callback_key_sealed = models.TextField(blank=True, editable=False)
    # Bumped on every change of credentials: the cached access token of the old ones is never used again.
    credentials_version = models.PositiveIntegerField(default=1, editable=False)
    is_active = models.BooleanField(_("active"), default=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = SuiteAppQuerySet.as_manager()

    class Meta:
        verbose_name = _("suite app")
        verbose_name_plural = _("suite apps")

    def __str__(self) -> str:
        return f"{self.team} · {self.get_kind_display()}"


class SuiteLink(models.Model):
    """A member and their user in the shop's suite, linked once (by the director, or by mobile with confirmation)."""

    app = models.ForeignKey(SuiteApp, on_delete=models.CASCADE, related_name="links", verbose_name=_("suite app"))
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="suite_links", verbose_name=_("member"))
    # DingTalk userid · WeCom UserID · Feishu open_id (per app, which is what the card callback names).
    suite_user_id = models.CharField(_("suite user ID"), max_length=64)
    suite_name = models.CharField(_("name in the suite"), max_length=100, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    linked_by = models.ForeignKey(Member, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("linked by"))
    linked_at = models.DateTimeField(_("linked at"))
    deactivated_at = models.DateTimeField(_("deactivated at"), null=True, blank=True)

    class Meta:
        verbose_name = _("suite link")
        verbose_name_plural = _("suite links")
        constraints = [
            models.UniqueConstraint(fields=["app", "suite_user_id"], name="checklists_suitelink_one_per_suite_user"),
            models.UniqueConstraint(fields=["app", "member"], name="checklists_suitelink_one_per_member"),
        ]

    def __str__(self) -> str:
        return f"{self.member} ↔ {self.suite_user_id}"


class SuiteMessage(models.Model):
    """A personal message the suite accepted for a delivery: what the card's buttons and updates refer to."""

    delivery = models.OneToOneField("checklists.Delivery", on_delete=models.CASCADE, related_name="suite_message")
    notification = models.ForeignKey("checklists.Notification", on_delete=models.CASCADE, related_name="suite_messages")
    link = models.ForeignKey(SuiteLink, on_delete=models.CASCADE, related_name="messages")
    # DingTalk task_id · WeCom msgid · Feishu message_id
    vendor_ref = models.CharField(max_length=128, blank=True)
    # WeCom: the response_code update_template_card needs (single use, 72 hours).
    update_code = models.CharField(max_length=256, blank=True)
    sent_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.delivery_id} · {self.vendor_ref}"


class CardActionKind(models.TextChoices):
    DONE = "done", _("Done")
    ACK = "ack", _("Acknowledged")


class CardAction(models.Model):
    """A card button pressed: once per vendor callback id, and once per notification and action."""

    app = models.ForeignKey(SuiteApp, on_delete=models.CASCADE, related_name="card_actions")
    notification = models.ForeignKey("checklists.Notification", on_delete=models.CASCADE, related_name="card_actions")
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="+")
    action = models.CharField(max_length=10, choices=CardActionKind.choices)
    callback_id = models.CharField(max_length=200)
    at = models.DateTimeField()
    outcome = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["app", "callback_id"], name="checklists_cardaction_once_per_callback"),
            models.UniqueConstraint(fields=["notification", "action"], name="checklists_cardaction_once_per_notification"),
        ]

    def __str__(self) -> str:
        return f"{self.notification_id} {self.action} by {self.member_id}"


class ImportProposal(models.Model):
    """One person read from the suite's directory, proposed as a member with a role; nothing exists before the director confirms."""

    app = models.ForeignKey(SuiteApp, on_delete=models.CASCADE, related_name="import_proposals")
    suite_user_id = models.CharField(max_length=64)
    name = models.CharField(max_length=100)
    mobile = models.CharField(max_length=20, blank=True)
    department = models.CharField(max_length=100, blank=True)
    role_code = models.CharField(max_length=20, blank=True)
    # An existing member with the same mobile: the proposal is a link, not a new member.
    existing_member = models.ForeignKey(Member, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["app", "suite_user_id"], name="checklists_importproposal_once_per_user")]

    def __str__(self) -> str:
        return self.name
