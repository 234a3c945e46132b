"""Demo data for the board (issue 5): 30 days of shop figures and this month's target, so `make run` looks alive."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from decimal import Decimal

from opsteam.lib.clock import local_date
from roles.models import EntrySource, Member, Metric, MetricEntry, SplitKind, Team
from roles.services.kpi import target_set

DEMO_DAYS = 30
MONTHLY_SALES = Decimal(300000)
WEEKDAY_WEIGHTS = [1, 1, 1, 1, 1.2, 1.4, 1.4]  # the weekend sells more


def kpi_demo_load(*, team: Team, now: datetime) -> int:
    """Figures for the last 30 days (the same every run: a fixed seed) and a monthly sales target; returns the days."""
    rng = random.Random(f"{team.slug}-demo")  # noqa: S311 - demo figures, not security
    today = local_date(now)
    metrics = {m.code: m for m in Metric.objects.filter(team=team)}
    for month in {today.replace(day=1), (today - timedelta(days=DEMO_DAYS)).replace(day=1)}:
        target_set(
            team=team,
            metric=metrics["sales"],
            month=month,
            value=MONTHLY_SALES,
            split=SplitKind.WEEKDAY,
            weekday_weights=WEEKDAY_WEIGHTS,
            actor=None,
            now=now,
        )
    rows: list[MetricEntry] = []
    service = list(Member.objects.filter(team=team, role_links__role__code="service").distinct().order_by("pk"))
    for offset in range(DEMO_DAYS - 1, -1, -1):  # today included: the shop back-end shows it live
        day = today - timedelta(days=offset)
        weight = 1.3 if day.weekday() >= 5 else 1.0
        visitors = int(rng.uniform(2200, 3400) * weight)
        buyers = int(visitors * rng.uniform(0.028, 0.045))
        orders = int(buyers * rng.uniform(1.15, 1.3))
        paid = int(orders * rng.uniform(0.82, 0.93))
        amount = Decimal(buyers) * Decimal(str(round(rng.uniform(78, 112), 2)))
        spend = (amount / Decimal(str(round(rng.uniform(2.7, 5.4), 2)))).quantize(Decimal("0.01"))
        clicks = int(rng.uniform(900, 1500))
        figures = {
            "visitors": visitors,
            "page_views": int(visitors * rng.uniform(2.6, 3.4)),
            "visits": int(visitors * 1.2),
            "bounce_visits": int(visitors * rng.uniform(0.35, 0.5)),
            "online_seconds": visitors * rng.randint(80, 140),
            "new_visitors": int(visitors * 0.7),
            "old_visitors": visitors - int(visitors * 0.7),
            "returning_visitors": int(visitors * 0.18),
            "orders": orders,
            "order_buyers": int(buyers * 1.15),
            "valid_orders": int(orders * rng.uniform(0.9, 0.97)),
            "paid_orders": paid,
            "buyers": buyers,
            "returning_buyers": int(buyers * 0.25),
            "units": int(paid * 1.3),
            "sales": amount.quantize(Decimal("0.01")),
            "gross_profit": (amount * Decimal(str(round(rng.uniform(0.26, 0.34), 3)))).quantize(Decimal("0.01")),
            # K-ROI's cost lines (001 §1 B): 直通车 is most of the ad spend; 免邮费 and 打折促销 are costs too.
            "ztc_spend": spend,
            "ztc_sales": (spend * Decimal("2.4")).quantize(Decimal("0.01")),
            "free_shipping": (amount * Decimal("0.06")).quantize(Decimal("0.01")),
            "discounts": (amount * Decimal("0.08")).quantize(Decimal("0.01")),
            "total_cost": (amount * Decimal("0.72")).quantize(Decimal("0.01")),
            "clicks": clicks,
            "impressions": clicks * rng.randint(25, 40),
            "refunds": rng.randint(0, 4),
            "new_buyers": int(buyers * 0.6),
            "repeat_buyers": int(buyers * 0.22),
            "members_total": 5200 + 9 * (DEMO_DAYS - offset),
            "new_member_buyers": int(buyers * 0.3),
            "old_member_buyers": int(buyers * 0.4),
        }
        rows += [_entry(team, metrics[code], day, value, now) for code, value in figures.items()]
        for member in service:
            inquiries = rng.randint(40, 80)
            rows.append(_entry(team, metrics["cs_inquiries"], day, inquiries, now, member=member))
            rows.append(_entry(team, metrics["cs_inquiry_buyers"], day, int(inquiries * rng.uniform(0.3, 0.55)), now, member=member))
    # One insert; a figure already there (a second run, or one an owner typed) is left as it is.
    MetricEntry.objects.bulk_create(rows, ignore_conflicts=True)
    return DEMO_DAYS


def _entry(team: Team, metric: Metric, day, value, now: datetime, member: Member | None = None) -> MetricEntry:
    amount = Decimal(str(value)).quantize(Decimal("0.01"))
    return MetricEntry(team=team, metric=metric, member=member, date=day, value=amount, source=EntrySource.FORM, entered_at=now)
