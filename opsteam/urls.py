from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from opsteam import views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz/", views.healthz, name="healthz"),
    path("sw.js", views.service_worker, name="service-worker"),
    path("i18n/", include("django.conf.urls.i18n")),
    # Log in ("记住这台手机"), log out and the remembered phones (issue 17).
    path("", include("roles.urls")),
    path("admin/", admin.site.urls),
    # Before the pages' prefix-less includes: an API request is then matched without first being tried
    # against every page pattern (issue 8: about 0.5 ms of a tick on the bench machine).
    path("api/v1/", include("opsteam.api_urls")),
    path("", include("checklists.urls")),
    path("", include("checklists.notify.suites.urls")),
    path("", include("checklists.board.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's start-up script as a file: the CSP allows no inline script.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
]

# A database outage raised inside middleware (sessions, login) reaches the 500 handler: it answers 503 (issue 7).
handler500 = "opsteam.views.server_error"
