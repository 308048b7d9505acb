import pytest
from django.conf import settings
from django.urls import reverse

from tests.factories import TEST_PASSWORD
from tests.helpers import text

pytestmark = pytest.mark.django_db


def test_the_cache_behind_rate_limits_is_real():
    assert settings.CACHES["default"]["BACKEND"] != "django.core.cache.backends.dummy.DummyCache"


def test_repeated_failed_sign_ins_lock_the_account_for_a_while(client, member):
    for _ in range(5):
        response = client.post(
            reverse("account_login"), {"login": member.email, "password": "wrong-password"}
        )
        assert "The email address and/or password you specified are not correct." in (
            text(response)
        )

    response = client.post(
        reverse("account_login"), {"login": member.email, "password": TEST_PASSWORD}
    )

    assert response.status_code == 200
    assert "Too many failed login attempts. Try again later." in text(response)
    assert client.get(reverse("home")).status_code == 302, "still signed out"


def test_a_correct_password_works_before_the_limit(client, member):
    for _ in range(2):
        client.post(reverse("account_login"), {"login": member.email, "password": "wrong"})

    response = client.post(
        reverse("account_login"), {"login": member.email, "password": TEST_PASSWORD}
    )

    assert response.status_code == 302
    assert client.get(reverse("home")).status_code == 200


def test_the_admin_login_goes_through_allauth(client):
    response = client.get("/admin/", follow=True)

    final_url = response.redirect_chain[-1][0]
    assert final_url.startswith(reverse("account_login") + "?next=")
    assert response.status_code == 200
    assert "Sign In" in text(response)


def test_the_admin_refuses_signed_in_people_who_are_not_staff(member_client):
    assert member_client.get("/admin/login/").status_code == 403
