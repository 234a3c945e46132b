"""The suite pages: sign-in (QR in a browser, 免登/OAuth in the workbench), callbacks, DingTalk's action links, settings."""

from __future__ import annotations

import hashlib
import secrets

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from checklists.models import Notification
from checklists.notify.suites import adapter_for
from checklists.notify.suites.base import CallbackEvent
from checklists.notify.suites.callbacks import card_action_apply, suite_callback_handle
from checklists.notify.suites.deliver import ACT_SALT, notification_card
from checklists.notify.suites.models import ImportProposal, SuiteApp, SuiteKind, SuiteLink
from checklists.notify.suites.services import (
    org_import_confirm,
    org_import_read,
    suite_app_check,
    suite_app_save,
    suite_app_shown,
)
from checklists.notify.suites.signin import suite_link_by_director, suite_link_confirm, suite_link_remove, suite_signin
from opsteam.lib.params import id_parse
from roles.access import member_required
from roles.models import Member, RoleCode

BACKEND = "roles.login.MemberModelBackend"
ACT_MAX_AGE = 3 * 24 * 3600


def _app(slug: str) -> SuiteApp:
    return get_object_or_404(SuiteApp.objects.select_related("team"), team__slug=slug, team__is_active=True, is_active=True)


def _next(request: HttpRequest, value: str | None) -> str:
    if value and url_has_allowed_host_and_scheme(value, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return value
    return reverse("today")


def _signin_uri(app: SuiteApp) -> str:
    return settings.OPSTEAM_BASE_URL + reverse("suite-signin", args=[app.team.slug])


def _start(request: HttpRequest, app: SuiteApp, *, in_app: bool) -> HttpResponse:
    """A fresh state in the session (login CSRF), then the suite's sign-in page."""
    state = secrets.token_urlsafe(24)
    request.session["suite_signin"] = {"state": state, "in_app": in_app, "next": _next(request, request.GET.get("next")), "app": app.pk}
    return redirect(adapter_for(app).authorize_url(redirect_uri=_signin_uri(app), state=state, in_app=in_app))


@require_GET
def suite_login(request: HttpRequest, slug: str) -> HttpResponse:
    """From a browser: the suite's QR page; scanning it with the suite's app signs the person in here."""
    return _start(request, _app(slug), in_app=False)


@require_GET
def suite_app_entry(request: HttpRequest, slug: str) -> HttpResponse:
    """The workbench's address: signed in without a password (WeCom/Feishu through OAuth, DingTalk through its JSAPI)."""
    app = _app(slug)
    target = _next(request, request.GET.get("next"))
    member = getattr(request.user, "member", None) if request.user.is_authenticated else None
    if member is not None and member.team_id == app.team_id:
        return redirect(target)
    if app.kind != SuiteKind.DINGTALK:
        return _start(request, app, in_app=True)
    state = secrets.token_urlsafe(24)
    request.session["suite_signin"] = {"state": state, "in_app": True, "next": target, "app": app.pk}
    response = render(request, "suites/dingtalk_h5.html", {"app": app, "state": state, "signin": reverse("suite-signin", args=[slug])})
    # Only this page loads DingTalk's JSAPI (the one that hands out the 免登 authCode).
    response._csp_update = {"script-src": ["https://g.alicdn.com"]}
    return response


@require_GET
def suite_signin_view(request: HttpRequest, slug: str) -> HttpResponse:
    app = _app(slug)
    pending = request.session.pop("suite_signin", None) or {}
    code = request.GET.get("code") or request.GET.get("authCode") or ""
    if not code or pending.get("app") != app.pk or not secrets.compare_digest(str(pending.get("state", "")), request.GET.get("state", "")):
        return render(request, "suites/signin_result.html", {"app": app, "status": "expired"}, status=400)
    result = suite_signin(app=app, code=code[:512], redirect_uri=_signin_uri(app), in_app=bool(pending.get("in_app")))
    if result.status == "ok":
        auth_login(request, result.member.user, backend=BACKEND)
        return redirect(pending.get("next") or reverse("today"))
    if result.status == "propose":
        request.session["suite_propose"] = {
            "app": app.pk,
            "member": result.member.pk,
            "user_id": result.suite_user.user_id,
            "name": result.suite_user.name,
            "next": pending.get("next"),
        }
        return render(request, "suites/signin_result.html", {"app": app, "status": "propose", "member": result.member})
    status = {"unlinked": 403, "deactivated": 403}.get(result.status, 503)
    return render(
        request, "suites/signin_result.html", {"app": app, "status": result.status, "suite_user": result.suite_user}, status=status
    )


@require_POST
def suite_signin_confirm(request: HttpRequest, slug: str) -> HttpResponse:
    """ "Yes, that is me": the mobile the suite vouched for matched this member; link once and sign in."""
    app = _app(slug)
    proposal = request.session.pop("suite_propose", None) or {}
    if proposal.get("app") != app.pk:
        return render(request, "suites/signin_result.html", {"app": app, "status": "expired"}, status=400)
    member = get_object_or_404(Member.objects.select_related("user"), pk=proposal["member"], team=app.team, is_active=True)
    try:
        suite_link_confirm(
            app=app, member=member, suite_user_id=proposal["user_id"], suite_name=proposal.get("name", ""), now=timezone.now()
        )
    except ValidationError:
        return render(request, "suites/signin_result.html", {"app": app, "status": "unlinked"}, status=403)
    auth_login(request, member.user, backend=BACKEND)
    return redirect(proposal.get("next") or reverse("today"))


@csrf_exempt
@require_http_methods(["GET", "POST"])
def suite_callback(request: HttpRequest, slug: str) -> HttpResponse:
    """The address pasted into the suite's console: verified and decrypted by the app's adapter; anything else is 403."""
    app = _app(slug)
    status, content_type, body = suite_callback_handle(
        app=app,
        method=request.method,
        params=request.GET.dict(),
        headers=dict(request.headers),
        body=request.body,
        now=timezone.now(),
        ip=request.META.get("REMOTE_ADDR"),
    )
    return HttpResponse(body, status=status, content_type=content_type)


@require_http_methods(["GET", "POST"])
def suite_act(request: HttpRequest, token: str) -> HttpResponse:
    """A DingTalk card button: opening it shows one button (link previews must not act); pressing it acts, once."""
    try:
        data = signing.loads(token, salt=ACT_SALT, max_age=ACT_MAX_AGE)
    except signing.BadSignature:
        return render(request, "suites/act.html", {"error": _("This button has expired. Open OpsTeam instead.")}, status=400)
    link = (
        SuiteLink.objects.filter(member_id=data.get("m"), is_active=True, app__is_active=True, app__kind=SuiteKind.DINGTALK)
        .select_related("app__team", "member")
        .first()
    )
    if link is None:
        return render(
            request, "suites/act.html", {"error": _("Your suite account is not linked to OpsTeam. Ask your director.")}, status=403
        )
    action = data.get("a")
    if action == "card":
        # The OA message's link: this card's buttons, each its own signed link (a GET never acts).
        if request.method != "GET":
            return render(request, "suites/act.html", {"error": _("Press one of the card's buttons.")}, status=400)
        notification = Notification.objects.filter(pk=data.get("n"), recipient=link.member).first()
        if notification is None:
            return render(request, "suites/act.html", {"error": _("This card was not sent to you.")}, status=404)
        return render(request, "suites/act.html", {"card": notification_card(notification, member=link.member, app=link.app)})
    if request.method == "GET":
        return render(request, "suites/act.html", {"action": action, "token": token})
    event = CallbackEvent(
        kind="card",
        callback_id="dingtalk:" + hashlib.sha256(token.encode()).hexdigest()[:40],
        suite_user_id=link.suite_user_id,
        notification_id=data.get("n"),
        action=action,
    )
    outcome, card = card_action_apply(app=link.app, event=event, now=timezone.now(), ip=request.META.get("REMOTE_ADDR"))
    return render(request, "suites/act.html", {"outcome": outcome, "card": card})


# --- the director's settings page ----------------------------------------------------------------------


class SuiteAppForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("Suite"), choices=SuiteKind.choices)
    corp_id = forms.CharField(label=gettext_lazy("Corp ID"), required=False, max_length=64)
    app_key = forms.CharField(label=gettext_lazy("App key / App ID"), required=False, max_length=64)
    agent_id = forms.CharField(label=gettext_lazy("Agent ID"), required=False, max_length=32)
    app_secret = forms.CharField(
        label=gettext_lazy("App secret"), required=False, max_length=200, widget=forms.PasswordInput(render_value=False)
    )
    callback_token = forms.CharField(
        label=gettext_lazy("Callback token / Verification Token"),
        required=False,
        max_length=200,
        widget=forms.PasswordInput(render_value=False),
    )
    callback_key = forms.CharField(
        label=gettext_lazy("EncodingAESKey / Encrypt Key"), required=False, max_length=200, widget=forms.PasswordInput(render_value=False)
    )
    is_active = forms.BooleanField(label=gettext_lazy("Active"), required=False, initial=True)


