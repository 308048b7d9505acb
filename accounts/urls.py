from django.urls import path

from accounts import views

urlpatterns = [
    path("profile/", views.profile, name="profile"),
    path("profile/activity/", views.my_activity, name="my_activity"),
    path("profile/calendar/", views.calendar_feed_settings, name="calendar_feed_settings"),
    path("organisation/audit/", views.organisation_audit, name="organisation_audit"),
    path("invitations/<str:token>/", views.invitation_accept_view, name="invitation_accept"),
    path("organisation/", views.organisation, name="organisation"),
    path("organisation/settings/", views.organisation_settings, name="organisation_settings"),
    path("organisation/teams/", views.team_create_view, name="team_create"),
    path("organisation/invitations/", views.invitation_create_view, name="invitation_create"),
    path("organisation/invitations/bulk/", views.invitations_bulk_view, name="invitations_bulk"),
    path(
        "organisation/invitations/bulk/send/",
        views.invitations_bulk_send_view,
        name="invitations_bulk_send",
    ),
    path(
        "organisation/invitations/<uuid:public_id>/revoke/",
        views.invitation_revoke_view,
        name="invitation_revoke",
    ),
    path(
        "organisation/invitations/<uuid:public_id>/approve/",
        views.invitation_approve_view,
        name="invitation_approve",
    ),
    path(
        "organisation/members/<uuid:public_id>/active/",
        views.member_active_view,
        name="member_active",
    ),
    path(
        "organisation/members/<uuid:public_id>/",
        views.membership_update_view,
        name="membership_update",
    ),
]
