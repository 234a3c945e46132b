"""Who changed what, when, from where (issue 7)."""

from django.urls import path

from checklists.audit import views

urlpatterns = [
    path("audit/", views.audit, name="audit"),
]
