import pytest
from allauth.account.models import EmailAddress
from django.urls import reverse

from accounts.models import Membership, Organisation, User
from tests.helpers import links_in_last_email, path_of, text

pytestmark = pytest.mark.django_db

SIGNUP = {
    "display_name": "Fern Founder",
    "email": "fern@example.com",
    "organisation_name": "Fern & Co",
    "password1": "correct-horse-battery-9",
    "password2": "correct-horse-battery-9",
}


def test_signup_without_invitation_founds_an_organisation_and_makes_them_hr_admin(client):
    response = client.post(reverse("account_signup"), SIGNUP)

    assert response.status_code == 302
    user = User.objects.get(email="fern@example.com")
    assert user.display_name == "Fern Founder"
    membership = Membership.objects.get(user=user)
    assert membership.organisation.name == "Fern & Co"
    assert membership.organisation.slug == "fern-co"
    assert membership.role == Membership.Role.HR_ADMIN
    assert membership.organisation.anonymity_threshold == 5


def test_signup_requires_email_verification_before_signing_in(client, mailoutbox):
    client.post(reverse("account_signup"), SIGNUP)

    home = client.get(reverse("home"))
    assert home.status_code == 302, "not signed in before the email is verified"
    assert not EmailAddress.objects.get(email="fern@example.com").verified

    confirm_path = path_of(links_in_last_email("fern@example.com")[0])
    assert client.get(confirm_path).status_code == 200
    response = client.post(confirm_path)

    assert response.status_code == 302
    assert EmailAddress.objects.get(email="fern@example.com").verified
    home = client.get(reverse("home"))
    assert home.status_code == 200
    assert "Hello, Fern Founder" in text(home)


def test_signup_errors_are_explained_on_the_form(client):
    response = client.post(
        reverse("account_signup"),
        {**SIGNUP, "email": "not-an-email", "organisation_name": "", "password2": "different"},
    )

    assert response.status_code == 200
    page = text(response)
    assert "Enter a valid email address." in page
    assert "This field is required." in page
    assert "You must type the same password each time." in page
    assert not User.objects.exists()
    assert not Organisation.objects.exists()


def test_two_organisations_with_the_same_name_get_distinct_slugs(client):
    client.post(reverse("account_signup"), SIGNUP)
    client.post(
        reverse("account_signup"), {**SIGNUP, "email": "other@example.com", "display_name": "O"}
    )

    assert sorted(Organisation.objects.values_list("slug", flat=True)) == ["fern-co", "fern-co-2"]
