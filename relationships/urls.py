from django.urls import path

from relationships import views

urlpatterns = [
    path("relationships/", views.relationship_list, name="relationship_list"),
    path("relationships/new/", views.relationship_invite, name="relationship_invite"),
    path("relationships/<uuid:public_id>/", views.relationship_detail, name="relationship_detail"),
    path(
        "relationships/<uuid:public_id>/respond/",
        views.relationship_respond,
        name="relationship_respond",
    ),
    path(
        "relationships/<uuid:public_id>/status/",
        views.relationship_transition,
        name="relationship_transition",
    ),
    path(
        "relationships/<uuid:public_id>/sessions/new/",
        views.session_create,
        name="session_create",
    ),
    path("relationships/<uuid:public_id>/notes/new/", views.note_create, name="note_create"),
    path("relationships/<uuid:public_id>/drafts/", views.note_draft, name="note_draft"),
    path(
        "relationships/<uuid:public_id>/actions/",
        views.action_item_create,
        name="action_item_create",
    ),
    path(
        "relationships/<uuid:public_id>/schedule/",
        views.session_schedule,
        name="session_schedule",
    ),
    path(
        "relationships/<uuid:public_id>/schedulers/",
        views.schedule_permission,
        name="schedule_permission",
    ),
    path("scheduled/<uuid:public_id>/", views.scheduled_detail, name="scheduled_detail"),
    path("scheduled/<uuid:public_id>/move/", views.scheduled_move, name="scheduled_move"),
    path("scheduled/<uuid:public_id>/cancel/", views.scheduled_cancel, name="scheduled_cancel"),
    path(
        "scheduled/<uuid:public_id>/calendar.ics",
        views.scheduled_calendar,
        name="scheduled_calendar",
    ),
    path(
        "scheduled/<uuid:public_id>/points/",
        views.talking_point_add,
        name="talking_point_add",
    ),
    path(
        "points/<uuid:public_id>/discussed/",
        views.talking_point_discussed,
        name="talking_point_discussed",
    ),
    path("points/<uuid:public_id>/move/", views.talking_point_move, name="talking_point_move"),
    path(
        "points/<uuid:public_id>/delete/", views.talking_point_delete, name="talking_point_delete"
    ),
    path("calendar/<uuid:person>/<str:token>.ics", views.calendar_feed, name="calendar_feed"),
    path("sessions/<uuid:public_id>/", views.session_detail, name="session_detail"),
    path("sessions/<uuid:public_id>/edit/", views.session_edit, name="session_edit"),
    path("notes/<uuid:public_id>/edit/", views.note_edit, name="note_edit"),
    path("notes/<uuid:public_id>/delete/", views.note_delete, name="note_delete"),
    path("actions/", views.my_action_items, name="my_action_items"),
    path("actions/<uuid:public_id>/edit/", views.action_item_edit, name="action_item_edit"),
    path("actions/<uuid:public_id>/done/", views.action_item_done, name="action_item_done"),
]
