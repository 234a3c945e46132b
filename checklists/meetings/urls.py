"""Meetings, minutes and the weekly reflection (issue 6)."""

from django.urls import path

from checklists.meetings import views

urlpatterns = [
    path("meetings/", views.meetings, name="meetings"),
    path("meetings/new/", views.meeting_new, name="meeting-new"),
    path("meetings/<int:meeting_id>/", views.meeting_detail, name="meeting-detail"),
    path("meetings/<int:meeting_id>/print/", views.meeting_print, name="meeting-print"),
    path("meetings/<int:meeting_id>/attendance/", views.meeting_attendance, name="meeting-attendance"),
    path("meetings/<int:meeting_id>/agenda/", views.agenda_add, name="meeting-agenda-add"),
    path("meetings/<int:meeting_id>/agenda/<int:item_id>/notes/", views.agenda_notes, name="meeting-agenda-notes"),
    path("meetings/<int:meeting_id>/decisions/", views.decision_add, name="meeting-decision-add"),
    path("meetings/<int:meeting_id>/actions/", views.action_add, name="meeting-action-add"),
    path("meetings/<int:meeting_id>/decisions/<int:decision_id>/edit/", views.decision_edit_view, name="meeting-decision-edit"),
    path("meetings/<int:meeting_id>/decisions/<int:decision_id>/remove/", views.decision_remove_view, name="meeting-decision-remove"),
    path("meetings/<int:meeting_id>/actions/<int:action_id>/remove/", views.action_remove_view, name="meeting-action-remove"),
    path("meetings/<int:meeting_id>/publish/", views.meeting_publish_view, name="meeting-publish"),
    path("meetings/<int:meeting_id>/approve/", views.meeting_approve_view, name="meeting-approve"),
    path("reflection/", views.reflection, name="reflection"),
]
