"""Teams (shops), their roles, members, covers and working-day calendar."""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class PlaybookRow(models.Model):
    """Fields shared by every row the playbook loader writes (abstract)."""

    playbook_id = models.CharField(
        _("playbook ID"), max_length=40, blank=True, help_text=_("e.g. SC-WH-1; empty for rows added by the owner")
    )
    # The checksum of the fields as the loader last wrote them: a row whose current fields no
    # longer match was edited by its owner, and the loader leaves it alone (issue 2).
    playbook_checksum = models.CharField(max_length=64, blank=True, editable=False)

    class Meta:
        abstract = True


class Team(models.Model):
    """A shop (e.g. 示例旗舰店): the unit that owns roles, members and data."""

    name = models.CharField(_("name"), max_length=100)
    slug = models.SlugField(_("slug"), max_length=50, unique=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("team")
        verbose_name_plural = _("teams")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class RoleCode(models.TextChoices):
    DIRECTOR = "director", _("Director")
    OPERATIONS = "operations", _("Operations")
    PROMOTION = "promotion", _("Promotion")
    DESIGN = "design", _("Design")
    SERVICE = "service", _("Customer service")
    WAREHOUSE = "warehouse", _("Warehouse")


class Role(PlaybookRow):
    """A job in a team (PLAYBOOK §1: 运营, 推广, 美工, 客服, 仓库 and 总监)."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="roles", verbose_name=_("team"))
    code = models.CharField(_("code"), max_length=20, choices=RoleCode.choices)
    name = models.CharField(_("name"), max_length=50)
    responsibilities = models.TextField(_("responsibilities"), blank=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("role")
        verbose_name_plural = _("roles")
        ordering = ["team", "order", "code"]
        constraints = [models.UniqueConstraint(fields=["team", "code"], name="roles_role_one_code_per_team")]

    def __str__(self) -> str:
        return self.name


class MemberQuerySet(models.QuerySet):
    def visible_to(self, viewer: Member) -> MemberQuerySet:
        """Members the viewer may see: their own team only."""
        return self.filter(team_id=viewer.team_id)

    def active(self) -> MemberQuerySet:
        return self.filter(is_active=True, user__is_active=True)


class Member(models.Model):
    """A person in a team: a login, the roles they hold and whether they direct the team."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="member", verbose_name=_("user"))
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="members", verbose_name=_("team"))
    display_name = models.CharField(_("display name"), max_length=50)
    is_director = models.BooleanField(_("director"), default=False)
    is_active = models.BooleanField(_("active"), default=True)
    # How the group robots @ a person (issue 4): DingTalk and WeCom by mobile, Feishu by open_id.
    mobile = models.CharField(_("mobile"), max_length=20, blank=True)
    feishu_open_id = models.CharField(_("Feishu open_id"), max_length=64, blank=True)
    notify_by_email = models.BooleanField(_("notify by email"), default=True)
    roles = models.ManyToManyField(Role, through="MemberRole", related_name="members", verbose_name=_("roles"))

    objects = MemberQuerySet.as_manager()

    class Meta:
        verbose_name = _("member")
        verbose_name_plural = _("members")
        ordering = ["team", "display_name"]

    def __str__(self) -> str:
        return self.display_name


class MemberRole(models.Model):
    """A member holding a role, as its lead or not."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="role_links", verbose_name=_("member"))
    role = models.ForeignKey(Role, on_delete=models.CASCADE, related_name="member_links", verbose_name=_("role"))
    is_lead = models.BooleanField(_("lead"), default=False)

    class Meta:
        verbose_name = _("role held")
        verbose_name_plural = _("roles held")
        constraints = [
            models.UniqueConstraint(fields=["member", "role"], name="roles_memberrole_once_per_member"),
            # PLAYBOOK §1: "each role has a lead" - one, so escalation knows whom to call.
            models.UniqueConstraint(fields=["role"], condition=Q(is_lead=True), name="roles_memberrole_one_lead_per_role"),
        ]

    def __str__(self) -> str:
        return f"{self.member} · {self.role}"


class CoverQuerySet(models.QuerySet):
    def on(self, day: date) -> CoverQuerySet:
        return self.filter(start_date__lte=day, end_date__gte=day)


class Cover(models.Model):
    """Member A covers member B from a date to a date: B's duties go to A."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="covers", verbose_name=_("team"))
    absent = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="covered_by", verbose_name=_("absent member"))
    cover = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="covering", verbose_name=_("covering member"))
    start_date = models.DateField(_("from"))
    end_date = models.DateField(_("to"))
    reason = models.CharField(_("reason"), max_length=200, blank=True)

    objects = CoverQuerySet.as_manager()

    class Meta:
        verbose_name = _("cover")
        verbose_name_plural = _("covers")
        ordering = ["-start_date"]
        constraints = [
            models.CheckConstraint(condition=Q(end_date__gte=models.F("start_date")), name="roles_cover_ends_after_start"),
            models.CheckConstraint(condition=~Q(absent=models.F("cover")), name="roles_cover_not_self"),
        ]

    def __str__(self) -> str:
        return f"{self.cover} → {self.absent} ({self.start_date}–{self.end_date})"


class CalendarOverride(models.Model):
    """A team's own answer for one date: a working day or a day off. Wins over the national calendar."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="calendar_overrides", verbose_name=_("team"))
    date = models.DateField(_("date"))
    is_workday = models.BooleanField(_("working day"))
    note = models.CharField(_("note"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("calendar override")
        verbose_name_plural = _("calendar overrides")
        ordering = ["-date"]
        constraints = [models.UniqueConstraint(fields=["team", "date"], name="roles_calendaroverride_one_per_team_per_date")]

    def __str__(self) -> str:
        state = _("working day") if self.is_workday else _("day off")
        return f"{self.team} {self.date}: {state}"


class CalendarGap(models.Model):
    """A year the calendar package does not know; recorded so the admins are warned once."""

    year = models.PositiveSmallIntegerField(_("year"), unique=True)
    warned_at = models.DateTimeField(_("admins warned at"), auto_now_add=True)

    class Meta:
        verbose_name = _("calendar gap")
        verbose_name_plural = _("calendar gaps")

    def __str__(self) -> str:
        return str(self.year)
