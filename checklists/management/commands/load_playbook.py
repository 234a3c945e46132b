"""Load the default playbook into one team or every team. Idempotent; keeps an owner's edits."""

from django.core.management.base import BaseCommand, CommandError

from checklists.playbook.services import playbook_load
from roles.models import Team


class Command(BaseCommand):
    help = "Load the default playbook (roles, self-check lists) into a team; a second run changes nothing."

    def add_arguments(self, parser):
        parser.add_argument("--team", help="team slug; default: every team")

    def handle(self, *args, team=None, **options):
        teams = Team.objects.filter(slug=team) if team else Team.objects.filter(is_active=True)
        if team and not teams.exists():
            raise CommandError(f"No team with slug {team!r}. Create it in the admin or run load_demo.")
        if not teams.exists():
            self.stdout.write("No team yet: create one in the admin, or run load_demo.")
        for each in teams:
            report = playbook_load(team=each)
            self.stdout.write(f"{each.slug}:")
            for line in report.lines() or ["nothing to change"]:
                self.stdout.write(f"  {line}")
