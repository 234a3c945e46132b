"""Meetings (PLAYBOOK §4): series from the playbook, meetings with agendas and minutes, decisions, action items, reflections."""

from __future__ import annotations

from datetime import time

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from opsteam.lib.idempotency import idempotency_key_constraint, idempotency_key_field
from roles.models import Member, PlaybookRow, Role, Team


class Cadence(models.TextChoices):
    WORKDAYS = "workdays", _("Every working day")
    WEEKLY = "weekly", _("Weekly")
    MONTHLY = "monthly", _("At least once a month")
    ON_DEMAND = "on_demand", _("When called")


class MeetingSeriesQuerySet(models.QuerySet):
    def visible_to(self, viewer: Member) -> MeetingSeriesQuerySet:
        """Every member of the team sees the team's meeting series."""
        return self.filter(team_id=viewer.team_id)


class MeetingSeries(PlaybookRow):
    """A kind of meeting a team holds, e.g. M-WEEKLY 部门周会 every Monday 10:00, chaired by the director."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="meeting_series", verbose_name=_("team"))
    name = models.CharField(_("name"), max_length=100)
    cadence = models.CharField(_("cadence"), max_length=20, choices=Cadence.choices)
    # ISO weekdays for a weekly series ("1" = Monday). A working-day series uses the working-day calendar instead.
    weekdays = models.CharField(_("weekdays"), max_length=7, blank=True, help_text=_("ISO weekdays, e.g. 1 for Monday"))
    starts_at = models.TimeField(_("starts at"), default=time(17, 30))
    # M-MONTHLY: the director is reminded on this day of the month if none is booked yet.
    remind_by_day = models.PositiveSmallIntegerField(_("remind the director by day"), null=True, blank=True)
    chair_role = models.ForeignKey(Role, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("chair (role)"))
    # Role codes of the attendees, e.g. ["operations", "promotion"]; empty: everyone in the team.
    attendee_roles = models.JSONField(_("attendees (role codes)"), default=list, blank=True)
    standing_agenda = models.JSONField(_("standing agenda"), default=list, blank=True)
    # M-ISSUE: anyone may call one; a lead or the director approves it before it is held.
    needs_approval = models.BooleanField(_("needs a lead's approval"), default=False)
    source = models.CharField(_("source"), max_length=100, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    objects = MeetingSeriesQuerySet.as_manager()

    class Meta:
        verbose_name = _("meeting series")
        verbose_name_plural = _("meeting series")
        ordering = ["team", "playbook_id", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["team", "playbook_id"], condition=~Q(playbook_id=""), name="checklists_meetingseries_playbook_id_once_per_team"
            ),
            models.CheckConstraint(
                condition=Q(remind_by_day__isnull=True) | Q(remind_by_day__gte=1, remind_by_day__lte=28),
                name="checklists_meetingseries_remind_day_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class MeetingStatus(models.TextChoices):
    REQUESTED = "requested", _("Waiting for approval")
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")


class MeetingQuerySet(models.QuerySet):
    def visible_to(self, viewer: Member) -> MeetingQuerySet:
        """The one access path: every member of the team sees the team's meetings; nobody sees another team's."""
        return self.filter(team_id=viewer.team_id)


class Meeting(models.Model):
    """One meeting of a series on a date: its agenda, attendance and minutes (draft until published)."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="meetings", verbose_name=_("team"))
    series = models.ForeignKey(MeetingSeries, on_delete=models.PROTECT, related_name="meetings", verbose_name=_("series"))
    title = models.CharField(_("title"), max_length=200)
    date = models.DateField(_("date"))
    starts_at = models.DateTimeField(_("starts at"))
    chair = models.ForeignKey(Member, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("chair"))
    # Copied from the series: scheduled series hold one meeting a date, problem meetings (M-ISSUE) as many as needed.
    on_demand = models.BooleanField(_("called on demand"), default=False, editable=False)
    status = models.CharField(_("status"), max_length=10, choices=MeetingStatus.choices, default=MeetingStatus.DRAFT)
    created_at = models.DateTimeField(_("created at"))
    created_by = models.ForeignKey(Member, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("created by"))
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    approved_by = models.ForeignKey(
        Member, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("approved by")
    )
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    published_by = models.ForeignKey(
        Member, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("published by")
    )
    # Every note, decision and action as plain text, rebuilt on each change: the list page searches it.
    search_text = models.TextField(blank=True, editable=False)
    # The caller's Idempotency-Key (opsteam.lib.idempotency): a problem meeting called twice at once is one meeting.
    idempotency_key = idempotency_key_field()

    objects = MeetingQuerySet.as_manager()

    class Meta:
        verbose_name = _("meeting")
        verbose_name_plural = _("meetings")
        ordering = ["-date", "-starts_at", "-id"]
        constraints = [
            # The scheduler's INSERT is guarded by this: a second run (or a second worker) cannot make a duplicate.
            models.UniqueConstraint(
                fields=["series", "date"], condition=Q(on_demand=False), name="checklists_meeting_one_per_series_per_date"
            ),
            idempotency_key_constraint(app_model="checklists_meeting"),
            models.CheckConstraint(
                condition=(Q(status="published") & Q(published_at__isnull=False)) | (~Q(status="published") & Q(published_at__isnull=True)),
                name="checklists_meeting_published_has_time",
            ),
        ]
        indexes = [models.Index(fields=["team", "-date"], name="checklists_meeting_team_date")]

    def __str__(self) -> str:
        return f"{self.title} {self.date}"

    @property
    def is_published(self) -> bool:
        return self.status == MeetingStatus.PUBLISHED


