"""A superuser or staff member cannot take over an account through the web admin, needs
two-factor authentication to open it, and leaves a trace in the audit log. Whoever
changes a person's password, email addresses or second factor, the person is told."""

import re

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.usersessions.models import UserSession
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Permission
from django.core import mail
from django.db import transaction
from django.test import Client
from django.urls import reverse

from accounts.models import AuditEvent, Membership, User
from accounts.services import audit_log_verify
from privacy.services import account_delete
from tests.factories import (
    TEST_PASSWORD,
    HRAdminMembershipFactory,
    MembershipFactory,
    TeamFactory,
    UserFactory,
)
from tests.helpers import links_in_last_email, path_of, text, totp_code

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-brand-new-password-77"


def _with_mfa(user):
    Authenticator.objects.create(user=user, type=Authenticator.Type.TOTP, data={})
    return user


@pytest.fixture
def superuser(db):
    return _with_mfa(UserFactory(is_staff=True, is_superuser=True, display_name="Sid Super"))


@pytest.fixture
def admin_client(superuser):
    client = Client()
    client.force_login(superuser)
    return client


@pytest.fixture
def victim(organisation):
    return MembershipFactory(organisation=organisation, user__display_name="Casey Coach").user


def _user_form(user, **changes):
    """The admin's change form for `user`, as a browser would post it."""
    data = {
        "display_name": user.display_name,
        "time_zone": user.time_zone,
        "is_active": "on" if user.is_active else "",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value != ""}


def _credential_emails():
    return [m for m in mail.outbox if m.subject.startswith("[Rapport] ")]


# --- The admin cannot take over an account ----------------------------------------------


