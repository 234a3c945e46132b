"""The pages of the checklists app: each room routes its own (docs/architecture.md)."""

from django.urls import include, path

urlpatterns = [
    path("", include("checklists.daily.urls")),
    path("", include("checklists.duties.urls")),
    path("", include("checklists.escalation.urls")),
    path("", include("checklists.notify.urls")),
    path("", include("checklists.meetings.urls")),
    path("", include("checklists.audit.urls")),
]
