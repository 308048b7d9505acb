from django.urls import path

from bench import views
from config.urls import handler500  # noqa: F401
from config.urls import urlpatterns as rapport_urlpatterns

urlpatterns = [
    path("bench/baseline/", views.baseline, name="bench_baseline"),
    path("bench/framed-baseline/", views.framed_baseline, name="bench_framed_baseline"),
    *rapport_urlpatterns,
]
