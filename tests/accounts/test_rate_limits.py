from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

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
    assert "Too many failed attempts to sign in" in text(response)
    assert client.get(reverse("home")).status_code == 302, "still signed out"


def _fail_five_times(client, member):
    for _ in range(5):
        client.post(reverse("account_login"), {"login": member.email, "password": "wrong"})


def test_attack_the_lockout_does_not_say_for_how_long(client, member):
    """Issue 14, bug 11: after five wrong passwords even the right one was refused with
    "Try again later". Say that the right password waits too, and for how long."""
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        _fail_five_times(client, member)
    with time_machine.travel(start + timedelta(seconds=30), tick=False):
        response = client.post(
            reverse("account_login"), {"login": member.email, "password": TEST_PASSWORD}
        )

    page = text(response)
    assert "Try again later" not in page
    assert "even with the right password" in page
    assert "Try again in 5 minutes, or reset your password to sign in straight away." in page


def test_the_wait_counts_down_and_then_the_right_password_works(client, member):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        _fail_five_times(client, member)
    with time_machine.travel(start + timedelta(seconds=250), tick=False):
        almost = client.post(
            reverse("account_login"), {"login": member.email, "password": TEST_PASSWORD}
        )
    with time_machine.travel(start + timedelta(seconds=301), tick=False):
        later = client.post(
            reverse("account_login"), {"login": member.email, "password": TEST_PASSWORD}
        )

    assert "Try again in a minute" in text(almost)
    assert later.status_code == 302


def test_the_login_page_is_in_sentence_case(client):
    page = text(client.get(reverse("account_login")))

    assert "Sign In" not in page and "Remember Me" not in page
    assert "Sign in" in page and "Remember me" in page


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
    assert "Sign in" in text(response)


def test_the_admin_refuses_signed_in_people_who_are_not_staff(member_client):
    assert member_client.get("/admin/login/").status_code == 403


def test_the_lockout_reads_the_same_for_an_address_without_an_account(client, member):
    """The pause is keyed on the typed address, account or not: its message tells no one
    whether an address has an account."""
    for login in (member.email, "nobody@example.com"):
        for _ in range(5):
            client.post(reverse("account_login"), {"login": login, "password": "wrong"})
    known = text(client.post(reverse("account_login"), {"login": member.email, "password": "x"}))
    unknown = text(
        client.post(reverse("account_login"), {"login": "nobody@example.com", "password": "x"})
    )

    assert "Try again in 5 minutes" in known and "Try again in 5 minutes" in unknown
    assert known.replace(member.email, "") == unknown.replace("nobody@example.com", "")
