from django.urls import path

from checklists import audit_views, meeting_views, notification_views, task_views, views

urlpatterns = [
    path("today/", views.today, name="today"),
    path("history/", views.history, name="history"),
    path("items/<int:item_id>/tick/", views.item_tick, name="item-tick"),
    path("items/<int:item_id>/untick/", views.item_untick, name="item-untick"),
    path("items/<int:item_id>/photo/", views.photo, name="item-photo"),
    # Notifications (the bell) and the director's group robots (issue 4)
    path("notifications/", notification_views.notifications, name="notifications"),
    path("notifications/read-all/", notification_views.notifications_read_all, name="notifications-read-all"),
    path("notifications/<int:notification_id>/open/", notification_views.notification_open, name="notification-open"),
    path("notifications/<int:notification_id>/read/", notification_views.notification_read, name="notification-mark-read"),
    path("robots/", notification_views.robots, name="robots"),
    path("robots/<int:robot_id>/", notification_views.robot_edit, name="robot-edit"),
    path("robots/<int:robot_id>/test/", notification_views.robot_test, name="robot-test"),
    path("robots/<int:robot_id>/active/", notification_views.robot_active, name="robot-active"),
    path("deliveries/<int:delivery_id>/retry/", notification_views.delivery_retry, name="delivery-retry"),
    # Duties, problem orders, campaigns, plans and escalations (issue 4)
    path("tasks/", task_views.tasks, name="tasks"),
    path("tasks/<int:task_id>/", task_views.task_detail, name="task-detail"),
    path("problems/", task_views.problems, name="problems"),
    path("problems/<int:problem_id>/close/", task_views.problem_close, name="problem-close"),
    path("campaigns/", task_views.campaigns, name="campaigns"),
    path("campaigns/<int:campaign_id>/", task_views.campaign_detail, name="campaign-detail"),
    path("plans/", task_views.plans, name="plans"),
    path("plans/<int:plan_id>/", task_views.plan_detail, name="plan-detail"),
    path("escalations/", task_views.escalations, name="escalations"),
    path("escalations/acknowledge-mine/", task_views.escalations_ack_mine, name="escalations-ack-mine"),
    path("escalations/<int:escalation_id>/acknowledge/", task_views.escalation_ack, name="escalation-ack"),
    path("ack/<str:token>/", task_views.ack_link, name="ack-link"),
    # Meetings, minutes and the weekly reflection (issue 6)
    path("meetings/", meeting_views.meetings, name="meetings"),
    path("meetings/new/", meeting_views.meeting_new, name="meeting-new"),
    path("meetings/<int:meeting_id>/", meeting_views.meeting_detail, name="meeting-detail"),
    path("meetings/<int:meeting_id>/print/", meeting_views.meeting_print, name="meeting-print"),
    path("meetings/<int:meeting_id>/attendance/", meeting_views.meeting_attendance, name="meeting-attendance"),
    path("meetings/<int:meeting_id>/agenda/", meeting_views.agenda_add, name="meeting-agenda-add"),
    path("meetings/<int:meeting_id>/agenda/<int:item_id>/notes/", meeting_views.agenda_notes, name="meeting-agenda-notes"),
    path("meetings/<int:meeting_id>/decisions/", meeting_views.decision_add, name="meeting-decision-add"),
    path("meetings/<int:meeting_id>/actions/", meeting_views.action_add, name="meeting-action-add"),
    path("meetings/<int:meeting_id>/publish/", meeting_views.meeting_publish_view, name="meeting-publish"),
    path("meetings/<int:meeting_id>/approve/", meeting_views.meeting_approve_view, name="meeting-approve"),
    path("reflection/", meeting_views.reflection, name="reflection"),
    # Who changed what, when, from where (issue 7)
    path("audit/", audit_views.audit, name="audit"),
]
