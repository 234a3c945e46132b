"""/audit/: the audit trail page (issue 7). A lead reads their roles' changes, the director the team's."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from checklists.audit.selectors import audit_list
from roles.access import member_required


@require_GET
@member_required
def audit(request: HttpRequest) -> HttpResponse:
    try:
        page = int(request.GET.get("page", "1"))
    except ValueError:
        page = 1
    return render(request, "checklists/audit.html", {"audit": audit_list(viewer=request.member, page=page)})
