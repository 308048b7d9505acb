from django.urls import path

from notifications import views

urlpatterns = [
    path("notifications/", views.notification_list, name="notification_list"),
    path("notifications/read/", views.notifications_mark_read, name="notifications_mark_read"),
    path("notifications/<uuid:public_id>/", views.notification_open, name="notification_open"),
    path("profile/digest/", views.digest_settings, name="digest_settings"),
]
