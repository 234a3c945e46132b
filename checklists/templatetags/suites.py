"""The login page's "sign in with DingTalk / WeCom / Feishu" buttons (issue 21)."""

from django import template
from django.urls import reverse

register = template.Library()


@register.inclusion_tag("suites/_login_buttons.html")
def suite_login_buttons(next_url: str = ""):
    from checklists.notify.suites.models import SuiteApp

    apps = SuiteApp.objects.filter(is_active=True, team__is_active=True).select_related("team").order_by("team__name")
    return {"buttons": [(app, reverse("suite-login", args=[app.team.slug])) for app in apps], "next": next_url}
