import uuid

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import Invitation
from tests.helpers import text

pytestmark = pytest.mark.django_db


def test_an_oversized_request_is_a_400_not_a_500(hr_client):
    response = hr_client.post(reverse("team_create"), {"team-name": "x" * (2 * 1024 * 1024)})

    assert response.status_code == 400
    assert "We couldn't understand that request" in text(response)


def test_too_many_fields_is_a_400(hr_client):
    response = hr_client.post(reverse("team_create"), {f"f{i}": "x" for i in range(500)})

    assert response.status_code == 400


def test_a_malformed_id_in_the_url_is_a_404(hr_client):
    response = hr_client.post("/organisation/invitations/not-a-uuid/revoke/")

    assert response.status_code == 404
    assert "We can't find that page" in text(response)


def test_a_well_formed_but_unknown_id_is_a_404(hr_client):
    response = hr_client.post(reverse("invitation_revoke", args=[uuid.uuid4()]))

    assert response.status_code == 404


def test_long_names_get_a_clear_message(hr_client):
    response = hr_client.post(reverse("team_create"), {"team-name": "x" * 81})

    assert "Ensure this value has at most 80 characters (it has 81)." in text(response)


def test_a_missing_csrf_token_is_explained(client, hr_admin):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(hr_admin)
    response = strict.post(reverse("team_create"), {"team-name": "Design"})

    assert response.status_code == 403
    assert "Your form expired" in text(response)


any_text = st.text(max_size=300)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(email=any_text, team=any_text, role=any_text, name=any_text, threshold=any_text)
def test_organisation_forms_never_fail_with_a_500(hr_client, email, team, role, name, threshold):
    for url, data in [
        (
            reverse("invitation_create"),
            {"invite-email": email, "invite-team": team, "invite-role": role},
        ),
        (reverse("team_create"), {"team-name": name}),
        (
            reverse("organisation_settings"),
            {"org-name": name, "org-anonymity_threshold": threshold},
        ),
    ]:
        response = hr_client.post(url, data)
        assert response.status_code in {200, 302}, (url, data)
    assert Invitation.objects.filter(email="").count() == 0
