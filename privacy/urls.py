from django.urls import path

from privacy import views

urlpatterns = [
    path("profile/data/", views.my_data, name="my_data"),
    path("profile/data/export.json", views.export_json, name="export_json"),
    path("profile/data/export.html", views.export_html, name="export_html"),
    path("profile/delete/", views.delete_account, name="delete_account"),
]
