"""Create the demo shop 示例旗舰店 with stable logins. Safe to run twice; refused in production."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from roles.models import Role, RoleCode
from roles.services import member_create, team_create
from roles.services.demo import kpi_demo_load

DEMO_PASSWORD = "opsteam-demo"  # noqa: S105 - the documented demo password; refused in production
DEMO_SLUG = "demo"
# (role code, lead display name, member display name)
DEMO_PEOPLE = [
    (RoleCode.OPERATIONS, "王运营", "李运营"),
    (RoleCode.PROMOTION, "赵推广", "钱推广"),
    (RoleCode.DESIGN, "孙美工", "周美工"),
    (RoleCode.SERVICE, "吴客服", "郑客服"),
    (RoleCode.WAREHOUSE, "冯仓库", "陈仓库"),
]


class Command(BaseCommand):
    help = "Load the demo shop 示例旗舰店 with a director, a lead and a member for each role."

    def handle(self, *args, **options):
        if getattr(settings, "OPSTEAM_PRODUCTION", False):
            raise CommandError("Refusing to load demo logins into a production configuration.")
        with transaction.atomic():
            team = team_create(name="示例旗舰店", slug=DEMO_SLUG)
            call_command("load_playbook", team=DEMO_SLUG, stdout=self.stdout)
            roles = {role.code: role for role in Role.objects.filter(team=team)}
            logins = [("director", "总监 张总监", "")]
            member_create(
                team=team,
                username="director",
                password=DEMO_PASSWORD,
                display_name="张总监",
                roles=[roles[RoleCode.DIRECTOR]],
                lead_of=[roles[RoleCode.DIRECTOR]],
                is_director=True,
            )
            for code, lead_name, member_name in DEMO_PEOPLE:
                role = roles[code]
                member_create(team=team, username=f"{code}_lead", password=DEMO_PASSWORD, display_name=lead_name, lead_of=[role])
                member_create(team=team, username=f"{code}_1", password=DEMO_PASSWORD, display_name=member_name, roles=[role])
                logins += [(f"{code}_lead", f"{role.name} lead", ""), (f"{code}_1", f"{role.name}", "")]
            # The admin site edits the playbook, members, covers, calendar overrides and beat schedules.
            admin_user, created = get_user_model().objects.get_or_create(
                username="admin", defaults={"is_staff": True, "is_superuser": True}
            )
            if created:
                admin_user.set_password(DEMO_PASSWORD)
                admin_user.save(update_fields=["password"])
            logins.append(("admin", "admin site (/admin/)", ""))
            # The board's shop figures and monthly target (issue 5).
            kpi_demo_load(team=team, now=timezone.now())
        self.stdout.write(self.style.SUCCESS("Demo shop 示例旗舰店 is ready. Logins (password: opsteam-demo):"))
        for username, label, _ in logins:
            self.stdout.write(f"  {username:<18} {label}")
