"""KPI definitions (PLAYBOOK §6), the figures recorded each day, targets, and grading rules (PLAYBOOK §5)."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from roles.models.team import Member, PlaybookRow, Role, Team


class MetricKind(models.TextChoices):
    BASE = "base", _("Recorded figure")
    RATIO = "ratio", _("Ratio of two figures")
    # K-ROI's 运营成本 (001 §1 B): 广告费 + 免邮费 + 打折促销 等, the recorded figures whose part_of is this one.
    SUM = "sum", _("Sum of recorded figures")
    # 客单价均值, 全店转化率均值 (002 销售15, 19): the days' ratios added up and divided by the days, never the pooled ratio.
    MEAN = "mean", _("Average of daily ratios")


class Direction(models.TextChoices):
    HIGHER = "higher", _("Higher is better")
    LOWER = "lower", _("Lower is better")


class MetricScope(models.TextChoices):
    SHOP = "shop", _("The shop")
    MEMBER = "member", _("Each member")


class Aggregation(models.TextChoices):
    SUM = "sum", _("Sum over the period")
    # A stock such as 会员总数 is not added up day after day: the period's value is its last day's.
    LAST = "last", _("Last value in the period")


class MetricQuerySet(models.QuerySet):
    def visible_to(self, viewer: Member) -> MetricQuerySet:
        return self.filter(team_id=viewer.team_id)


class Metric(PlaybookRow):
    """A KPI definition (PLAYBOOK §6): a figure recorded each day, or a ratio of two summed figures."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="metrics", verbose_name=_("team"))
    code = models.SlugField(_("code"), max_length=40, help_text=_("e.g. sales, roi; used by the API"))
    name = models.CharField(_("name"), max_length=50)
    kind = models.CharField(_("kind"), max_length=10, choices=MetricKind.choices, default=MetricKind.BASE)
    unit = models.CharField(_("unit"), max_length=10, blank=True, help_text=_("元, 人, 笔, 次, or % for a share"))
    direction = models.CharField(_("direction"), max_length=10, choices=Direction.choices, default=Direction.HIGHER)
    # Which reports carry it (PLAYBOOK §6: 每日, 每周, 每季度), comma-separated.
    periods = models.CharField(_("periods"), max_length=40, blank=True, help_text=_("daily, weekly, quarterly (comma-separated)"))
    # Deleting a figure deletes the ratios built on it (the admin lists them first); a team deletes cleanly.
    numerator = models.ForeignKey("self", on_delete=models.CASCADE, null=True, blank=True, related_name="+", verbose_name=_("numerator"))
    denominator = models.ForeignKey(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="+", verbose_name=_("denominator")
    )
    scope = models.CharField(_("recorded for"), max_length=10, choices=MetricScope.choices, default=MetricScope.SHOP)
    aggregation = models.CharField(_("over a period"), max_length=10, choices=Aggregation.choices, default=Aggregation.SUM)
    aliases = models.CharField(
        _("other names"), max_length=200, blank=True, help_text=_("Other column headers the import accepts, separated by |")
    )
    # A cost line (直通车花费, 免邮费, 打折促销, or one the team adds) adds into a sum such as 运营成本.
    part_of = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="lines",
        verbose_name=_("adds into"),
        help_text=_("A sum (such as 运营成本) this figure is one line of"),
    )
    # 访客数 and 支付买家数 count each person once over a week or a month: the days' figures summed overstate them.
    distinct = models.BooleanField(
        _("counted once per period"),
        default=False,
        help_text=_("A week's or month's figure is not the sum of its days (访客数, 支付买家数)"),
    )
    source = models.CharField(_("source"), max_length=40, blank=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    objects = MetricQuerySet.as_manager()

    class Meta:
        verbose_name = _("metric")
        verbose_name_plural = _("metrics")
        ordering = ["team", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["team", "code"], name="roles_metric_one_code_per_team"),
            # A ratio is always computed from its two summed parts (never an average of daily ratios); a mean names
            # the ratio whose daily values it averages (in numerator); a sum's parts are the figures that add into it.
            models.CheckConstraint(
                condition=Q(kind__in=["base", "sum"], numerator__isnull=True, denominator__isnull=True)
                | Q(kind="ratio", numerator__isnull=False, denominator__isnull=False)
                | Q(kind="mean", numerator__isnull=False, denominator__isnull=True),
                name="roles_metric_ratio_has_parts",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_ratio(self) -> bool:
        return self.kind == MetricKind.RATIO

    @property
    def is_recorded(self) -> bool:
        """A figure people enter or import (the others are computed from these)."""
        return self.kind == MetricKind.BASE

    @property
    def is_share(self) -> bool:
        return self.unit == "%"

    @property
    def period_list(self) -> list[str]:
        return [p.strip() for p in self.periods.split(",") if p.strip()]

    @property
    def alias_list(self) -> list[str]:
        return [a.strip() for a in self.aliases.split("|") if a.strip()]

    def clean(self) -> None:
        if self.is_ratio and (self.numerator is None or self.denominator is None):
            raise ValidationError(_("A ratio needs a numerator and a denominator."))
        if self.kind == MetricKind.MEAN:
            if self.numerator is None or not self.numerator.is_ratio or self.denominator is not None:
                raise ValidationError(_("An average of daily ratios names the ratio (as numerator) and no denominator."))
        elif self.kind == MetricKind.SUM and (self.numerator is not None or self.denominator is not None):
            raise ValidationError(_("A sum has no numerator or denominator: its lines are the figures that add into it."))
        elif self.is_ratio:
            for part in (self.numerator, self.denominator):
                if part is not None and (part.kind not in (MetricKind.BASE, MetricKind.SUM) or part.team_id != self.team_id):
                    raise ValidationError(_("A ratio's parts must be recorded figures or sums of the same team."))
        if self.part_of is not None and (
            self.part_of.kind != MetricKind.SUM or self.part_of.team_id != self.team_id or not self.is_recorded
        ):
            raise ValidationError({"part_of": _("Only a recorded figure adds into a sum of the same team.")})


class EntrySource(models.TextChoices):
    FORM = "form", _("Entered on the page")
    IMPORT = "import", _("Imported from a file")
    API = "api", _("Sent through the API")


class MetricEntryQuerySet(models.QuerySet):
    def visible_to(self, viewer: Member) -> MetricEntryQuerySet:
        return self.filter(team_id=viewer.team_id)


class MetricEntry(models.Model):
    """One recorded figure for one day: the shop's (no member) or one member's, e.g. a 客服's 询单人数."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="metric_entries", verbose_name=_("team"))
    metric = models.ForeignKey(Metric, on_delete=models.CASCADE, related_name="entries", verbose_name=_("metric"))
    member = models.ForeignKey(
        Member, on_delete=models.CASCADE, null=True, blank=True, related_name="metric_entries", verbose_name=_("member")
    )
    date = models.DateField(_("date"))
    value = models.DecimalField(_("value"), max_digits=16, decimal_places=2)
    source = models.CharField(_("source"), max_length=10, choices=EntrySource.choices, default=EntrySource.FORM)
    entered_by = models.ForeignKey(Member, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("entered by"))
    entered_at = models.DateTimeField(_("entered at"))

    objects = MetricEntryQuerySet.as_manager()

    class Meta:
        verbose_name = _("daily figure")
        verbose_name_plural = _("daily figures")
        ordering = ["-date", "metric__order"]
        constraints = [
            models.UniqueConstraint(
                fields=["metric", "date"], condition=Q(member__isnull=True), name="roles_metricentry_one_per_metric_per_day"
            ),
            models.UniqueConstraint(
                fields=["metric", "date", "member"],
                condition=Q(member__isnull=False),
                name="roles_metricentry_one_per_member_metric_per_day",
            ),
            models.CheckConstraint(condition=Q(value__gte=0), name="roles_metricentry_not_negative"),
        ]
        indexes = [models.Index(fields=["team", "date"], name="roles_metricentry_team_date")]

    def __str__(self) -> str:
        return f"{self.date} {self.metric_id}={self.value}"


class MetricEntryChange(models.Model):
    """One change of a recorded figure, with its value before and after (empty: there was none, or it was removed)."""

    # MetricEntry keeps only the latest value and writer: this is the history the audit trail needs (issue 7).
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="+", verbose_name=_("team"))
    metric = models.ForeignKey(Metric, on_delete=models.CASCADE, related_name="+", verbose_name=_("metric"))
    member = models.ForeignKey(Member, on_delete=models.CASCADE, null=True, blank=True, related_name="+", verbose_name=_("member"))
    date = models.DateField(_("date"))
    before = models.DecimalField(_("before"), max_digits=16, decimal_places=2, null=True, blank=True)
    after = models.DecimalField(_("after"), max_digits=16, decimal_places=2, null=True, blank=True)
    source = models.CharField(_("source"), max_length=10, choices=EntrySource.choices, default=EntrySource.FORM)
    actor = models.ForeignKey(Member, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("changed by"))
    at = models.DateTimeField(_("changed at"))

    class Meta:
        verbose_name = _("change of a daily figure")
        verbose_name_plural = _("changes of daily figures")
        ordering = ["-at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(before__isnull=False) | Q(after__isnull=False), name="roles_metricentrychange_before_or_after"
            ),
        ]
        indexes = [models.Index(fields=["team", "-at"], name="roles_entrychange_team_at")]

    def __str__(self) -> str:
        return f"{self.date} {self.metric_id}: {self.before} → {self.after}"


class SplitKind(models.TextChoices):
    NONE = "none", _("Not split (a level for the month)")
    EVEN = "even", _("Evenly over the month's days")
    WEEKDAY = "weekday", _("By weekday weights")


class TargetQuerySet(models.QuerySet):
    def visible_to(self, viewer: Member) -> TargetQuerySet:
        return self.filter(team_id=viewer.team_id)


class Target(models.Model):
    """A month's target for one KPI: the team's, a role's or a member's; a sales target may be split over the days."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="targets", verbose_name=_("team"))
    metric = models.ForeignKey(Metric, on_delete=models.CASCADE, related_name="targets", verbose_name=_("metric"))
    month = models.DateField(_("month"), help_text=_("The first day of the month"))
    value = models.DecimalField(_("target"), max_digits=16, decimal_places=4)
    split = models.CharField(_("split over the days"), max_length=10, choices=SplitKind.choices, default=SplitKind.NONE)
    # Monday first, seven numbers: 周末 can carry more of the month than a Tuesday.
    weekday_weights = models.JSONField(_("weekday weights"), default=list, blank=True, help_text=_("Seven numbers, Monday first"))
    role = models.ForeignKey(Role, on_delete=models.CASCADE, null=True, blank=True, related_name="targets", verbose_name=_("role"))
    member = models.ForeignKey(Member, on_delete=models.CASCADE, null=True, blank=True, related_name="targets", verbose_name=_("member"))
    set_by = models.ForeignKey(Member, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("set by"))
    set_at = models.DateTimeField(_("set at"), null=True, blank=True)

    objects = TargetQuerySet.as_manager()

    class Meta:
        verbose_name = _("target")
        verbose_name_plural = _("targets")
        ordering = ["-month", "metric__order"]
        constraints = [
            models.CheckConstraint(condition=Q(value__gte=0), name="roles_target_not_negative"),
            models.CheckConstraint(condition=Q(role__isnull=True) | Q(member__isnull=True), name="roles_target_role_or_member"),
            models.UniqueConstraint(
                fields=["team", "metric", "month"],
                condition=Q(role__isnull=True, member__isnull=True),
                name="roles_target_one_per_team_metric_month",
            ),
            models.UniqueConstraint(
                fields=["metric", "month", "role"], condition=Q(role__isnull=False), name="roles_target_one_per_role_metric_month"
            ),
            models.UniqueConstraint(
                fields=["metric", "month", "member"], condition=Q(member__isnull=False), name="roles_target_one_per_member_metric_month"
            ),
        ]

    def __str__(self) -> str:
        who = self.member or self.role or self.team
        return f"{self.metric} {self.month:%Y-%m} {who}: {self.value}"

    def clean(self) -> None:
        if self.split == SplitKind.WEEKDAY:
            weights = self.weekday_weights or []
            if len(weights) != 7 or any(not isinstance(w, int | float) or w < 0 for w in weights) or not any(weights):
                raise ValidationError({"weekday_weights": _("Give seven weights, Monday first, none negative and not all zero.")})


class KpiKind(models.TextChoices):
    BANDS = "bands", _("Graded in bands")
    DAILY_TARGET = "daily_target", _("Each day against the day's target")
    MEMBER_VS_TEAM = "member_vs_team", _("Each member against the team average")
    ON_TIME = "on_time", _("Share done on time")
    TRACKED = "tracked", _("Tracked")


class Tone(models.TextChoices):
    BAD = "bad", _("Bad")
    PASS = "pass", _("Pass")
    GOOD = "good", _("Good")
    BEST = "best", _("Best")


class Kpi(PlaybookRow):
    """A target and how it is judged (PLAYBOOK §5), e.g. K-ROI graded 不及格 / 及格 / 良好 / 优秀."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="kpis", verbose_name=_("team"))
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=20, choices=KpiKind.choices, default=KpiKind.TRACKED)
    metric = models.ForeignKey(Metric, on_delete=models.SET_NULL, null=True, blank=True, related_name="kpis", verbose_name=_("metric"))
    rule = models.TextField(_("rule"), blank=True)
    # [{"from": 3, "label": "及格", "tone": "pass"}, ...]: a value gets the highest band whose "from" it reaches
    # (inclusive, so ROI 3.00 is 及格). Kept on the row so the board grades every KPI without another query.
    bands = models.JSONField(_("grading bands"), default=list, blank=True)
    min_share = models.DecimalField(
        _("lowest share of the target"), max_digits=5, decimal_places=4, null=True, blank=True, help_text=_("e.g. 0.5: flagged under 50%")
    )
    tracked = models.CharField(_("tracked metrics"), max_length=200, blank=True, help_text=_("Metric codes, comma-separated"))
    source = models.CharField(_("source"), max_length=40, blank=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("KPI")
        verbose_name_plural = _("KPIs")
        ordering = ["team", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["team", "playbook_id"], condition=~Q(playbook_id=""), name="roles_kpi_one_per_playbook_id"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def tracked_codes(self) -> list[str]:
        return [c.strip() for c in self.tracked.split(",") if c.strip()]

    def clean(self) -> None:
        try:
            bounds = [Decimal(str(band["from"])) for band in self.bands]
            for band in self.bands:
                if not str(band["label"]).strip() or band.get("tone", "pass") not in Tone.values:
                    raise ValueError
        except (KeyError, TypeError, ValueError, ArithmeticError):
            raise ValidationError(
                {"bands": _('Write each band as {"from": 3, "label": "及格", "tone": "pass"}; tone is bad, pass, good or best.')}
            ) from None
        if bounds != sorted(set(bounds)):
            raise ValidationError({"bands": _("Bands must go up: each one starts above the one before.")})


class PeriodFigure(models.Model):
    """A figure for a whole week or month from a period export (生意参谋's weekly 访客数 counts each visitor once)."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="+", verbose_name=_("team"))
    metric = models.ForeignKey(Metric, on_delete=models.CASCADE, related_name="period_figures", verbose_name=_("metric"))
    start = models.DateField(_("from"))
    end = models.DateField(_("to"))
    value = models.DecimalField(_("value"), max_digits=16, decimal_places=2)
    source = models.CharField(_("source"), max_length=10, choices=EntrySource.choices, default=EntrySource.IMPORT)
    entered_by = models.ForeignKey(Member, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("entered by"))
    entered_at = models.DateTimeField(_("entered at"))

    class Meta:
        verbose_name = _("period figure")
        verbose_name_plural = _("period figures")
        ordering = ["-start", "metric__order"]
        constraints = [
            models.UniqueConstraint(fields=["team", "metric", "start", "end"], name="roles_periodfigure_one_per_metric_period"),
            models.CheckConstraint(condition=Q(end__gt=models.F("start")), name="roles_periodfigure_end_after_start"),
            models.CheckConstraint(condition=Q(value__gte=0), name="roles_periodfigure_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.start}–{self.end} {self.metric_id}={self.value}"


class ImportLayout(PlaybookRow):
    """An export's columns and the metric each becomes (生意参谋, 京东商智, 拼多多, 抖店, 直通车, 客服 exports)."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="import_layouts", verbose_name=_("team"))
    code = models.SlugField(_("code"), max_length=40)
    name = models.CharField(_("name"), max_length=60)
    # {"访客数": "visitors", "统计日期": "@date", "客服": "@agent", "计划名称": "@label"}; empty: the metrics' names and aliases.
    columns = models.JSONField(_("columns"), default=dict, blank=True)
    # Headers that tell this export apart; all must be present for the import to pick it by itself.
    signature = models.CharField(_("recognised by"), max_length=200, blank=True, help_text=_("Headers separated by |"))
    per_member = models.BooleanField(_("one row per member"), default=False)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("import layout")
        verbose_name_plural = _("import layouts")
        ordering = ["team", "order", "id"]
        constraints = [models.UniqueConstraint(fields=["team", "code"], name="roles_importlayout_one_code_per_team")]

    def __str__(self) -> str:
        return self.name

    @property
    def signature_list(self) -> list[str]:
        return [s.strip() for s in self.signature.split("|") if s.strip()]


class AgentName(models.Model):
    """A name or nickname an exported 客服 row carries (千牛, 赤兔), mapped once to the member it is."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="+", verbose_name=_("team"))
    name = models.CharField(_("name in the export"), max_length=100)
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="agent_names", verbose_name=_("member"))

    class Meta:
        verbose_name = _("agent name")
        verbose_name_plural = _("agent names")
        constraints = [models.UniqueConstraint(fields=["team", "name"], name="roles_agentname_one_per_team_name")]

    def __str__(self) -> str:
        return f"{self.name} → {self.member_id}"