class AgendaKind(models.TextChoices):
    STANDING = "standing", _("Standing item")
    GENERATED = "generated", _("From the data")
    CARRIED = "carried", _("Carried over")
    ADDED = "added", _("Added")


class AgendaItem(models.Model):
    """One point of a meeting's agenda with its minutes notes (Markdown)."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="agenda_items", verbose_name=_("meeting"))
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    kind = models.CharField(_("kind"), max_length=10, choices=AgendaKind.choices, default=AgendaKind.ADDED)
    title = models.CharField(_("title"), max_length=300)
    # What the scheduler found in the data (sales against target, unfinished items, open escalations), as Markdown.
    prepared = models.TextField(_("prepared"), blank=True)
    notes = models.TextField(_("notes"), blank=True, help_text=_("Markdown"))
    # A carried-over point: the open action item it follows, and how many meetings it has been carried to.
    action_item = models.ForeignKey(
        "ActionItem", on_delete=models.CASCADE, null=True, blank=True, related_name="carried_to", verbose_name=_("action item")
    )
    carry_count = models.PositiveSmallIntegerField(_("times carried over"), default=0)
    # An item added by hand keeps its form's key, per meeting (the item has no author column).
    idempotency_key = idempotency_key_field()

    class Meta:
        verbose_name = _("agenda item")
        verbose_name_plural = _("agenda items")
        ordering = ["meeting", "order", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["meeting", "action_item"],
                condition=Q(action_item__isnull=False),
                name="checklists_agendaitem_action_once_per_meeting",
            ),
            idempotency_key_constraint(app_model="checklists_agendaitem", scope="meeting"),
            models.CheckConstraint(
                condition=Q(kind="carried", action_item__isnull=False, carry_count__gte=1) | (~Q(kind="carried") & Q(carry_count=0)),
                name="checklists_agendaitem_carried_has_action",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class AttendanceStatus(models.TextChoices):
    EXPECTED = "expected", _("Not marked")
    PRESENT = "present", _("Present")
    # Not the "Late" of a late tick (迟交): a person late to a meeting is 迟到.
    LATE = "late", pgettext_lazy("attendance", "Late")
    ABSENT = "absent", _("Absent")
    EXCUSED = "excused", _("Excused")


class Attendance(models.Model):
    """Whether a member came to a meeting."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="attendance", verbose_name=_("meeting"))
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="attendance", verbose_name=_("member"))
    status = models.CharField(_("attendance"), max_length=10, choices=AttendanceStatus.choices, default=AttendanceStatus.EXPECTED)

    class Meta:
        verbose_name = _("attendance")
        verbose_name_plural = _("attendance")
        ordering = ["meeting", "member__display_name"]
        constraints = [models.UniqueConstraint(fields=["meeting", "member"], name="checklists_attendance_one_per_member_per_meeting")]

    def __str__(self) -> str:
        return f"{self.member} · {self.get_status_display()}"


class Decision(models.Model):
    """What a meeting decided."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="decisions", verbose_name=_("meeting"))
    agenda_item = models.ForeignKey(
        AgendaItem, on_delete=models.SET_NULL, null=True, blank=True, related_name="decisions", verbose_name=_("agenda item")
    )
    text = models.TextField(_("decision"))
    created_by = models.ForeignKey(Member, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("recorded by"))
    created_at = models.DateTimeField(_("recorded at"))
    idempotency_key = idempotency_key_field()

    class Meta:
        verbose_name = _("decision")
        verbose_name_plural = _("decisions")
        ordering = ["meeting", "created_at", "id"]
        constraints = [idempotency_key_constraint(app_model="checklists_decision")]

    def __str__(self) -> str:
        return self.text[:80]


class ActionItemQuerySet(models.QuerySet):
    def visible_to(self, viewer: Member) -> ActionItemQuerySet:
        """Action items are the meeting's: whoever sees the meeting sees them."""
        return self.filter(meeting__team_id=viewer.team_id)

    def open(self) -> ActionItemQuerySet:
        """Not done yet: read from the duty, the one place the status lives."""
        return self.filter(task__status="open")


