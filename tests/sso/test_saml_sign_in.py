"""Company sign-in over SAML 2.0, against a real identity provider (pysaml2, signing with
xmlsec1, in a process of its own: tests/partners/saml_idp.py). Rapport runs through the
test client; the provider's pages through HTTP, as a browser would post them."""

import time

import pytest
import time_machine
from allauth.socialaccount.models import SocialAccount
from django.test import Client
from django.urls import reverse

from accounts.models import AuditEvent, Membership, User
from sso.models import SignInFailure, SingleSignOn
from tests.factories import MembershipFactory, SingleSignOnFactory
from tests.helpers import path_of, text

pytestmark = pytest.mark.django_db


def _connect(client, hr, provider, *, paste: bool = False):
    """HR gives the provider's metadata (its URL, or the XML pasted), then the provider's
    administrator adds Rapport from Rapport's metadata."""
    client.force_login(hr)
    data = {"protocol": "saml"}
    if paste:
        data["saml-metadata_xml"] = provider.metadata()
    else:
        data["saml-metadata_url"] = provider.metadata_url
    response = client.post(reverse("sso_settings"), data)
    assert response.status_code == 302, text(response)
    config = SingleSignOn.objects.get(organisation__memberships__user=hr)
    metadata = Client().get(reverse("saml_metadata", args=[config.provider_id]))
    assert metadata.status_code == 200
    provider.register_service_provider(metadata.content.decode())
    return config


def _sign_in(provider, email: str, username: str, *, mode: str = "valid", late: float = 0):
    """Work email, allauth's page that asks first, the provider's sign-in, and its answer
    posted back to Rapport (`late` seconds later). Returns the person's client and
    Rapport's last answer."""
    person = Client()
    response = person.post(reverse("sso_start"), {"email": email})
    assert response.status_code == 302, text(response)
    login = response["Location"]
    assert person.get(login).status_code == 200
    response = person.post(login)
    assert response.status_code == 302, text(response)
    acs, fields = provider.sign_in(response["Location"], username, mode=mode)
    with time_machine.travel(time.time() + late):
        response = person.post(path_of(acs), fields)
        assert response.status_code == 302, text(response)
        return person, person.get(response["Location"])


def test_hr_connects_saml_and_a_colleague_joins_on_first_sign_in(
    client, acme, acme_hr, saml_provider
):
    config = _connect(client, acme_hr, saml_provider)

    assert config.protocol == SingleSignOn.Protocol.SAML
    assert config.idp_entity_id == saml_provider.metadata_url
    # Rapport's signing key: encrypted at rest, never on a page; its certificate public.
    assert "PRIVATE KEY" in config.sp_private_key
    assert "PRIVATE KEY" not in config.sp_private_key_ciphertext
    page = client.get(reverse("sso_settings")).content.decode()
    assert "PRIVATE KEY" not in page and "Connected over SAML 2.0" in page
    metadata = Client().get(reverse("saml_metadata", args=[config.provider_id])).content.decode()
    assert "PRIVATE" not in metadata and "X509Certificate" in metadata
    assert AuditEvent.objects.filter(action="sso.connected", details__protocol="SAML 2.0").exists()

    person, response = _sign_in(saml_provider, "nia.new@acme.test", "nia")

    assert response.status_code == 302 and response["Location"] == reverse("home")
    nia = User.objects.get(email="nia.new@acme.test")
    assert nia.display_name == "Nia New"
    assert Membership.objects.get(user=nia).organisation == acme
    assert Membership.objects.get(user=nia).role == Membership.Role.MEMBER
    assert "Hello, Nia New" in text(person.get(reverse("home")))
    assert SocialAccount.objects.get(user=nia).uid == "acme-nia"

    _, again = _sign_in(saml_provider, "nia.new@acme.test", "nia")
    assert again["Location"] == reverse("home")
    assert User.objects.filter(email="nia.new@acme.test").count() == 1


def test_pasted_metadata_connects_too(client, acme, acme_hr, saml_provider):
    _connect(client, acme_hr, saml_provider, paste=True)
    _, response = _sign_in(saml_provider, "nia.new@acme.test", "nia")
    assert response["Location"] == reverse("home")


