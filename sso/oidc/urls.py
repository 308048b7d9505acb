"""Included by allauth under /accounts/ (CompanySignInProvider.package names this
module)."""

from django.urls import path

from sso.oidc import views

urlpatterns = [
    path("company/<str:provider_id>/login/", views.login, name="company_oidc_login"),
    path(
        "company/<str:provider_id>/login/callback/",
        views.callback,
        name="company_oidc_callback",
    ),
]
