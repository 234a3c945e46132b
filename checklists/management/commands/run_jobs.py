"""Run every scheduled job as of a local time, synchronously, with the services beat uses."""

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from checklists.jobs import JOBS
from opsteam.lib.clock import parse_local


class Command(BaseCommand):
    help = 'Run every scheduled job as of a local (Asia/Shanghai) time, e.g. --at "2026-11-23 08:00". Safe to repeat.'

    def add_arguments(self, parser):
        parser.add_argument("--at", help='local time "YYYY-MM-DD HH:MM"; default: now')
        parser.add_argument("--job", choices=sorted(JOBS), action="append", help="run only this job (repeatable)")

    def handle(self, *args, at=None, job=None, **options):
        try:
            now = parse_local(at) if at else timezone.now()
        except ValueError:
            raise CommandError(f'--at {at!r}: write the local time as "YYYY-MM-DD HH:MM", e.g. "2026-11-23 08:00".') from None
        self.stdout.write(f"Running jobs as of {timezone.localtime(now):%Y-%m-%d %H:%M %Z}")
        for name, func in JOBS.items():
            if job and name not in job:
                continue
            self.stdout.write(f"[{name}]")
            for line in func(now=now) or ["nothing to do"]:
                self.stdout.write(f"  {line}")