@pytest.mark.parametrize(
    ("mode", "late", "reason"),
    [
        # The address changed after the provider signed.
        ("tampered", 0, "Signature validation failed"),
        ("unsigned", 0, "No Signature found"),
        # Signed, but for another application of the same company.
        ("wrong_audience", 0, "is not a valid audience"),
        # Signed and right, but presented after it expired (the provider gives 5 minutes).
        ("valid", 10 * 60, "expired"),
    ],
)
def test_an_assertion_that_is_not_signed_for_rapport_now_is_refused(
    client, acme, acme_hr, saml_provider, caplog, mode, late, reason
):
    _connect(client, acme_hr, saml_provider)

    person, response = _sign_in(saml_provider, "nia.new@acme.test", "nia", mode=mode, late=late)

    # Refused for its own reason, not some other.
    assert any(reason in record.getMessage() for record in caplog.records), reason
    assert response.status_code == 401
    assert "did not sign you in" in text(response)
    assert not User.objects.filter(email__in=["nia.new@acme.test", "ceo@acme.test"]).exists()
    assert "_auth_user_id" not in person.session


def test_the_same_assertion_cannot_be_used_twice(client, acme, acme_hr, saml_provider):
    _connect(client, acme_hr, saml_provider)
    person = Client()
    login = person.post(reverse("sso_start"), {"email": "nia.new@acme.test"})["Location"]
    acs, fields = saml_provider.sign_in(person.post(login)["Location"], "nia")
    finish = person.post(path_of(acs), fields)["Location"]
    assert person.get(finish)["Location"] == reverse("home")

    # Replayed, in another browser: the request it answers was used up.
    thief = Client()
    response = thief.get(thief.post(path_of(acs), fields)["Location"])
    assert response.status_code in {401, 403}
    assert "_auth_user_id" not in thief.session


@pytest.mark.parametrize(
    ("username", "refusal"),
    [
        ("olu", "olu@elsewhere.test is not an address of Acme"),
        ("una", "did not confirm your email address"),
    ],
)
def test_a_saml_sign_in_outside_the_domains_or_unverified_is_refused(
    client, acme, acme_hr, saml_provider, username, refusal
):
    _connect(client, acme_hr, saml_provider)
    _, response = _sign_in(saml_provider, "anyone@acme.test", username)
    assert response.status_code == 403
    assert refusal in text(response)
    assert not SocialAccount.objects.exists()


def test_bad_metadata_is_a_message_on_the_form(client, acme, acme_hr, saml_provider):
    client.force_login(acme_hr)
    for data, message in [
        ({"saml-metadata_url": saml_provider.url + "/nothing"}, "answered 404"),
        ({"saml-metadata_xml": "<not-metadata/>"}, "names no sign-in address"),
        ({"saml-metadata_xml": "this is not XML"}, "That is not SAML metadata"),
        ({}, "Give the metadata URL or paste the metadata"),
    ]:
        response = client.post(reverse("sso_settings"), {"protocol": "saml", **data})
        assert response.status_code == 400, data
        assert message in text(response), data
    assert not SingleSignOn.objects.exists()


def test_switching_from_openid_connect_to_saml_unlinks_everyone(
    client, acme, acme_hr, saml_provider
):
    from allauth.socialaccount.models import SocialAccount as Linked

    config = SingleSignOnFactory(organisation=acme)
    someone = MembershipFactory(organisation=acme).user
    Linked.objects.create(user=someone, provider=config.provider_id, uid="old-sub")

    _connect(client, acme_hr, saml_provider)

    assert not Linked.objects.exists()
    config.refresh_from_db()
    assert config.protocol == "saml" and config.client_secret_ciphertext == ""
    (change,) = AuditEvent.objects.filter(action="sso.changed")
    assert "protocol" in change.details["fields"]


