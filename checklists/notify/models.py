"""Notifications (the in-app bell) and their outbox of deliveries by email and to group robots."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from roles.models import Member, Role, Team


class Notification(models.Model):
    """A message to one member: shown under the bell, and sent on by email and robots through its deliveries."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="notifications", verbose_name=_("team"))
    # No index of its own: the bell's (recipient, read_at) index serves every lookup by recipient.
    recipient = models.ForeignKey(
        Member, on_delete=models.CASCADE, related_name="notifications", db_index=False, verbose_name=_("recipient")
    )
    role = models.ForeignKey(Role, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("role"))
    kind = models.CharField(_("kind"), max_length=20)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("message"), help_text=_("Markdown"))
    url = models.CharField(_("link"), max_length=300, blank=True)
    # What happened and its values (issue 17): the page renders the words in the reader's language from these
    # (checklists.notify.words); title and body keep the words as sent, for email, robots and older rows.
    event = models.CharField(_("event"), max_length=40, blank=True)
    values = models.JSONField(_("values"), default=dict, blank=True)
    urgent = models.BooleanField(_("urgent"), default=False)
    created_at = models.DateTimeField(_("created at"))
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    # The one-click acknowledge link is single use: the first use stamps this.
    ack_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    escalations = models.ManyToManyField(
        "checklists.Escalation", blank=True, related_name="notifications", through="checklists.NotificationEscalation"
    )

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["recipient", "read_at"], name="checklists_notif_unread")]

    def __str__(self) -> str:
        return self.title


class NotificationEscalation(models.Model):
    """Which escalations a notification tells of: the table Django made for Notification.escalations, written out
    so that the notification's side has no index of its own (the pair's unique index starts with it)."""

    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, db_index=False)
    escalation = models.ForeignKey("checklists.Escalation", on_delete=models.CASCADE)

    class Meta:
        db_table = "checklists_notification_escalations"
        unique_together = [("notification", "escalation")]

    def __str__(self) -> str:
        return f"{self.notification_id} · {self.escalation_id}"


class RobotKind(models.TextChoices):
    DINGTALK = "dingtalk", _("DingTalk")
    WECOM = "wecom", _("WeCom")
    FEISHU = "feishu", _("Feishu")


# Messages a minute each vendor accepts per robot (docs/notifications.md): the default of a new robot.
ROBOT_RATE_LIMITS = {RobotKind.DINGTALK: 20, RobotKind.WECOM: 20, RobotKind.FEISHU: 100}
# What follows the host in each vendor's webhook, for the message that names the expected address.
ROBOT_WEBHOOK_PATHS = {
    RobotKind.DINGTALK: "/robot/send?access_token=…",
    RobotKind.WECOM: "/cgi-bin/webhook/send?key=…",
    RobotKind.FEISHU: "/open-apis/bot/v2/hook/…",
}


def robot_webhook_problem(*, kind: str, url: str) -> str:
    """Why `url` may not be called for a robot of `kind` ("" when it may): only the vendor's own host (SSRF).

    The allowed origins per kind are settings.OPSTEAM_ROBOT_HOSTS (https on the vendor's host; the tests add
    their local server). Checked when a robot is saved and again before every call.
    """
    origins = settings.OPSTEAM_ROBOT_HOSTS.get(kind, ())
    if any(origin.admits(url) for origin in origins):
        return ""
    examples = " / ".join(f"{origin}{ROBOT_WEBHOOK_PATHS.get(kind, '/…')}" for origin in origins)
    vendor = RobotKind(kind).label if kind in RobotKind.values else kind
    return _("This is not a %(vendor)s webhook address. It must look like %(example)s (copy it from the group's robot settings).") % {
        "vendor": vendor,
        "example": examples or "-",
    }


class RobotQuerySet(models.QuerySet):
    def visible_to(self, viewer: Member) -> RobotQuerySet:
        """Robots hold webhook secrets: the director (and a superuser) manage them."""
        if viewer.is_director or viewer.user.is_superuser:
            return self.filter(team_id=viewer.team_id)
        return self.none()


