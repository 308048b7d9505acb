from django.contrib.auth import views as auth_views
from django.urls import include, path

from tests.partners.oidc_provider import views

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("register/", views.register_client),
    path("o/", include("oauth2_provider.urls", namespace="oauth2_provider")),
]
