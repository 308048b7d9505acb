from allauth.socialaccount.providers.saml import views as allauth_saml
from django.urls import path

from sso import views

SAML = "accounts/saml/<str:organization_slug>/"

urlpatterns = [
    path("accounts/company/", views.company_sign_in, name="sso_start"),
    path("accounts/company/connect/<str:token>/", views.connect, name="sso_connect"),
    # allauth's SAML views at their own addresses, before allauth's (config.urls
    # includes this first): see views.with_host_header and views.saml_login.
    path(f"{SAML}login/", views.saml_login, name="company_saml_login"),
    path(f"{SAML}acs/", views.with_host_header(allauth_saml.acs), name="company_saml_acs"),
    path(
        f"{SAML}acs/finish/",
        views.with_host_header(allauth_saml.finish_acs),
        name="company_saml_finish_acs",
    ),
    path(f"{SAML}sls/", views.with_host_header(allauth_saml.sls), name="company_saml_sls"),
    path(
        f"{SAML}metadata/",
        views.with_host_header(allauth_saml.metadata),
        name="company_saml_metadata",
    ),
    path("organisation/sign-in/", views.settings_page, name="sso_settings"),
    path("organisation/sign-in/only/", views.only_view, name="sso_only"),
    path("organisation/sign-in/remove/", views.remove_view, name="sso_remove"),
]
