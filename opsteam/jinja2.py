"""The Jinja2 environment for the templates on every phone's hot path (issue 8).

The today page is a Jinja2 template (templates/checklists/today.jinja on templates/base.jinja), and so are
the parts every page shares: the head, the top bar with the bell, the messages (Django's base.html places
them with {% jinja %}, opsteam/templatetags/jinja.py) and the duty row. Every other page is Django's
template language. The cards are the today page's bulk: 25 items in Django's templates cost several times
the whole reference request on the benchmark machine, in Jinja2 a small part of it. Both engines read
templates/; only a name ending in .jinja is rendered with this one (`using="jinja2"`).

What the Django templates give these templates has the same meaning here:
- `_()` / `pgettext()`: Django's translations (newstyle: `_("%(name)s's day", name=...)` escapes `name`);
  the msgids are the ones the Django templates used, in locale/*/LC_MESSAGES/django.po;
- `url(name, *args)`: reverse();
- `|date(fmt)`: Django's date formats in the current time zone and language, as in Django's templates
  (which convert a datetime to the current time zone before formatting it); `|hm` is Django's
  `|time:"H:i"`, without its format machinery;
- `|floatformat(arg)`: Django's floatformat;
- `static(path)`, `get_language()`, `languages()` (code, name in its own language), `get_messages(request)`:
  what {% static %}, {% get_current_language %}, {% get_available_languages %} and the messages context
  processor give;
- `can_see_board(member)` and `unread_count(member)`: the top bar's menu and bell;
- `csrf_input` and `csrf_token` (once per request, see once_per_request) and `request` come from Django's Jinja2 backend.
"""

from __future__ import annotations

import functools
from datetime import datetime

from django.conf import settings
from django.contrib.messages import get_messages
from django.middleware.csrf import get_token
from django.template import defaultfilters
from django.templatetags.static import static
from django.urls import get_script_prefix, reverse
from django.utils import timezone, translation
from django.utils.html import format_html
from jinja2 import Environment, StrictUndefined, pass_context


def _url(name: str, *args) -> str:
    return _reverse(get_script_prefix(), name, args)


def _url_under(prefix: str):
    """url() for one request, whose script prefix is read once (get_script_prefix() is a thread-local read)."""

    def url(name: str, *args) -> str:
        return _reverse(prefix, name, args)

    return url


@functools.lru_cache(maxsize=10_000)
def _reverse(prefix: str, name: str, args: tuple) -> str:
    """reverse() remembered: a card asks for the same few addresses of its items at every redraw.

    The address depends only on the URLconf, the script prefix (part of the key) and the arguments, so a
    remembered one is the one reverse() would give. About 30 us each on the benchmark machine, 50 a page.
    """
    return reverse(name, args=args)


def _local(context, value):
    """timezone.template_localtime(value), in the time zone the render was given (`tz`, read once per request).

    get_current_timezone() is a thread-local read that misses (no zone is activated): 25 of them were about
    5% of the today page under load.
    """
    if isinstance(value, datetime) and settings.USE_TZ and not timezone.is_naive(value):
        return value.astimezone(context.get("tz") or timezone.get_current_timezone())
    return value


@pass_context
def _date(context, value, fmt: str = "") -> str:
    return defaultfilters.date(_local(context, value), fmt)


@pass_context
def _hm(context, value) -> str:
    """`|time("H:i")` without Django's format machinery: hours and minutes in the current time zone."""
    return "" if value is None else _local(context, value).strftime("%H:%M")


def once_per_request(request) -> dict:
    """A context processor: what a page asks for at every item, worked out once per request.

    - csrf_input and csrf_token: Django's Jinja2 backend gives a lazy csrf_input that masks the token anew at
      every use: 25 forms cost 25 maskings, a third of the cards' time. Django's own {% csrf_token %} reads
      its token once per render too; here the parts of one page (the top bar, the cards) share it. A masked
      token stays valid for its secret, so it is worked out again only when the secret changes (a login
      rotates it).
    - tz (for |date and |hm) and url(), bound to the request's script prefix.
    """
    secret = request.META.get("CSRF_COOKIE")
    remembered = getattr(request, "_opsteam_csrf", None)
    if remembered is None or remembered[0] != secret or secret is None:
        token = get_token(request)
        remembered = (request.META.get("CSRF_COOKIE"), {"csrf_token": token, "csrf_input": _csrf_field(token)})
        request._opsteam_csrf = remembered
    return {**remembered[1], "tz": timezone.get_current_timezone(), "url": _url_under(get_script_prefix())}


def _csrf_field(token: str) -> str:
    return format_html('<input type="hidden" name="csrfmiddlewaretoken" value="{}">', token)


@functools.lru_cache(maxsize=1)
def _languages() -> tuple[tuple[str, str], ...]:
    """settings.LANGUAGES, each with its name in its own language (as the language switch shows it)."""
    return tuple((code, translation.get_language_info(code)["name_local"]) for code, _name in settings.LANGUAGES)


def _can_see_board(member) -> bool:
    from roles.templatetags.board_tags import can_see_board

    return can_see_board(member)


def _unread_count(member) -> int:
    from checklists.selectors.notifications import notification_unread_count

    return notification_unread_count(member=member)


def environment(**options) -> Environment:
    # A misspelt name fails the test that renders it, instead of printing nothing as Django's templates would.
    options["undefined"] = StrictUndefined
    # Escaped as Django's templates escape (the backend's default, said here so nobody turns it off by accident).
    options["autoescape"] = True
    env = Environment(extensions=["jinja2.ext.i18n"], **options)  # noqa: S701 (autoescape is in options)
    env.install_gettext_callables(
        translation.gettext, translation.ngettext, newstyle=True, pgettext=translation.pgettext, npgettext=translation.npgettext
    )
    env.globals.update(
        url=_url,
        static=static,
        get_language=translation.get_language,
        languages=_languages,
        get_messages=get_messages,
        can_see_board=_can_see_board,
        unread_count=_unread_count,
    )
    env.filters["date"] = _date
    env.filters["hm"] = _hm
    env.filters["floatformat"] = defaultfilters.floatformat
    return env
