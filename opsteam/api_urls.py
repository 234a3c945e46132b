"""/api/v1/: one router for every app's viewsets."""

from django.urls import path
from rest_framework.routers import DefaultRouter

from checklists.api.views import ChecklistItemViewSet, ChecklistViewSet, token_obtain

router = DefaultRouter()
router.register("checklists", ChecklistViewSet, basename="checklist")
router.register("checklist-items", ChecklistItemViewSet, basename="checklist-item")

urlpatterns = [path("auth/token/", token_obtain, name="api-token"), *router.urls]
