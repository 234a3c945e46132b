"""Pages: the notification list behind the bell, and the director's group robots page."""

from __future__ import annotations

from functools import partial

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from checklists.models import Robot
from checklists.notify.robots import robot_create, robot_send_outcome, robot_send_test, robot_update
from checklists.notify.selectors import (
    delivery_attention_list,
    delivery_get,
    notification_get,
    notification_list,
    robot_get,
    robot_list,
    robot_send_list,
)
from checklists.notify.services import delivery_retry_now, notification_mark_read
from roles.access import member_required
from roles.models import Role

PAGE_SIZE = 100


@require_GET
@member_required
def notifications(request: HttpRequest) -> HttpResponse:
    rows = list(notification_list(viewer=request.member)[:PAGE_SIZE])
    return render(request, "checklists/notifications.html", {"notifications": rows})


@require_GET
@member_required
def notification_open(request: HttpRequest, notification_id: int) -> HttpResponse:
    """Following a notification's link marks it read."""
    notification = notification_get(viewer=request.member, notification_id=notification_id)
    notification_mark_read(member=request.member, notification_ids=[notification.pk], now=timezone.now())
    target = notification.url or "/notifications/"
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        target = "/notifications/"
    return redirect(target)


@require_POST
@member_required
def notification_read(request: HttpRequest, notification_id: int) -> HttpResponse:
    notification = notification_get(viewer=request.member, notification_id=notification_id)
    notification_mark_read(member=request.member, notification_ids=[notification.pk], now=timezone.now())
    if request.htmx:
        notification.refresh_from_db()
        return render(request, "checklists/_notification.html", {"n": notification, "oob_bell": True})
    return redirect("notifications")


@require_POST
@member_required
def notifications_read_all(request: HttpRequest) -> HttpResponse:
    notification_mark_read(member=request.member, all_unread=True, now=timezone.now())
    return redirect("notifications")


# --- robots (the director) ----------------------------------------------------------------------------


def _director_only(request: HttpRequest) -> None:
    """Inside the team but not the director: 403 (another team's robot is a 404, from the selectors)."""
    member = request.member
    if not (member.is_director or member.user.is_superuser):
        raise PermissionDenied(_("Only the director manages the group robots."))


class RobotForm(forms.ModelForm):
    webhook_url = forms.URLField(
        label=gettext_lazy("Webhook URL"),
        max_length=500,
        assume_scheme="https",
        help_text=gettext_lazy(
            "DingTalk: https://oapi.dingtalk.com/robot/send?access_token=…, WeCom: https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…, "
            "Feishu: https://open.feishu.cn/open-apis/bot/v2/hook/…"
        ),
    )
    # Not required: empty is the vendor's limit for the chosen kind (the service fills it in).
    rate_per_minute = forms.IntegerField(
        label=gettext_lazy("Messages per minute"),
        min_value=1,
        max_value=100,
        required=False,
        widget=forms.NumberInput(attrs={"placeholder": gettext_lazy("The vendor's limit")}),
        help_text=gettext_lazy(
            "Leave empty for the vendor's limit: DingTalk and WeCom accept 20 a minute, Feishu 100. Above it the group gets digests."
        ),
    )
    secret = forms.CharField(
        label=gettext_lazy("Signing secret"),
        required=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text=gettext_lazy("DingTalk: the SEC… string under 加签. Feishu: the secret under 签名校验. WeCom has none."),
    )

    class Meta:
        model = Robot
        fields = ["kind", "name", "role", "webhook_url", "secret", "rate_per_minute", "is_active"]

    def __init__(self, *args, team, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].queryset = Role.objects.filter(team=team).order_by("order", "code")
        self.fields["role"].empty_label = _("The whole team")
        if editing:
            self.fields["secret"].help_text = _("Leave empty to keep the current secret.")


def _robots_page(request: HttpRequest, *, form: RobotForm, status: int = 200) -> HttpResponse:
    context = {
        "robots": list(robot_list(viewer=request.member)),
        "form": form,
        "attention": delivery_attention_list(viewer=request.member),
        "sends": robot_send_list(viewer=request.member),
    }
    return render(request, "checklists/robots.html", context, status=status)


def _save(request: HttpRequest, form: RobotForm, save) -> bool:
    if not form.is_valid():
        return False
    try:
        save(**form.cleaned_data)
    except ValidationError as exc:
        form.add_error(None, exc)
        return False
    return True


@require_http_methods(["GET", "POST"])
@member_required
def robots(request: HttpRequest) -> HttpResponse:
    _director_only(request)
    team = request.member.team
    form = RobotForm(request.POST or None, team=team)
    if request.method == "POST" and _save(request, form, lambda **fields: robot_create(team=team, actor=request.member, **fields)):
        messages.success(request, _("Robot added. Send a test message to check it."))
        return redirect("robots")
    # A refused form (another team's role, a bad address) is drawn again with its errors: 400, nothing written.
    return _robots_page(request, form=form, status=400 if request.method == "POST" else 200)


@require_http_methods(["GET", "POST"])
@member_required
def robot_edit(request: HttpRequest, robot_id: int) -> HttpResponse:
    _director_only(request)
    robot = robot_get(viewer=request.member, robot_id=robot_id)
    form = RobotForm(request.POST or None, instance=robot, team=request.member.team, editing=True)
    # The form validated (and changed) its copy: the service saves a fresh one, keeping the secret if none was typed.
    save = partial(robot_update, robot=robot_get(viewer=request.member, robot_id=robot_id), actor=request.member)
    if request.method == "POST" and _save(request, form, save):
        messages.success(request, _("Robot saved."))
        return redirect("robots")
    return render(request, "checklists/robot_edit.html", {"robot": robot, "form": form}, status=400 if request.method == "POST" else 200)


@require_POST
@member_required
def robot_active(request: HttpRequest, robot_id: int) -> HttpResponse:
    """Disable or enable a robot from the list (a disabled robot's waiting messages are not sent)."""
    _director_only(request)
    robot = robot_get(viewer=request.member, robot_id=robot_id)
    robot_update(robot=robot, actor=request.member, is_active=request.POST.get("active") == "1")
    return redirect("robots")


@require_POST
@member_required
def robot_test(request: HttpRequest, robot_id: int) -> HttpResponse:
    _director_only(request)
    robot = robot_get(viewer=request.member, robot_id=robot_id)
    error = ""
    send = None
    try:
        send = robot_send_test(robot=robot, actor=request.member, now=timezone.now())
    except ValidationError as exc:
        error = " ".join(exc.messages)
    # Only our own sentence about the result is shown, never what the robot's server answered (SSRF).
    outcome = robot_send_outcome(send=send) if send else ""
    if request.htmx:
        return render(request, "checklists/_robot_test.html", {"robot": robot, "send": send, "error": error, "outcome": outcome})
    if send and send.ok:
        messages.success(request, _("Test message delivered to %(robot)s.") % {"robot": robot.name})
    else:
        messages.error(request, error or outcome)
    return redirect("robots")


@require_POST
@member_required
def delivery_retry(request: HttpRequest, delivery_id: int) -> HttpResponse:
    _director_only(request)
    delivery = delivery_get(viewer=request.member, delivery_id=delivery_id)
    try:
        delivery_retry_now(delivery=delivery, actor=request.member, now=timezone.now())
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("The message will be sent again within a minute."))
    return redirect("robots")
