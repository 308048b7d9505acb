"""The test OpenID Connect provider (tests/partners/oidc_provider) as a fixture: a
process of its own on a free port, and a person signing in at it without a browser
(the browser journeys sign in on its pages themselves)."""

import html
import json
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin

import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.partners.process import free_port, start_partner

PASSWORD = "acme-idp-password"  # noqa: S105

# Who the company's provider knows. Acme's domain is acme.test.
PEOPLE = [
    {"username": "nia", "email": "nia.new@acme.test", "name": "Nia New"},
    {"username": "olu", "email": "olu@elsewhere.test", "name": "Olu Outsider"},
    {
        "username": "una",
        "email": "una.unverified@acme.test",
        "name": "Una Unverified",
        "email_verified": False,
    },
    {"username": "eve", "email": "eve.existing@acme.test", "name": "Eve Existing"},
    {"username": "sam", "email": "sam.second@acme.test", "name": "Sam Second"},
    # As Microsoft Entra ID signs people in: no email_verified claim at all.
    {
        "username": "ena",
        "email": "ena.entra@acme.test",
        "name": "Ena Entra",
        "email_verified": None,
    },
]


def signing_key_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


@dataclass
class OIDCProvider:
    url: str
    process: subprocess.Popen

    @property
    def issuer(self) -> str:
        return f"{self.url}/o"

    def register_client(self, *, client_id: str, client_secret: str, redirect_uri: str) -> None:
        response = requests.post(
            f"{self.url}/register/",
            data=json.dumps(
                {
                    "client_id": client_id,
                    "client_secret": client_secret,
                    "redirect_uris": [redirect_uri],
                }
            ),
            timeout=10,
        )
        response.raise_for_status()

    def sign_in(self, authorize_url: str, username: str, *, consent: bool = True) -> str:
        """Follows the provider's pages as a person would, from Rapport's redirect to
        the provider until the provider sends them back: returns that address (Rapport's
        callback, with the code and state)."""
        session = requests.Session()
        response = session.get(authorize_url, allow_redirects=True, timeout=10)
        assert "/login/" in response.url, response.url
        login = _hidden_fields(response.text)
        login.update(username=username, password=PASSWORD)
        response = session.post(response.url, data=login, timeout=10, allow_redirects=True)
        assert "authorizationForm" in response.text, response.text[:2000]
        form = _hidden_fields(response.text)
        if consent:
            form["allow"] = "Authorize"
        response = session.post(response.url, data=form, timeout=10, allow_redirects=False)
        assert response.status_code == 302, response.text[:2000]
        return urljoin(response.url, response.headers["Location"])


def _hidden_fields(page: str) -> dict:
    fields = {}
    for tag in re.findall(r"<input[^>]*>", page):
        if 'type="hidden"' not in tag:
            continue
        name = re.search(r'name="([^"]*)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if name:
            fields[html.unescape(name.group(1))] = html.unescape(value.group(1)) if value else ""
    return fields


def start(tmp_path: Path) -> OIDCProvider:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = start_partner(
        "tests.partners.oidc_provider",
        str(port),
        env={
            "DJANGO_SETTINGS_MODULE": "tests.partners.oidc_provider.settings",
            "IDP_DATABASE": str(tmp_path / "idp.sqlite3"),
            "IDP_SIGNING_KEY": signing_key_pem(),
            "IDP_PEOPLE": json.dumps([{**p, "password": PASSWORD} for p in PEOPLE]),
        },
        ready_url=f"{url}/o/.well-known/openid-configuration",
    )
    return OIDCProvider(url=url, process=process)
