"""Company sign-in against an identity provider the suite did not write, set up as it
ships: SimpleSAMLphp (PHP, tests/partners/simplesamlphp.py), with its transient NameID,
its attribute names and its signatures, and its check of Rapport's signed requests."""

import pytest
from allauth.socialaccount.models import SocialAccount
from django.test import Client
from django.urls import reverse

from accounts.models import Membership, User
from sso.models import SingleSignOn
from tests.helpers import path_of, text

pytestmark = pytest.mark.django_db


def test_simplesamlphp_as_it_ships_signs_the_same_person_into_the_same_account(
    client, acme, acme_hr, simplesamlphp
):
    # IT registers Rapport first, from the metadata HR publishes; then HR saves the IdP's.
    client.force_login(acme_hr)
    client.post(reverse("sso_saml_prepare"))
    metadata = Client().get(reverse("saml_metadata", args=[SingleSignOn.provider_id_for(acme)]))
    simplesamlphp.register_service_provider(metadata.content.decode())
    response = client.post(
        reverse("sso_settings"),
        {"protocol": "saml", "saml-metadata_url": simplesamlphp.metadata_url},
    )
    assert response.status_code == 302, text(response)

    for _ in range(2):
        person = Client()
        start = person.post(reverse("sso_start"), {"email": "nia.new@acme.test"})["Location"]
        assert person.get(start).status_code == 200
        to_provider = person.post(start)
        assert to_provider.status_code == 302, text(to_provider)
        acs, fields = simplesamlphp.sign_in(to_provider["Location"], "nia")
        finish = person.post(path_of(acs), fields)
        assert finish.status_code == 302, text(finish)
        response = person.get(finish["Location"])
        assert response.status_code == 302 and response["Location"] == reverse("home"), text(
            response
        )
        assert "Hello, Nia New" in text(person.get(reverse("home")))

    nia = User.objects.get(email="nia.new@acme.test")
    assert SocialAccount.objects.filter(user=nia).count() == 1
    assert Membership.objects.get(user=nia).organisation == acme
