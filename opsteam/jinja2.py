"""The Jinja2 environment for the few templates rendered on every phone's hot path (issue 8).

The today page's cards and items are Jinja2 templates (templates/**/*.jinja), everything else is Django's
template language. The cards are the page's bulk: 25 items in Django's templates cost several times the
whole reference request on the benchmark machine, in Jinja2 a small part of it. Both engines read
templates/; only a name ending in .jinja is rendered with this one (`using="jinja2"`).

What the Django templates give these templates has the same meaning here:
- `_()` / `pgettext()`: Django's translations (newstyle: `_("%(name)s's day", name=...)` escapes `name`);
  the msgids are the ones the Django templates used, in locale/*/LC_MESSAGES/django.po;
- `url(name, *args)`: reverse();
- `|date(fmt)`: Django's date formats in the current time zone and language, as in Django's templates
  (which convert a datetime to the current time zone before formatting it); `|hm` is Django's
  `|time:"H:i"`, without its format machinery;
- `|floatformat(arg)`: Django's floatformat;
- `csrf_input` (once per render, see csrf_once), `csrf_token` and `request` come from Django's Jinja2 backend.
"""

from __future__ import annotations

import functools

from django.template import defaultfilters
from django.template.backends.utils import csrf_input
from django.urls import get_script_prefix, reverse
from django.utils import timezone, translation
from jinja2 import Environment, StrictUndefined


def _url(name: str, *args) -> str:
    return _reverse(get_script_prefix(), name, args)


@functools.lru_cache(maxsize=10_000)
def _reverse(prefix: str, name: str, args: tuple) -> str:
    """reverse() remembered: a card asks for the same few addresses of its items at every redraw.

    The address depends only on the URLconf, the script prefix (part of the key) and the arguments, so a
    remembered one is the one reverse() would give. About 30 us each on the benchmark machine, 50 a page.
    """
    return reverse(name, args=args)


def _date(value, fmt: str = "") -> str:
    return defaultfilters.date(timezone.template_localtime(value), fmt)


def _hm(value) -> str:
    """`|time("H:i")` without Django's format machinery: hours and minutes in the current time zone."""
    return "" if value is None else timezone.template_localtime(value).strftime("%H:%M")


def csrf_once(request) -> dict:
    """A context processor: csrf_input worked out once per render.

    Django's Jinja2 backend gives a lazy csrf_input that masks the token anew at every use: 25 forms cost 25
    maskings, a third of the cards' time. Django's own {% csrf_token %} reads its token once per render too.
    """
    return {"csrf_input": csrf_input(request)}


def environment(**options) -> Environment:
    # A misspelt name fails the test that renders it, instead of printing nothing as Django's templates would.
    options["undefined"] = StrictUndefined
    # Escaped as Django's templates escape (the backend's default, said here so nobody turns it off by accident).
    options["autoescape"] = True
    env = Environment(extensions=["jinja2.ext.i18n"], **options)  # noqa: S701 (autoescape is in options)
    env.install_gettext_callables(
        translation.gettext, translation.ngettext, newstyle=True, pgettext=translation.pgettext, npgettext=translation.npgettext
    )
    env.globals["url"] = _url
    env.filters["date"] = _date
    env.filters["hm"] = _hm
    env.filters["floatformat"] = defaultfilters.floatformat
    return env