def test_attack_superuser_sets_password_in_admin_is_refused(admin_client, victim):
    url = f"/admin/accounts/user/{victim.pk}/password/"

    assert admin_client.get(url).status_code == 404
    response = admin_client.post(url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert response.status_code == 404
    # Nor through the change form, with password and email fields added by hand.
    change = f"/admin/accounts/user/{victim.pk}/change/"
    page = admin_client.get(change)
    assert page.status_code == 200
    assert victim.password not in page.content.decode(), "the hash is not shown"
    assert 'name="password' not in page.content.decode()
    assert 'name="email"' not in page.content.decode()
    admin_client.post(
        change,
        _user_form(victim, password=NEW_PASSWORD, email="attacker@evil.example"),
    )

    victim.refresh_from_db()
    assert victim.check_password(TEST_PASSWORD)
    assert not victim.check_password(NEW_PASSWORD)
    assert victim.email != "attacker@evil.example"
    # The real owner can still sign in with their own password.
    assert Client().login(email=victim.email, password=TEST_PASSWORD)


def test_the_password_page_is_gone_for_everyone(victim, hr_admin):
    url = f"/admin/accounts/user/{victim.pk}/password/"
    staff = _with_mfa(UserFactory(is_staff=True))
    for user in (None, victim, hr_admin, staff):
        client = Client()
        if user is not None:
            client.force_login(user)
        assert client.get(url).status_code == 404, user
        assert client.post(url, {"password1": "x", "password2": "x"}).status_code == 404, user


def test_attack_superuser_adds_verified_email_in_admin_is_refused(admin_client, victim):
    before = set(EmailAddress.objects.values_list("email", "verified"))

    add = admin_client.post(
        "/admin/account/emailaddress/add/",
        {"user": victim.pk, "email": "attacker@evil.example", "verified": "on"},
    )
    listing = admin_client.get("/admin/account/emailaddress/")
    action = admin_client.post(
        "/admin/account/emailaddress/",
        {
            "action": "make_verified",
            "_selected_action": [str(a.pk) for a in EmailAddress.objects.all()],
        },
    )

    assert (add.status_code, listing.status_code, action.status_code) == (404, 404, 404)
    assert set(EmailAddress.objects.values_list("email", "verified")) == before
    assert "attacker@evil.example" not in text(admin_client.get("/admin/"))


def test_attack_superuser_links_a_company_account_or_reads_a_client_secret_in_admin_is_refused(
    admin_client, victim, organisation
):
    """Linking a provider's account to someone's is a way into their account, and company
    sign-in's secrets are never in the admin: none of it is offered."""
    from allauth.socialaccount.models import SocialAccount

    from tests.factories import SingleSignOnFactory

    config = SingleSignOnFactory(organisation=organisation, client_secret="CLIENTSECRET-7")
    linked = SocialAccount.objects.create(user=victim, provider=config.provider_id, uid="sub")

    for url in (
        "/admin/socialaccount/socialaccount/",
        f"/admin/socialaccount/socialaccount/{linked.pk}/change/",
        "/admin/socialaccount/socialaccount/add/",
        "/admin/socialaccount/socialapp/",
        "/admin/socialaccount/socialtoken/",
        "/admin/sso/singlesignon/",
        f"/admin/sso/singlesignon/{config.pk}/change/",
    ):
        response = admin_client.get(url)
        assert response.status_code == 404, url
        assert "CLIENTSECRET-7" not in response.content.decode()
    assert "CLIENTSECRET-7" not in admin_client.get("/admin/").content.decode()


def test_attack_superuser_deletes_authenticator_in_admin_is_refused(admin_client, victim):
    authenticator = Authenticator.objects.create(
        user=victim, type=Authenticator.Type.TOTP, data={"secret": "VICTIMSECRET"}
    )
    base = f"/admin/mfa/authenticator/{authenticator.pk}"

    change = admin_client.get(f"{base}/change/")
    delete = admin_client.post(f"{base}/delete/", {"post": "yes"})

    assert (change.status_code, delete.status_code) == (404, 404)
    assert "VICTIMSECRET" not in change.content.decode()
    assert Authenticator.objects.filter(pk=authenticator.pk).exists()
    # The user's page says whether two-factor is set up, and nothing of its secret.
    page = admin_client.get(f"/admin/accounts/user/{victim.pk}/change/").content.decode()
    assert "TOTP Authenticator" in page and "VICTIMSECRET" not in page


def test_attack_superuser_copies_a_session_key_in_admin_is_refused(admin_client, victim):
    session = UserSession.objects.create(
        user=victim, session_key="victim-session-key", ip="192.0.2.1", user_agent="Firefox"
    )

    assert admin_client.get("/admin/usersessions/usersession/").status_code == 404
    assert (
        admin_client.get(f"/admin/usersessions/usersession/{session.pk}/change/").status_code == 404
    )
    assert "victim-session-key" not in admin_client.get("/admin/").content.decode()


def test_attack_superuser_creates_an_account_with_a_known_password_is_refused(admin_client):
    users = User.objects.count()

    form = admin_client.get("/admin/accounts/user/add/")
    created = admin_client.post(
        "/admin/accounts/user/add/",
        {"email": "puppet@example.com", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )

    assert (form.status_code, created.status_code) == (403, 403)
    assert User.objects.count() == users


def test_attack_staff_makes_themselves_superuser_is_refused(organisation):
    staff = _with_mfa(UserFactory(is_staff=True))
    staff.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_user", "change_user"])
    )
    client = Client()
    client.force_login(staff)

    client.post(
        f"/admin/accounts/user/{staff.pk}/change/",
        # With everything Django's own user form wanted, so only the rule can stop it.
        _user_form(
            staff,
            email=staff.email,
            date_joined_0=f"{staff.date_joined:%Y-%m-%d}",
            date_joined_1=f"{staff.date_joined:%H:%M:%S}",
            is_staff="on",
            is_superuser="on",
        ),
    )

    staff.refresh_from_db()
    assert not staff.is_superuser


def test_the_admin_cannot_hard_delete_an_account(admin_client, victim):
    response = admin_client.post(f"/admin/accounts/user/{victim.pk}/delete/", {"post": "yes"})

    assert response.status_code == 403
    assert User.objects.filter(pk=victim.pk).exists()


# --- Staff need two-factor authentication ------------------------------------------------


@pytest.mark.parametrize("superuser_too", [False, True])
def test_staff_without_two_factor_are_sent_to_set_it_up(superuser_too):
    staff = UserFactory(is_staff=True, is_superuser=superuser_too)
    staff.user_permissions.add(Permission.objects.get(codename="view_user"))
    client = Client()
    client.force_login(staff)

    for url in ("/admin/", "/admin/accounts/user/"):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"] == reverse("mfa_index"), url

    _with_mfa(staff)
    assert client.get("/admin/").status_code == 200


# --- Every admin change is in the audit log --------------------------------------------


def test_an_admin_change_to_a_user_is_audited(admin_client, victim, superuser, organisation):
    response = admin_client.post(
        f"/admin/accounts/user/{victim.pk}/change/",
        _user_form(victim, display_name="Renamed by admin", is_active=""),
    )

    assert response.status_code == 302
    victim.refresh_from_db()
    assert (victim.display_name, victim.is_active) == ("Renamed by admin", False)
    event = AuditEvent.objects.get(action="admin.changed")
    assert (event.actor, event.subject, event.organisation) == (superuser, victim, organisation)
    assert event.target_id == victim.public_id
    assert set(event.details["fields"]) == {"Display name", "Is active"}
    assert audit_log_verify() == []
    # The person reads it in their own activity, in words.
    victim.is_active = True
    victim.save()
    own = Client()
    own.force_login(victim)
    assert (
        "Sid Super changed your account in the site administration (Display name, Is active)"
        in text(own.get(reverse("my_activity")))
    )


def test_an_admin_team_move_and_role_change_are_audited(admin_client, superuser, organisation):
    platform = TeamFactory(organisation=organisation, name="Platform")
    mobile = TeamFactory(organisation=organisation, name="Mobile")
    sam = MembershipFactory(organisation=organisation, team=platform, user__display_name="Sam Lee")
    HRAdminMembershipFactory(organisation=organisation)

    response = admin_client.post(
        f"/admin/accounts/membership/{sam.pk}/change/",
        {"team": mobile.pk, "role": Membership.Role.HR_ADMIN},
    )

    assert response.status_code == 302
    sam.refresh_from_db()
    assert (sam.team, sam.role) == (mobile, Membership.Role.HR_ADMIN)
    actions = dict(AuditEvent.objects.values_list("action", "details"))
    assert actions["membership.team_changed"] == {"from_team": "Platform", "to_team": "Mobile"}
    assert "membership.role_hr_admin" in actions
    assert set(actions["admin.changed"]["fields"]) == {"Team", "Role"}
    assert set(AuditEvent.objects.values_list("actor", flat=True)) == {superuser.pk}
    assert audit_log_verify() == []


def test_the_admin_cannot_remove_the_last_hr_admin(admin_client, organisation):
    only = HRAdminMembershipFactory(organisation=organisation)

    response = admin_client.post(
        f"/admin/accounts/membership/{only.pk}/change/",
        {"team": "", "role": Membership.Role.MEMBER},
    )

    assert response.status_code == 200
    assert "An organisation needs at least one HR admin." in text(response)
    only.refresh_from_db()
    assert only.role == Membership.Role.HR_ADMIN


# --- The person is told of every credential change ----------------------------------------


def _sign_in(client, user):
    client.post(reverse("account_login"), {"login": user.email, "password": TEST_PASSWORD})


def test_a_password_set_by_any_code_path_is_announced(victim, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        victim.set_password(NEW_PASSWORD)
        victim.save()

    (message,) = _credential_emails()
    assert message.to == [victim.email]
    assert message.subject == "[Rapport] Your password was changed"
    assert "not done from your own account pages" in message.body
    assert NEW_PASSWORD not in message.body and victim.password not in message.body
    assert "/accounts/password/reset/" in message.body
    assert AuditEvent.objects.filter(action="account.password_changed", subject=victim).exists()


def test_changing_ones_password_sends_one_email(client, victim, django_capture_on_commit_callbacks):
    _sign_in(client, victim)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("account_change_password"),
            {"oldpassword": TEST_PASSWORD, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
        )

    assert response.status_code == 302
    (message,) = _credential_emails()
    assert message.to == [victim.email]
    assert "someone signed in to your account" in message.body


def test_a_password_reset_is_announced_once(client, victim, django_capture_on_commit_callbacks):
    client.post(reverse("account_reset_password"), {"email": victim.email})
    reset_link = path_of(links_in_last_email(victim.email)[0])
    form_url = client.get(reset_link, follow=True).redirect_chain[-1][0]
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        client.post(form_url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})

    victim.refresh_from_db()
    assert victim.check_password(NEW_PASSWORD)
    (message,) = _credential_emails()
    assert message.subject == "[Rapport] Your password was changed"
    assert "password-reset link" in message.body


def test_an_email_change_by_any_code_path_tells_the_old_and_new_address(
    victim, django_capture_on_commit_callbacks
):
    old = victim.email
    with django_capture_on_commit_callbacks(execute=True):
        victim.email = "new.address@example.com"
        victim.save()

    (message,) = _credential_emails()
    assert sorted(message.to) == sorted([old, "new.address@example.com"])
    assert message.subject == "[Rapport] Your email address was changed"


def test_adding_and_removing_an_email_address_is_announced(
    client, victim, django_capture_on_commit_callbacks
):
    _sign_in(client, victim)
    client.post(reverse("account_reauthenticate"), {"password": TEST_PASSWORD})
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("account_email"), {"action_add": "", "email": "second@example.com"})
    assert EmailAddress.objects.filter(user=victim, email="second@example.com").exists()
    added = [m for m in _credential_emails() if "was added" in m.subject]
    assert [m.to for m in added] == [[victim.email]]

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("account_email"), {"action_remove": "", "email": "second@example.com"})
    assert not EmailAddress.objects.filter(email="second@example.com").exists()
    (message,) = _credential_emails()
    assert message.subject == "[Rapport] An email address was removed from your account"


