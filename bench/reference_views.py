"""Reference views: the least a Django view on this stack can do for the same request (issue 8).

Only bench/urls.py (ROOT_URLCONF of opsteam.settings.bench) routes to them; production never does.
They run behind the same middleware, in the same gunicorn, against the same database as the product.
"""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.urls import path
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from checklists.models import Checklist, ChecklistItem


@csrf_exempt
@require_POST
def tick(request: HttpRequest, item_id: int) -> JsonResponse:
    """One UPDATE by primary key: what a tick costs at the least."""
    ChecklistItem.objects.filter(pk=item_id).update(updated_at=timezone.now())
    return JsonResponse({"id": item_id})


LIST_FIELDS = [
    "id",
    "date",
    "name",
    "role__code",
    "role__name",
    "member_id",
    "member__display_name",
    "assignee_id",
    "assignee__display_name",
]
ITEM_FIELDS = [
    "id", "checklist_id", "parent_id", "playbook_id", "order", "text", "kind", "target", "unit", "note_required", "is_group", "due_at",
    "status", "value", "text_value", "note", "photo", "done_at", "done_by_id",
]  # fmt: skip


@require_GET
def my_day(request: HttpRequest, member_id: int) -> JsonResponse:
    """The member's lists of a day and their items as plain dicts: the same rows, the same two queries, no serializer."""
    lists = list(
        Checklist.objects.filter(assignee_id=member_id, date=request.GET["date"]).order_by("role__order", "id").values(*LIST_FIELDS)
    )
    items = ChecklistItem.objects.filter(checklist_id__in=[row["id"] for row in lists]).order_by("order", "id").values(*ITEM_FIELDS)
    by_list: dict[int, list] = {row["id"]: [] for row in lists}
    for item in items:
        by_list[item["checklist_id"]].append(item)
    for row in lists:
        row["items"] = by_list[row["id"]]
    return JsonResponse(lists, safe=False)


urlpatterns = [
    path("tick/<int:item_id>/", tick),
    path("my-day/<int:member_id>/", my_day),
]