class Robot(models.Model):
    """A group chat robot (DingTalk, WeCom, Feishu) for the whole team or one role."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="robots", verbose_name=_("team"))
    role = models.ForeignKey(
        Role,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="robots",
        verbose_name=_("role"),
        help_text=_("Empty: the whole team"),
    )
    kind = models.CharField(_("kind"), max_length=10, choices=RobotKind.choices)
    name = models.CharField(_("name"), max_length=100)
    webhook_url = models.URLField(_("webhook URL"), max_length=500)
    secret = models.CharField(_("signing secret"), max_length=200, blank=True, help_text=_("DingTalk 加签 or Feishu signature secret"))
    rate_per_minute = models.PositiveSmallIntegerField(_("messages per minute"), default=20)
    is_active = models.BooleanField(_("active"), default=True)

    objects = RobotQuerySet.as_manager()

    class Meta:
        verbose_name = _("group robot")
        verbose_name_plural = _("group robots")
        ordering = ["team", "kind", "name"]
        constraints = [models.CheckConstraint(condition=Q(rate_per_minute__gte=1), name="checklists_robot_rate_positive")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.name}"

    def clean(self) -> None:
        # The form, the service and the admin all save through full_clean(): none can store an address
        # the sender would refuse (robot_post checks again, for rows saved before this rule).
        if self.kind in RobotKind.values and self.webhook_url:
            problem = robot_webhook_problem(kind=self.kind, url=self.webhook_url)
            if problem:
                raise ValidationError({"webhook_url": problem})


class Channel(models.TextChoices):
    EMAIL = "email", _("Email")
    ROBOT = "robot", _("Group robot")
    # A personal message through the shop's DingTalk / WeCom / Feishu app (issue 21).
    SUITE = "suite", _("Workplace app")


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Waiting")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    SKIPPED = "skipped", _("Not needed any more")


class Delivery(models.Model):
    """The outbox: one row per notification and channel, written in the notification's transaction."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="deliveries", verbose_name=_("team"))
    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, related_name="deliveries", verbose_name=_("notification"))
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    robot = models.ForeignKey(Robot, on_delete=models.CASCADE, null=True, blank=True, related_name="deliveries", verbose_name=_("robot"))
    status = models.CharField(_("status"), max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    # Quiet hours: a non-urgent message waits until the morning.
    not_before = models.DateTimeField(_("not before"))
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"))
    claimed_at = models.DateTimeField(null=True, blank=True, editable=False)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    # One robot message may carry several notifications (a digest): they share the send's id.
    send_id = models.UUIDField(null=True, blank=True, editable=False, db_index=True)
    error_code = models.CharField(_("error code"), max_length=40, blank=True)
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["notification", "channel"], condition=Q(robot__isnull=True), name="checklists_delivery_once_per_channel"
            ),
            models.UniqueConstraint(
                fields=["notification", "robot"], condition=Q(robot__isnull=False), name="checklists_delivery_once_per_robot"
            ),
            models.CheckConstraint(
                condition=Q(channel="robot", robot__isnull=False) | (~Q(channel="robot") & Q(robot__isnull=True)),
                name="checklists_delivery_robot_iff_robot_channel",
            ),
        ]
        indexes = [
            models.Index(fields=["next_attempt_at"], condition=Q(status="pending"), name="checklists_delivery_pending"),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} → {self.notification.recipient} ({self.get_status_display()})"


class RobotSend(models.Model):
    """One HTTP call to a robot: what the rate limit counts, and where a failure's error code is shown."""

    robot = models.ForeignKey(Robot, on_delete=models.CASCADE, related_name="sends", verbose_name=_("robot"))
    send_id = models.UUIDField(unique=True)
    at = models.DateTimeField(_("sent at"))
    messages = models.PositiveSmallIntegerField(_("messages"), default=1)
    ok = models.BooleanField(_("delivered"))
    http_status = models.PositiveSmallIntegerField(_("HTTP status"), null=True, blank=True)
    error_code = models.CharField(_("error code"), max_length=40, blank=True)
    error = models.TextField(_("error"), blank=True)
    is_test = models.BooleanField(_("test message"), default=False)

    class Meta:
        verbose_name = _("robot send")
        verbose_name_plural = _("robot sends")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["robot", "at"], name="checklists_robotsend_window")]

    def __str__(self) -> str:
        return f"{self.robot} {self.at:%Y-%m-%d %H:%M} {'ok' if self.ok else self.error_code}"
