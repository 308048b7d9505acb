from django.urls import path

from reflections import views

urlpatterns = [
    path("checkins/<uuid:public_id>/", views.checkin_detail, name="checkin_detail"),
    path("checkins/<uuid:public_id>/step/", views.checkin_step, name="checkin_step"),
    path(
        "relationships/<uuid:public_id>/cadence/",
        views.cadence_update_view,
        name="checkin_cadence",
    ),
    path(
        "relationships/<uuid:public_id>/trend/", views.relationship_trend, name="relationship_trend"
    ),
]
