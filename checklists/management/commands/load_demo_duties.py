"""Give the demo shop some duties to look at: a problem order, an order to ship, a campaign and a plan. Safe to run twice."""

from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from checklists.duties.campaigns import campaign_create
from checklists.duties.problems import problem_order_log
from checklists.duties.services import plan_create, task_assign
from checklists.models import Campaign, CampaignTemplate, Plan, ProblemOrder
from opsteam.lib.clock import local_date
from roles.models import Member, Team


class Command(BaseCommand):
    help = "Add demo duties to the demo shop (after load_demo): problem orders, a 双12 campaign, a plan and an assigned duty."

    def handle(self, *args, **options):
        if getattr(settings, "OPSTEAM_PRODUCTION", False):
            raise CommandError("Refusing to load demo data into a production configuration.")
        team = Team.objects.filter(slug="demo").first()
        if team is None:
            raise CommandError("Run load_demo first: there is no demo team.")
        now = timezone.now()
        people = {m.user.username: m for m in Member.objects.filter(team=team).select_related("user", "team")}
        if not ProblemOrder.objects.filter(team=team).exists():
            problem_order_log(member=people["service_1"], order_no="3021123456789", kind="refund", note="买家说尺码不对,要求退款", now=now)
            problem_order_log(member=people["service_1"], order_no="3021123450000", kind="ship", note="买家催发货", now=now)
        template = CampaignTemplate.objects.filter(team=team).first()
        day = local_date(now) + timedelta(days=19)
        if template and not Campaign.objects.filter(team=team).exists():
            campaign_create(
                member=people["director"], template=template, name="双12", day=day, signup_date=day - timedelta(days=5), now=now
            )
        if not Plan.objects.filter(team=team).exists():
            plan_create(member=people["director"], title="春节备货方案", proposal="春节前 3 周停止接单前的备货和发货安排。", now=now)
            task_assign(
                member=people["warehouse_lead"], owner=people["warehouse_1"], title="盘点胶带和快递单库存",
                due_at=now + timedelta(hours=3), now=now,
            )  # fmt: skip
        self.stdout.write(self.style.SUCCESS("Demo duties are ready."))
