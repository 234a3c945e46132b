"""The product's URLs plus the benchmark's reference views (only under opsteam.settings.bench)."""

from django.urls import include, path

from bench import reference_views

urlpatterns = [
    path("bench/ref/", include(reference_views.urlpatterns)),
    path("", include("opsteam.urls")),
]
