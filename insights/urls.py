from django.urls import path

from insights import views

urlpatterns = [
    path("insights/", views.insights_dashboard, name="insights_dashboard"),
    path("insights/export.csv", views.insights_export, name="insights_export"),
]
