"""Problem orders (问题单): logged by customer service, a duty for the role that fixes them, closed by that role."""

from __future__ import annotations

import unicodedata
from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from checklists.duties.services import DETAIL_MAX, ORDER_DEADLINE, ORDER_NO, task_can_do, task_complete, task_create
from checklists.models import (
    ProblemKind,
    ProblemOrder,
    TaskSource,
)
from opsteam.lib.text import text_clean
from roles.models import Member, Role, RoleCode


def problem_order_log(*, member: Member, order_no: str, kind: str, note: str = "", now: datetime, ip: str | None = None) -> ProblemOrder:
    """客服 logs a problem order: it must be settled within 24 h, as a duty of the role (T-24H, or T-SHIP for shipping)."""
    # Pasted numbers come with spaces ("3021 1234 5678") or in full-width digits: the same order either way,
    # so the duplicate check (checklists_problem_one_open_per_order) sees one number.
    order_no = "".join(unicodedata.normalize("NFKC", order_no or "").split())
    if not order_no:
        raise ValidationError({"order_no": _("Enter the order number.")})
    if not ORDER_NO.fullmatch(order_no):
        raise ValidationError({"order_no": _("This order number is not valid: use at most 64 letters, digits, - or _.")})
    if kind not in ProblemKind.values:
        raise ValidationError({"kind": _("Choose the kind of problem: refund, chase delivery, photo, other or ship.")})
    if len(note) > DETAIL_MAX:
        raise ValidationError({"note": _("The note is too long: at most %(max)d characters.") % {"max": DETAIL_MAX}})
    team = member.team
    role_code = RoleCode.WAREHOUSE if kind == ProblemKind.SHIP else RoleCode.SERVICE
    role = Role.objects.filter(team=team, code=role_code).first()
    playbook_id = "T-SHIP" if kind == ProblemKind.SHIP else "T-24H"
    source = TaskSource.SHIPMENT if kind == ProblemKind.SHIP else TaskSource.PROBLEM_ORDER
    label = ProblemKind(kind).label
    already = ValidationError({"order_no": _("This order is already logged with this problem and still open.")})
    with transaction.atomic():
        if ProblemOrder.objects.filter(team=team, order_no=order_no, kind=kind, closed_at__isnull=True).exists():
            raise already
        try:
            with transaction.atomic():
                problem = ProblemOrder.objects.create(
                    team=team,
                    order_no=order_no,
                    kind=kind,
                    note=text_clean(note),
                    logged_by=member,
                    logged_at=now,
                    due_at=now + ORDER_DEADLINE,
                )
        except IntegrityError:
            # The same form sent twice at once: the other request passed the check above too, the constraint decided.
            raise already from None
        problem.task = task_create(
            team=team,
            title=f"{label} {order_no}",
            detail=text_clean(note),
            due_at=problem.due_at,
            source=source,
            now=now,
            role=role,
            owner=None if role else member,
            created_by=member,
            source_key=f"problem:{problem.pk}",
            playbook_id=playbook_id,
            ip=ip,
        )
        problem.save(update_fields=["task"])
    return problem


@transaction.atomic
def problem_order_close(
    *, problem: ProblemOrder, member: Member, resolution: str = "", now: datetime, ip: str | None = None
) -> ProblemOrder:
    problem = ProblemOrder.objects.select_for_update().get(pk=problem.pk)
    if problem.team_id != member.team_id:
        raise PermissionDenied(_("This problem order belongs to another team."))
    if problem.closed_at is not None:
        return problem
    # PLAYBOOK T-24H, T-SHIP: the role that does the work closes the order: 客服 settles a problem order, 仓库 ships an
    # order to ship; its lead and the director may too. Not whoever logged it: 客服 logs an order to ship, and closing
    # it says it was shipped (issue 15: the docs and the code disagreed; this is the rule both now state).
    if problem.task_id and not task_can_do(task=problem.task, member=member):
        raise PermissionDenied(
            _("Only the role that does this order's duty (客服 for a problem, 仓库 for shipping), its lead or the director can close it.")
        )
    if not resolution.strip():
        raise ValidationError({"resolution": _("Say how it was settled (e.g. 已退款, 已补发, 已补拍).")})
    if len(resolution) > DETAIL_MAX:
        raise ValidationError({"resolution": _("The result is too long: at most %(max)d characters.") % {"max": DETAIL_MAX}})
    problem.closed_at, problem.closed_by, problem.resolution = now, member, text_clean(resolution)
    problem.save(update_fields=["closed_at", "closed_by", "resolution"])
    if problem.task_id:
        task_complete(task=problem.task, member=member, now=now, note=resolution, ip=ip)
    return problem