class LinkForm(forms.Form):
    member = forms.ModelChoiceField(label=gettext_lazy("Member"), queryset=Member.objects.none())
    suite_user_id = forms.CharField(label=gettext_lazy("User ID in the suite"), max_length=64)


def _director(request: HttpRequest) -> None:
    if not (request.member.is_director or request.member.user.is_superuser):
        raise PermissionDenied(_("Only the director manages the suite app."))


@require_http_methods(["GET", "POST"])
@member_required
def suite_settings(request: HttpRequest) -> HttpResponse:
    _director(request)
    team = request.member.team
    app = SuiteApp.objects.filter(team=team).first()
    initial = (
        {"kind": app.kind, "corp_id": app.corp_id, "app_key": app.app_key, "agent_id": app.agent_id, "is_active": app.is_active}
        if app
        else {}
    )
    form = SuiteAppForm(request.POST if request.POST.get("op") == "save" else None, initial=initial)
    link_form = LinkForm(request.POST if request.POST.get("op") == "link" else None)
    link_form.fields["member"].queryset = (
        Member.objects.filter(team=team, is_active=True).exclude(suite_links__app=app) if app else Member.objects.none()
    )
    status = 200
    if request.method == "POST":
        op = request.POST.get("op")
        now = timezone.now()
        try:
            if op == "save" and form.is_valid():
                suite_app_save(team=team, actor=request.member, **form.cleaned_data)
                messages.success(request, _("Saved. The secrets are stored encrypted and are not shown again."))
                return redirect("suite-settings")
            if op == "check" and app:
                problem = suite_app_check(app=app, actor=request.member)
                (messages.error if problem else messages.success)(request, problem or _("The suite accepted the credentials."))
                return redirect("suite-settings")
            if op == "link" and app and link_form.is_valid():
                suite_link_by_director(app=app, actor=request.member, now=now, **link_form.cleaned_data)
                messages.success(request, _("Linked."))
                return redirect("suite-settings")
            if op == "unlink" and app:
                link = get_object_or_404(SuiteLink, pk=id_parse(request.POST.get("link")), app=app)
                suite_link_remove(link=link, actor=request.member)
                return redirect("suite-settings")
            if op == "import_read" and app:
                count = org_import_read(app=app, actor=request.member, now=now)
                messages.success(
                    request, _("%(count)d people read from the suite. Nothing is created until you confirm.") % {"count": count}
                )
                return redirect("suite-settings")
            if op == "import_confirm" and app:
                chosen = {}
                for raw in request.POST.getlist("proposal"):
                    if raw.isdigit():
                        role = request.POST.get(f"role_{raw}", "")
                        chosen[int(raw)] = role if role in RoleCode.values else ""
                made = org_import_confirm(app=app, actor=request.member, choices=chosen, now=now)
                messages.success(request, _("%(count)d people added and linked.") % {"count": made})
                return redirect("suite-settings")
        except ValidationError as exc:
            target = form if op == "save" else link_form
            if op in ("save", "link") and hasattr(exc, "error_dict"):
                for field, errors in exc.message_dict.items():
                    target.add_error(field if field in target.fields else None, errors)
            else:
                messages.error(request, " ".join(exc.messages))
        status = 400
    context = {
        "app": app,
        "form": form,
        "link_form": link_form,
        "shown": suite_app_shown(app) if app else {},
        "callback_url": settings.OPSTEAM_BASE_URL + reverse("suite-callback", args=[team.slug]),
        "entry_url": settings.OPSTEAM_BASE_URL + reverse("suite-app", args=[team.slug]),
        "signin_url": _signin_uri(app) if app else "",
        "links": list(SuiteLink.objects.filter(app=app).select_related("member").order_by("member__display_name")) if app else [],
        "proposals": list(ImportProposal.objects.filter(app=app).select_related("existing_member").order_by("department", "name"))
        if app
        else [],
        "roles": RoleCode.choices,
    }
    return render(request, "suites/settings.html", context, status=status)