class ActionItem(models.Model):
    """Something a member agreed to do by a date; it becomes their duty (a Task) under the escalation chain."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="action_items", verbose_name=_("meeting"))
    agenda_item = models.ForeignKey(
        AgendaItem, on_delete=models.SET_NULL, null=True, blank=True, related_name="action_items", verbose_name=_("agenda item")
    )
    title = models.CharField(_("what"), max_length=200)
    owner = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="action_items", verbose_name=_("owner"))
    due_date = models.DateField(_("due date"))
    # Done when its duty is done: the duty carries the status, so the two can never disagree.
    task = models.OneToOneField(
        "checklists.Task", on_delete=models.PROTECT, null=True, blank=True, related_name="action_item", verbose_name=_("duty")
    )
    created_by = models.ForeignKey(Member, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("recorded by"))
    created_at = models.DateTimeField(_("recorded at"))
    idempotency_key = idempotency_key_field()

    objects = ActionItemQuerySet.as_manager()

    class Meta:
        verbose_name = _("action item")
        verbose_name_plural = _("action items")
        ordering = ["meeting", "due_date", "id"]
        constraints = [idempotency_key_constraint(app_model="checklists_actionitem")]

    def __str__(self) -> str:
        return self.title

    @property
    def is_done(self) -> bool:
        return self.task is not None and self.task.status == "done"


class Amendment(models.Model):
    """A change to published minutes: who, when, what it was and what it became."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="amendments", verbose_name=_("meeting"))
    member = models.ForeignKey(Member, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("amended by"))
    at = models.DateTimeField(_("amended at"))
    # e.g. "notes", "decision", "action_item"; with the row it touched.
    field = models.CharField(_("what"), max_length=30)
    agenda_item = models.ForeignKey(AgendaItem, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    before = models.TextField(_("before"), blank=True)
    after = models.TextField(_("after"), blank=True)
    reason = models.CharField(_("reason"), max_length=300)

    class Meta:
        verbose_name = _("amendment")
        verbose_name_plural = _("amendments")
        ordering = ["meeting", "at", "id"]

    def __str__(self) -> str:
        return f"{self.meeting} · {self.field} · {self.at:%Y-%m-%d %H:%M}"


class MeetingReminder(models.Model):
    """A reminder sent for a series in a month (M-MONTHLY: none booked by the 20th); once per series and month."""

    series = models.ForeignKey(MeetingSeries, on_delete=models.CASCADE, related_name="reminders")
    month = models.DateField(help_text="The first day of the month")
    sent_at = models.DateTimeField()

    class Meta:
        verbose_name = _("meeting reminder")
        verbose_name_plural = _("meeting reminders")
        constraints = [models.UniqueConstraint(fields=["series", "month"], name="checklists_meetingreminder_once_per_series_per_month")]

    def __str__(self) -> str:
        return f"{self.series} {self.month:%Y-%m}"


class ReflectionQuestion(PlaybookRow):
    """One of the 14 团队思考 questions (Q-THINK-1 .. Q-THINK-14) a member may answer each week."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="reflection_questions", verbose_name=_("team"))
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    text = models.CharField(_("question"), max_length=300)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("reflection question")
        verbose_name_plural = _("reflection questions")
        ordering = ["team", "order", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["team", "playbook_id"], condition=~Q(playbook_id=""), name="checklists_reflectionquestion_playbook_id_once"
            ),
        ]

    def __str__(self) -> str:
        return self.text


class WeeklyReflectionQuerySet(models.QuerySet):
    def visible_to(self, viewer: Member) -> WeeklyReflectionQuerySet:
        """The member's own; a lead's role members'; the director's whole team."""
        from roles.selectors import member_led_role_ids

        team_rows = self.filter(team_id=viewer.team_id)
        if viewer.is_director or viewer.user.is_superuser:
            return team_rows
        led = member_led_role_ids(member=viewer)
        return team_rows.filter(Q(member=viewer) | Q(member__role_links__role_id__in=led)).distinct()


class WeeklyReflection(models.Model):
    """A member's answers to the 团队思考 questions for one ISO week (optional)."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="reflections", verbose_name=_("team"))
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="reflections", verbose_name=_("member"))
    # The Monday of the ISO week.
    week = models.DateField(_("week of"))
    # {"Q-THINK-1": "answer", ...}: keyed by the question's playbook ID so an edited question keeps its answers.
    answers = models.JSONField(_("answers"), default=dict, blank=True)
    updated_at = models.DateTimeField(_("updated at"))

    objects = WeeklyReflectionQuerySet.as_manager()

    class Meta:
        verbose_name = _("weekly reflection")
        verbose_name_plural = _("weekly reflections")
        ordering = ["-week", "member__display_name"]
        constraints = [
            models.UniqueConstraint(fields=["member", "week"], name="checklists_weeklyreflection_one_per_member_per_week"),
            models.CheckConstraint(condition=Q(week__week_day=2), name="checklists_weeklyreflection_week_is_monday"),
        ]

    def __str__(self) -> str:
        return f"{self.member} {self.week:%G-W%V}"
