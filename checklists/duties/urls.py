"""Duties, problem orders, campaigns and plans (issue 4)."""

from django.urls import path

from checklists.duties import views

urlpatterns = [
    path("tasks/", views.tasks, name="tasks"),
    path("tasks/<int:task_id>/", views.task_detail, name="task-detail"),
    path("tasks/<int:task_id>/tick/", views.task_tick, name="task-tick"),
    path("problems/", views.problems, name="problems"),
    path("problems/<int:problem_id>/close/", views.problem_close, name="problem-close"),
    path("campaigns/", views.campaigns, name="campaigns"),
    path("campaigns/<int:campaign_id>/", views.campaign_detail, name="campaign-detail"),
    path("plans/", views.plans, name="plans"),
    path("plans/<int:plan_id>/", views.plan_detail, name="plan-detail"),
]
