"""/api/v1/: one router for every app's viewsets."""

from django.urls import path
from rest_framework.routers import DefaultRouter

from checklists.board import api as board_api
from checklists.board.live.api import nudge as nudge_api
from checklists.daily.api import ChecklistItemViewSet, ChecklistViewSet, token_obtain
from checklists.duties.api import CampaignViewSet, PlanViewSet, ProblemOrderViewSet, TaskViewSet
from checklists.escalation.api import EscalationViewSet
from checklists.meetings.api import MeetingViewSet
from checklists.notify.api import NotificationViewSet

router = DefaultRouter()
router.register("checklists", ChecklistViewSet, basename="checklist")
router.register("checklist-items", ChecklistItemViewSet, basename="checklist-item")
router.register("tasks", TaskViewSet, basename="task")
router.register("escalations", EscalationViewSet, basename="escalation")
router.register("problem-orders", ProblemOrderViewSet, basename="problem-order")
router.register("campaigns", CampaignViewSet, basename="campaign")
router.register("plans", PlanViewSet, basename="plan")
router.register("notifications", NotificationViewSet, basename="notification")
router.register("meetings", MeetingViewSet, basename="meeting")

urlpatterns = [
    path("auth/token/", token_obtain, name="api-token"),
    # The director's board and the KPI scorecard (issue 5)
    path("board/", board_api.board, name="api-board"),
    path("board/nudge/", nudge_api, name="api-board-nudge"),
    path("kpi/entries/", board_api.entries, name="api-kpi-entries"),
    path("kpi/scorecard/", board_api.scorecard, name="api-kpi-scorecard"),
    path("kpi/import/", board_api.kpi_import, name="api-kpi-import"),
    *router.urls,
]
