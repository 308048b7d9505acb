"""A copy of the database, taken while people are signed in, opens no account and passes
no second factor (docs/threat-model.md, "A copy of the database"): sessions are stored
as a keyed hash of the cookie (accounts/sessions.py), second-factor secrets sealed with
their owner's data key (accounts/authenticators.py)."""

import re
from datetime import timedelta

import pytest
import time_machine
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.usersessions.models import UserSession
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.sessions import PRIVILEGED_SESSION_SECONDS, stored_key
from tests.factories import TEST_PASSWORD, HRAdminMembershipFactory, MembershipFactory
from tests.helpers import text, totp_code

pytestmark = pytest.mark.django_db


def _sign_in(client, user):
    return client.post(reverse("account_login"), {"login": user.email, "password": TEST_PASSWORD})


def _two_factor(client, user) -> str:
    """Sets up an authenticator app through the pages; returns its secret."""
    client.post(reverse("account_reauthenticate"), {"password": TEST_PASSWORD})
    page = client.get(reverse("mfa_activate_totp")).content.decode()
    secret = re.search(r'id="authenticator_secret"[^>]*value="([A-Z2-7]+)"', page).group(1)
    assert client.post(reverse("mfa_activate_totp"), {"code": totp_code(secret)}).status_code == 302
    return secret


HR_SECRET = "JBSWY3DPEHPK3PXP"


def _hr_signed_in(client):
    """An HR admin signed in with their password and authenticator app."""
    hr = HRAdminMembershipFactory(mfa=False).user
    Authenticator.objects.create(user=hr, type=Authenticator.Type.TOTP, data={"secret": HR_SECRET})
    _sign_in(client, hr)
    client.post(reverse("mfa_authenticate"), {"code": totp_code(HR_SECRET)})
    return hr


def _database_copy() -> str:
    """Every row of every table, as a thief with a dump would read it."""
    rows = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            rows.extend(repr(row) for row in cursor.fetchall())
    return "\n".join(rows)


def _signed_in_with(cookie: str) -> bool:
    thief = Client()
    thief.cookies["sessionid"] = cookie
    return thief.get(reverse("home")).status_code == 200


def test_a_database_copy_signs_nobody_in_and_passes_no_second_factor():
    member = MembershipFactory().user
    person = Client()
    _sign_in(person, member)
    secret = _two_factor(person, member)
    codes = RecoveryCodes(
        Authenticator.objects.get(user=member, type=Authenticator.Type.RECOVERY_CODES)
    ).get_unused_codes()
    hr_client = Client()
    _hr_signed_in(hr_client)
    cookies = [person.cookies["sessionid"].value, hr_client.cookies["sessionid"].value]
    assert all(_signed_in_with(cookie) for cookie in cookies)

    copy = _database_copy()

    # No cookie is in the copy, and nothing that looks like one signs anyone in: every
    # stored key, tried as a cookie, is hashed again and finds no session.
    for cookie in cookies:
        assert cookie not in copy
    stored = set(Session.objects.values_list("session_key", flat=True))
    stored |= set(UserSession.objects.values_list("session_key", flat=True))
    assert {stored_key(cookie) for cookie in cookies} <= stored
    for key in stored:
        assert not _signed_in_with(key)
    # The second factor's secret, the recovery codes and their seed are not in it.
    assert secret not in copy
    assert not any(code in copy for code in codes)
    with connection.cursor() as cursor:
        cursor.execute("SELECT data FROM mfa_authenticator WHERE user_id = %s", [member.pk])
        raw = " ".join(str(row[0]) for row in cursor.fetchall())
    assert '"secret": "v2:' in raw.replace("'", '"') or '"secret":"v2:' in raw
    # The person still signs in with both, as before.
    person.post(reverse("account_logout"))
    with time_machine.travel(timezone.now() + timedelta(seconds=60)):
        assert _sign_in(person, member)["Location"] == reverse("mfa_authenticate")
        person.post(reverse("mfa_authenticate"), {"code": totp_code(secret)})
        assert person.get(reverse("home")).status_code == 200
    again = Client()
    _sign_in(again, member)
    again.post(reverse("mfa_authenticate"), {"code": codes[0]})
    assert again.get(reverse("home")).status_code == 200


def test_a_secret_moved_to_another_persons_row_passes_nothing():
    """Sealed with its owner's key and bound to them: copied onto an account whose
    password the attacker knows, the victim's secret does not open there."""
    victim, attacker = MembershipFactory().user, MembershipFactory().user
    Authenticator.objects.create(
        user=victim, type=Authenticator.Type.TOTP, data={"secret": "JBSWY3DPEHPK3PXP"}
    )
    Authenticator.objects.create(
        user=attacker, type=Authenticator.Type.TOTP, data={"secret": "KRSXG5CTMVRXEZLU"}
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE mfa_authenticator SET data = (SELECT data FROM mfa_authenticator "
            "WHERE user_id = %s) WHERE user_id = %s",
            [victim.pk, attacker.pk],
        )
    client = Client()
    _sign_in(client, attacker)
    client.post(reverse("mfa_authenticate"), {"code": totp_code("JBSWY3DPEHPK3PXP")})
    assert client.get(reverse("home")).status_code == 302
    assert "v2:" not in Authenticator.objects.get(user=attacker, type="totp").data["secret"]


def test_hr_admins_and_staff_get_shorter_sessions():
    clients = {"member": Client(), "hr": Client()}
    _sign_in(clients["member"], MembershipFactory().user)
    _hr_signed_in(clients["hr"])
    left = {
        who: Session.objects.get(session_key=stored_key(c.cookies["sessionid"].value)).expire_date
        - timezone.now()
        for who, c in clients.items()
    }
    assert left["hr"] <= timedelta(seconds=PRIVILEGED_SESSION_SECONDS)
    assert left["member"] > timedelta(days=13)


def test_a_member_made_hr_admin_keeps_no_long_session(client):
    hr_membership = HRAdminMembershipFactory()
    member = MembershipFactory(organisation=hr_membership.organisation)
    person = Client()
    _sign_in(person, member.user)
    key = stored_key(person.cookies["sessionid"].value)
    assert Session.objects.get(session_key=key).expire_date > timezone.now() + timedelta(days=13)

    client.force_login(hr_membership.user)
    response = client.post(
        reverse("membership_update", args=[member.public_id]),
        {"role": "hr_admin", "team": ""},
    )
    assert response.status_code in (200, 302), text(response)

    member.refresh_from_db()
    assert member.role == "hr_admin"
    left = Session.objects.get(session_key=key).expire_date - timezone.now()
    assert left <= timedelta(seconds=PRIVILEGED_SESSION_SECONDS)
    # Still signed in (on their way to setting up two-factor, as HR admins must), for the
    # shorter time, however often the session changes from now on.
    assert person.get(reverse("home")).status_code in (200, 302)
    assert Session.objects.filter(session_key=key, expire_date__gt=timezone.now()).exists()