def test_setting_up_and_removing_two_factor_is_announced(
    client, victim, django_capture_on_commit_callbacks
):
    _sign_in(client, victim)
    client.post(reverse("account_reauthenticate"), {"password": TEST_PASSWORD})
    page = client.get(reverse("mfa_activate_totp")).content.decode()
    secret = re.search(r'id="authenticator_secret"[^>]*value="([A-Z2-7]+)"', page).group(1)

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("mfa_activate_totp"), {"code": totp_code(secret)})

    assert Authenticator.objects.filter(user=victim, type=Authenticator.Type.TOTP).exists()
    # The app and its recovery codes: one change, one email.
    (message,) = _credential_emails()
    assert message.subject == "[Rapport] Two-factor authentication was set up"
    assert secret not in message.body

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("mfa_deactivate_totp"))
    assert not Authenticator.objects.filter(user=victim, type=Authenticator.Type.TOTP).exists()
    (message,) = _credential_emails()
    assert message.subject == "[Rapport] Two-factor authentication was removed"


def test_a_rolled_back_change_sends_nothing(victim, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        try:
            with transaction.atomic():
                victim.set_password(NEW_PASSWORD)
                victim.save()
                raise RuntimeError("rolled back")
        except RuntimeError:
            pass

    assert _credential_emails() == []


def test_signing_in_and_a_hash_upgrade_send_nothing(
    client, victim, settings, django_capture_on_commit_callbacks
):
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.MD5PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    ]
    # A hash from an older hasher: Django re-hashes it on sign-in.
    User.objects.filter(pk=victim.pk).update(
        password=make_password(TEST_PASSWORD, hasher="pbkdf2_sha256")
    )
    with django_capture_on_commit_callbacks(execute=True):
        _sign_in(client, victim)

    victim.refresh_from_db()
    assert victim.password.startswith("md5$"), "the hash was upgraded"
    assert client.get(reverse("home")).status_code == 200
    assert _credential_emails() == []


def test_deleting_ones_account_sends_no_credential_notices(
    victim, django_capture_on_commit_callbacks
):
    _with_mfa(victim)
    with django_capture_on_commit_callbacks(execute=True):
        account_delete(user=victim)

    assert _credential_emails() == []


def test_making_another_address_primary_tells_both_addresses_once(
    client, victim, django_capture_on_commit_callbacks
):
    old = victim.email
    EmailAddress.objects.create(user=victim, email="second@example.com", verified=True)
    _sign_in(client, victim)
    client.post(reverse("account_reauthenticate"), {"password": TEST_PASSWORD})

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("account_email"), {"action_primary": "", "email": "second@example.com"})

    victim.refresh_from_db()
    assert victim.email == "second@example.com"
    (message,) = _credential_emails()
    assert sorted(message.to) == sorted([old, "second@example.com"])
    assert "someone signed in to your account" in message.body
