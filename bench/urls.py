from django.urls import path

from bench import views
from config.urls import handler500  # noqa: F401
from config.urls import urlpatterns as rapport_urlpatterns

urlpatterns = [
    path("bench/baseline/", views.baseline, name="bench_baseline"),
    *rapport_urlpatterns,
]
