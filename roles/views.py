"""Pages of a login: log in (with "记住这台手机"), log out, and the phones that stay signed in (issue 17)."""

from __future__ import annotations

import re

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from opsteam.lib.params import id_parse
from roles.access import member_required
from roles.models import Member, RememberedDevice
from roles.selectors import member_get_for_user
from roles.services.devices import device_forget_session, device_list, device_list_for_team, device_remember, device_revoke

# A phone's browser says so in its User-Agent; the login page's script also ticks the box on a narrow touch screen.
_PHONE_AGENT = re.compile(r"Mobi|Android|iPhone|iPod|Windows Phone|HarmonyOS|MicroMessenger|DingTalk", re.IGNORECASE)
REMEMBER_FIELD = "remember"


def is_phone(request: HttpRequest) -> bool:
    return bool(_PHONE_AGENT.search(request.headers.get("User-Agent", "")))


class LoginView(auth_views.LoginView):
    """Django's login; with "记住这台手机" ticked the session lasts weeks, else the shared-computer rule (12 h, browser close)."""

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if self.request.method == "POST":
            context["remember"] = bool(self.request.POST.get(REMEMBER_FIELD))
        else:
            context["remember"] = is_phone(self.request)
        context["remember_days"] = settings.OPSTEAM_REMEMBER_DEVICE_DAYS
        return context

    def form_valid(self, form):
        response = super().form_valid(form)
        if self.request.POST.get(REMEMBER_FIELD):
            member = member_get_for_user(user=form.get_user())
            if member is not None:
                device_remember(request=self.request, member=member, now=timezone.now())
        return response


class LogoutView(auth_views.LogoutView):
    """Django's logout; the phone is no longer remembered."""

    def post(self, request, *args, **kwargs):
        device_forget_session(session_key=request.session.session_key)
        return super().post(request, *args, **kwargs)


def _phones_subject(request: HttpRequest) -> Member:
    """Whose phones: one's own, or (the director) a member of the team by ?member=ID; anyone else's is 404."""
    raw = request.GET.get("member")
    if not raw:
        return request.member
    member_id = id_parse(raw)
    if member_id == request.member.pk:
        return request.member
    if not (request.member.is_director or request.user.is_superuser):
        raise Http404
    subject = Member.objects.filter(team_id=request.member.team_id, pk=member_id).first() if member_id else None
    if subject is None:
        raise Http404
    return subject


@require_http_methods(["GET"])
@member_required
def phones(request: HttpRequest) -> HttpResponse:
    """The phones that stay signed in: the member's own, or for the director every member's."""
    now = timezone.now()
    subject = _phones_subject(request)
    context = {"subject": subject, "devices": device_list(member=subject, now=now), "current_key": request.session.session_key}
    if request.member.is_director or request.user.is_superuser:
        context["team_devices"] = device_list_for_team(team_id=request.member.team_id, now=now)
    return render(request, "registration/phones.html", context)


@require_POST
@member_required
def phone_revoke(request: HttpRequest, device_id: int) -> HttpResponse:
    """Sign a remembered phone out: one's own, or the director any of the team's."""
    device = RememberedDevice.objects.filter(pk=device_id, member__team_id=request.member.team_id).select_related("member").first()
    if device is None:
        raise Http404
    if device.member_id != request.member.pk and not (request.member.is_director or request.user.is_superuser):
        raise Http404
    device_revoke(device=device)
    messages.success(request, _("The phone is signed out."))
    return redirect("phones")
