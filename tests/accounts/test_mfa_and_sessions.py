import re
import time
from datetime import timedelta

import pytest
import time_machine
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.urls import reverse
from django.utils import timezone

from tests.factories import TEST_PASSWORD
from tests.helpers import text

pytestmark = pytest.mark.django_db


def _code(secret: str) -> str:
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


def _sign_in(client, user):
    return client.post(reverse("account_login"), {"login": user.email, "password": TEST_PASSWORD})


def test_totp_two_factor_sign_in_with_recovery_codes(client, member):
    _sign_in(client, member)
    # Setting up two-factor asks for the password again first.
    assert client.get(reverse("mfa_activate_totp")).status_code == 302
    client.post(reverse("account_reauthenticate"), {"password": TEST_PASSWORD})
    page = client.get(reverse("mfa_activate_totp")).content.decode()
    secret = re.search(r'id="authenticator_secret"[^>]*value="([A-Z2-7]+)"', page).group(1)

    response = client.post(reverse("mfa_activate_totp"), {"code": _code(secret)})

    assert response.status_code == 302
    assert set(Authenticator.objects.filter(user=member).values_list("type", flat=True)) == {
        Authenticator.Type.TOTP,
        Authenticator.Type.RECOVERY_CODES,
    }

    client.post(reverse("account_logout"))
    with time_machine.travel(timezone.now() + timedelta(seconds=60)):
        response = _sign_in(client, member)
        assert response["Location"] == reverse("mfa_authenticate")
        assert client.get(reverse("home")).status_code == 302, "not in before the second factor"

        wrong = client.post(reverse("mfa_authenticate"), {"code": "000000"})
        assert "Incorrect code." in text(wrong)
        client.post(reverse("mfa_authenticate"), {"code": _code(secret)})

        assert client.get(reverse("home")).status_code == 200


def test_home_suggests_two_factor_until_it_is_set_up(member_client, member):
    assert "Protect your account with two-factor authentication" in text(
        member_client.get(reverse("home"))
    )
    Authenticator.objects.create(user=member, type=Authenticator.Type.TOTP, data={})

    assert "Protect your account" not in text(member_client.get(reverse("home")))


def test_people_see_and_end_their_signed_in_sessions(client, member):
    _sign_in(client, member)

    page = text(client.get(reverse("usersessions_list")))

    assert "Signed-in devices" in page
    assert "Current" in page


def test_profile_sets_name_and_time_zone(member_client, member):
    response = member_client.post(
        reverse("profile"), {"display_name": "Morgan M.", "time_zone": "Europe/Paris"}
    )

    assert response.status_code == 302
    member.refresh_from_db()
    assert (member.display_name, member.time_zone) == ("Morgan M.", "Europe/Paris")


def test_profile_rejects_an_unknown_time_zone(member_client, member):
    response = member_client.post(
        reverse("profile"), {"display_name": "Morgan", "time_zone": "Mars/Olympus_Mons"}
    )

    assert "Select a valid choice." in text(response)
    member.refresh_from_db()
    assert member.time_zone == "UTC"


@pytest.mark.parametrize("second_factor", [Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN])
@pytest.mark.parametrize("path", ["/organisation/", "/insights/", "/admin/"])
def test_hr_admins_and_superusers_set_up_mfa_before_privileged_pages(client, path, second_factor):
    from tests.factories import HRAdminMembershipFactory, UserFactory

    hr = HRAdminMembershipFactory(mfa=False).user
    root = UserFactory(is_staff=True, is_superuser=True)
    for person in (hr, root):
        client.force_login(person)
        response = client.get(path)
        assert response.status_code == 302
        # Where they choose an authenticator app or a passkey.
        assert response["Location"] == reverse("mfa_index")

    # Recovery codes alone are not an authenticator app.
    Authenticator.objects.create(user=hr, type=Authenticator.Type.RECOVERY_CODES, data={})
    client.force_login(hr)
    assert client.get(path).status_code == 302

    # Asked with the page frame's query for a member, on its own for staff in no
    # organisation: either way, an app or a passkey set up opens the door.
    for person in (hr, root):
        Authenticator.objects.create(user=person, type=second_factor, data={})
    client.force_login(hr)
    assert client.get("/organisation/").status_code == 200
    client.force_login(root)
    assert client.get("/admin/").status_code == 200


def test_members_are_not_asked_for_mfa(member_client):
    assert member_client.get(reverse("relationship_list")).status_code == 200
