"""Numbers in the Chinese interface read as the shop's own sheets write them (issue 17): 35,800.50 元, grouped by
thousands with a comma. Django's zh_Hans has no separator (and groups by 4 where one is set); everything else is
Django's (opsteam/settings/base.py FORMAT_MODULE_PATH)."""

from django.conf.locale.zh_Hans.formats import *  # noqa: F403

DECIMAL_SEPARATOR = "."
THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
