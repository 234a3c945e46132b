"""Escalations: the list, acknowledging, the one-click link (issue 4)."""

from django.urls import path

from checklists.escalation import views

urlpatterns = [
    path("escalations/", views.escalations, name="escalations"),
    path("escalations/acknowledge-mine/", views.escalations_ack_mine, name="escalations-ack-mine"),
    path("escalations/<int:escalation_id>/acknowledge/", views.escalation_ack, name="escalation-ack"),
    path("ack/<str:token>/", views.ack_link, name="ack-link"),
]
