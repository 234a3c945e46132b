from django.urls import path

from checklists.notify.suites import views

urlpatterns = [
    path("suite/settings/", views.suite_settings, name="suite-settings"),
    path("suite/act/<str:token>/", views.suite_act, name="suite-act"),
    path("suite/<slug:slug>/login/", views.suite_login, name="suite-login"),
    path("suite/<slug:slug>/app/", views.suite_app_entry, name="suite-app"),
    path("suite/<slug:slug>/signin/", views.suite_signin_view, name="suite-signin"),
    path("suite/<slug:slug>/confirm/", views.suite_signin_confirm, name="suite-confirm"),
    path("suite/<slug:slug>/callback/", views.suite_callback, name="suite-callback"),
]
