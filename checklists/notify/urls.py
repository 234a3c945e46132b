"""Notifications (the bell), the director's group robots and their deliveries (issue 4)."""

from django.urls import path

from checklists.notify import views

urlpatterns = [
    path("notifications/", views.notifications, name="notifications"),
    path("notifications/read-all/", views.notifications_read_all, name="notifications-read-all"),
    path("notifications/<int:notification_id>/open/", views.notification_open, name="notification-open"),
    path("notifications/<int:notification_id>/read/", views.notification_read, name="notification-mark-read"),
    path("robots/", views.robots, name="robots"),
    path("robots/<int:robot_id>/", views.robot_edit, name="robot-edit"),
    path("robots/<int:robot_id>/test/", views.robot_test, name="robot-test"),
    path("robots/<int:robot_id>/active/", views.robot_active, name="robot-active"),
    path("deliveries/<int:delivery_id>/retry/", views.delivery_retry, name="delivery-retry"),
]
