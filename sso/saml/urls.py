"""allauth's SAML URLs, under the names its code reverses, included by allauth under
/accounts/ (CompanySAMLProvider.package names this package)."""

from django.urls import path

from sso.saml import views

SAML = "saml/<str:organization_slug>/"

urlpatterns = [
    path(f"{SAML}acs/", views.acs, name="saml_acs"),
    path(f"{SAML}acs/finish/", views.finish_acs, name="saml_finish_acs"),
    path(f"{SAML}sls/", views.sls, name="saml_sls"),
    path(f"{SAML}metadata/", views.metadata, name="saml_metadata"),
    path(f"{SAML}login/", views.login, name="saml_login"),
]
