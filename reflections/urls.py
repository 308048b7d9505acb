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
    path("journal/", views.journal, name="journal"),
    path("journal/new/", views.reflection_create_view, name="reflection_create"),
    path("journal/export/", views.journal_export, name="journal_export"),
    path("journal/retention/", views.journal_retention, name="journal_retention"),
    path("journal/<uuid:public_id>/edit/", views.reflection_edit, name="reflection_edit"),
    path(
        "journal/<uuid:public_id>/delete/", views.reflection_delete_view, name="reflection_delete"
    ),
    path("integrity/", views.integrity, name="integrity"),
    path(
        "integrity/<uuid:public_id>/delete/",
        views.integrity_check_delete_view,
        name="integrity_check_delete",
    ),
    path(
        "relationships/<uuid:public_id>/prompts/dismiss/",
        views.prompt_dismiss_view,
        name="prompt_dismiss",
    ),
]
