from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path

from accounts import views as accounts_views

# The admin has no login form of its own: it sends people through allauth,
# with its rate limits and MFA.
admin.site.login = secure_admin_login(admin.site.login)
admin.site.site_header = "Rapport administration"

urlpatterns = [
    path("", accounts_views.home, name="home"),
    path("healthz", accounts_views.healthz, name="healthz"),
    path("readyz", accounts_views.readyz, name="readyz"),
    path("accounts/signup/", accounts_views.signup, name="account_signup"),
    path("", include("sso.urls")),
    path("accounts/", include("allauth.urls")),
    path("", include("accounts.urls")),
    path("", include("relationships.urls")),
    path("", include("reflections.urls")),
    path("", include("insights.urls")),
    path("", include("privacy.urls")),
    path("", include("notifications.urls")),
    path("", include("search.urls")),
    path("admin/", admin.site.urls),
]

handler500 = "accounts.views.server_error"
