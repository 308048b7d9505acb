from django.urls import path

from sso import views

urlpatterns = [
    path("accounts/company/", views.company_sign_in, name="sso_start"),
    path("accounts/company/connect/<str:token>/", views.connect, name="sso_connect"),
    path("organisation/sign-in/", views.settings_page, name="sso_settings"),
    path("organisation/sign-in/only/", views.only_view, name="sso_only"),
    path("organisation/sign-in/saml/", views.saml_prepare_view, name="sso_saml_prepare"),
    path("organisation/sign-in/remove/", views.remove_view, name="sso_remove"),
]
