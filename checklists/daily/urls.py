"""The today page, the history and an item's tick, undo and photo."""

from django.urls import path

from checklists.daily import views

urlpatterns = [
    path("today/", views.today, name="today"),
    path("history/", views.history, name="history"),
    path("history/day/", views.history_day, name="history-day"),
    path("items/<int:item_id>/tick/", views.item_tick, name="item-tick"),
    path("items/<int:item_id>/untick/", views.item_untick, name="item-untick"),
    path("items/<int:item_id>/photo/", views.photo, name="item-photo"),
]
