"""The test SAML identity provider (tests/partners/saml_idp.py) as a fixture: a process
of its own on a free port, and a person signing in at it without a browser."""

import html
import json
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import requests

from sso.saml import self_signed_certificate
from tests.partners.oidc import PEOPLE
from tests.partners.process import free_port, start_partner
from tests.partners.saml_idp import PASSWORD

OTHER_APPLICATION = "-other-application"


@dataclass
class SAMLProvider:
    url: str
    process: subprocess.Popen

    @property
    def metadata_url(self) -> str:
        return f"{self.url}/metadata"

    def metadata(self) -> str:
        return requests.get(self.metadata_url, timeout=10).text

    def register_service_provider(self, metadata: str) -> None:
        """Adds Rapport (its SP metadata, from the address HR's page shows) as an
        application, and a second application of the same company with another entity
        ID, whose assertions are for another audience."""
        entity_id = re.search(r'entityID="([^"]+)"', metadata).group(1)
        other = metadata.replace(
            f'entityID="{entity_id}"', f'entityID="{entity_id}{OTHER_APPLICATION}"'
        )
        response = requests.post(
            f"{self.url}/register", data=json.dumps({"metadata": [metadata, other]}), timeout=10
        )
        response.raise_for_status()

    def sign_in(self, sso_url: str, username: str, *, mode: str = "valid") -> tuple[str, dict]:
        """Signs in at the provider from Rapport's AuthnRequest; returns where the
        provider's page posts the answer (Rapport's ACS) and the fields it posts."""
        session = requests.Session()
        page = session.get(sso_url, timeout=10)
        page.raise_for_status()
        pending = re.search(r'name="pending" value="([^"]+)"', page.text).group(1)
        answer = session.post(
            f"{self.url}/sso/login",
            data={"pending": pending, "mode": mode, "username": username, "password": PASSWORD},
            timeout=10,
        )
        answer.raise_for_status()
        action = html.unescape(re.search(r'<form method="post" action="([^"]+)"', answer.text)[1])
        fields = {
            html.unescape(name): html.unescape(value)
            for name, value in re.findall(r'name="([^"]+)" value="([^"]*)"', answer.text)
        }
        return action, fields


def start(directory: Path) -> SAMLProvider:
    key_pem, cert_pem = self_signed_certificate("Acme SAML test provider")
    (directory / "idp.key").write_text(key_pem)
    (directory / "idp.crt").write_text(cert_pem)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = start_partner(
        "tests.partners.saml_idp",
        str(port),
        str(directory),
        env={"IDP_PEOPLE": json.dumps(PEOPLE)},
        ready_url=f"{url}/metadata",
    )
    return SAMLProvider(url=url, process=process)