@pytest.mark.parametrize(
    "mode",
    [
        "signed_response",  # Keycloak's and Shibboleth's default: the Response signed
        "transient",  # SimpleSAMLphp's and Shibboleth's default NameID: new each time
        "nameid_only",  # Okta's and Google Workspace's: the address as NameID, no attributes
    ],
)
def test_providers_default_set_ups_sign_the_same_person_into_the_same_account(
    client, acme, acme_hr, saml_provider, mode
):
    _connect(client, acme_hr, saml_provider)

    for _ in range(2):
        person, response = _sign_in(saml_provider, "nia.new@acme.test", "nia", mode=mode)
        assert response.status_code == 302 and response["Location"] == reverse("home"), text(
            response
        )
        assert person.get(reverse("home")).status_code == 200

    nia = User.objects.get(email="nia.new@acme.test")
    assert User.objects.filter(email__iexact="nia.new@acme.test").count() == 1
    assert SocialAccount.objects.filter(user=nia).count() == 1
    assert Membership.objects.get(user=nia).organisation == acme


def test_a_sign_in_the_provider_starts_begins_one_from_rapport(
    client, acme, acme_hr, saml_provider
):
    """An app tile on the provider's portal posts an answer to no request: it is not
    trusted (nothing ties it to this browser), and starts a sign-in from Rapport."""
    config = _connect(client, acme_hr, saml_provider)
    person = Client()
    login = person.post(reverse("sso_start"), {"email": "nia.new@acme.test"})["Location"]
    acs, fields = saml_provider.sign_in(person.post(login)["Location"], "nia", mode="unsolicited")

    response = Client().post(path_of(acs), fields)

    assert response.status_code == 302
    assert response["Location"] == reverse("saml_login", args=[config.provider_id])
    assert not User.objects.filter(email="nia.new@acme.test").exists()
    # From there, the ordinary sign-in.
    _, response = _sign_in(saml_provider, "nia.new@acme.test", "nia")
    assert response["Location"] == reverse("home")


@pytest.mark.parametrize(
    ("mode", "late", "words"),
    [
        ("wrong_audience", 0, "for another application (audience)"),
        ("valid", 600, "expired or was not valid yet"),
        ("unsigned", 0, "not signed by the certificate in the provider's metadata"),
    ],
)
def test_a_failed_sign_in_says_why_with_a_reference_hr_can_look_up(
    client, acme, acme_hr, saml_provider, mode, late, words
):
    _connect(client, acme_hr, saml_provider)

    _, response = _sign_in(saml_provider, "nia.new@acme.test", "nia", mode=mode, late=late)

    page = text(response)
    assert response.status_code == 401 and words in page
    failure = SignInFailure.objects.get()
    assert failure.reference in page
    hr_page = text(client.get(reverse("sso_settings")))
    assert failure.reference in hr_page and words in hr_page
    # What went wrong, never who it was or what the provider sent.
    assert "nia" not in failure.reason.lower() and "SAMLResponse" not in failure.reason


def test_rapports_metadata_is_published_before_the_providers_is_saved(
    client, acme, acme_hr, saml_provider
):
    """IT registers Rapport at the provider first: HR publishes Rapport's metadata, IT
    registers it, then HR saves the provider's, and the certificate IT registered is the
    one Rapport signs with."""
    client.force_login(acme_hr)
    provider_id = SingleSignOn.provider_id_for(acme)
    url = reverse("saml_metadata", args=[provider_id])
    assert Client().get(url).status_code == 404
    page = text(client.get(reverse("sso_settings")))
    assert "Publish Rapport's SAML metadata" in page

    assert client.post(reverse("sso_saml_prepare")).status_code == 302
    early = Client().get(url)
    assert early.status_code == 200
    assert "X509Certificate" in early.content.decode()
    assert "PRIVATE" not in early.content.decode()
    assert client.post(reverse("sso_saml_prepare")).status_code == 302  # the same pair
    assert Client().get(url).content == early.content
    saml_provider.register_service_provider(early.content.decode())

    # No provider is connected yet: nobody is routed to one.
    assert not SingleSignOn.objects.exists()
    response = Client().post(reverse("sso_start"), {"email": "nia.new@acme.test"})
    assert response.status_code == 400

    response = client.post(
        reverse("sso_settings"),
        {"protocol": "saml", "saml-metadata_url": saml_provider.metadata_url},
    )
    assert response.status_code == 302, text(response)
    config = SingleSignOn.objects.get(organisation=acme)
    assert config.sp_certificate.split("-----")[2].replace("\n", "") in early.content.decode()
    # Registered only from the early metadata, the provider signs Nia in.
    _, response = _sign_in(saml_provider, "nia.new@acme.test", "nia")
    assert response["Location"] == reverse("home")
