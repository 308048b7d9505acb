"""SimpleSAMLphp (Debian's `simplesamlphp`, PHP) as a company's SAML identity provider,
set up as it ships: an independent implementation of SAML 2.0, beside the suite's own
pysaml2 provider, run with PHP's built-in web server on loopback. Never part of Rapport.

Its defaults are what matter here: a transient NameID (a new one at each sign-in), the
address and name as `mail` and `displayName` attributes, and both the Response and the
assertion signed with RSA-SHA256. It checks the signature of Rapport's AuthnRequests."""

import html
import json
import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

import requests

from sso.saml import self_signed_certificate
from tests.partners.process import free_port

PASSWORD = "acme-ssp-password"  # noqa: S105
WWW = Path("/usr/share/simplesamlphp/www")
# Who Acme's directory knows (exampleauth:UserPass).
PEOPLE = {"nia": {"mail": ["nia.new@acme.test"], "displayName": ["Nia New"]}}
MD = "{urn:oasis:names:tc:SAML:2.0:metadata}"
DS = "{http://www.w3.org/2000/09/xmldsig#}"


def available() -> bool:
    return bool(shutil.which("php")) and (WWW / "index.php").exists()


@dataclass
class SimpleSAMLphp:
    url: str
    directory: Path
    process: subprocess.Popen

    @property
    def metadata_url(self) -> str:
        return f"{self.url}/saml2/idp/metadata.php"

    def register_service_provider(self, metadata: str) -> None:
        """Adds Rapport from its metadata, as IT adds a service provider."""
        root = ElementTree.fromstring(metadata)  # noqa: S314 (Rapport's own metadata)
        acs = root.find(f".//{MD}AssertionConsumerService").get("Location")
        certificate = "".join(root.find(f".//{DS}X509Certificate").text.split())
        remote = {
            root.get("entityID"): {
                "AssertionConsumerService": acs,
                "certData": certificate,
                "validate.authnrequest": True,
                "signature.algorithm": "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
            }
        }
        (self.directory / "metadata" / "sp-remote.json").write_text(json.dumps(remote))

    def sign_in(self, sso_url: str, username: str) -> tuple[str, dict]:
        """Signs in at SimpleSAMLphp's login form from Rapport's AuthnRequest; returns
        where its page posts the answer (Rapport's ACS) and the fields it posts."""
        session = requests.Session()
        form = session.get(sso_url, timeout=10)
        form.raise_for_status()
        state = html.unescape(re.search(r'name="AuthState" value="([^"]+)"', form.text)[1])
        answer = session.post(
            form.url,
            data={"AuthState": state, "username": username, "password": PASSWORD},
            timeout=10,
        )
        answer.raise_for_status()
        if "SAMLResponse" not in answer.text:
            raise AssertionError(answer.text[:1500])
        action = html.unescape(re.search(r'<form method="post"\s+action="([^"]+)"', answer.text)[1])
        fields = {
            html.unescape(name): html.unescape(value)
            for name, value in re.findall(
                r'<input type="hidden" name="([^"]+)" value="([^"]*)"', answer.text
            )
        }
        return action, fields


def start(directory: Path) -> SimpleSAMLphp:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    for sub in ("config", "metadata", "cert", "work"):
        (directory / sub).mkdir()
    key_pem, cert_pem = self_signed_certificate("Acme SimpleSAMLphp")
    (directory / "cert" / "idp.key").write_text(key_pem)
    (directory / "cert" / "idp.crt").write_text(cert_pem)
    (directory / "config" / "config.php").write_text(
        f"""<?php
require '/etc/simplesamlphp/config.php';
$config['baseurlpath'] = '{url}/';
$config['certdir'] = '{directory}/cert/';
$config['loggingdir'] = $config['datadir'] = $config['tempdir'] = '{directory}/work/';
$config['metadatadir'] = '{directory}/metadata/';
$config['secretsalt'] = '{key_pem[40:72]}';
$config['auth.adminpassword'] = '{key_pem[80:100]}';
$config['logging.handler'] = 'stderr';
$config['logging.level'] = SimpleSAML\\Logger::WARNING;
$config['enable.saml20-idp'] = true;
$config['store.type'] = 'phpsession';
$config['session.cookie.secure'] = false;
# Over http on loopback: Chromium refuses SameSite=None without Secure.
$config['session.cookie.samesite'] = 'Lax';
$config['module.enable'] = ['exampleauth' => true, 'core' => true, 'saml' => true];
"""
    )
    users = {f"{name}:{PASSWORD}": attributes for name, attributes in PEOPLE.items()}
    (directory / "config" / "authsources.php").write_text(
        "<?php\n$config = ['admin' => ['core:AdminPassword'], 'acme-users' => "
        f"array_merge(['exampleauth:UserPass'], json_decode('{json.dumps(users)}', true))];\n"
    )
    (directory / "metadata" / "saml20-idp-hosted.php").write_text(
        "<?php\n$metadata['__DYNAMIC:1__'] = ['host' => '__DEFAULT__', "
        "'privatekey' => 'idp.key', 'certificate' => 'idp.crt', 'auth' => 'acme-users'];\n"
    )
    (directory / "metadata" / "sp-remote.json").write_text("{}")
    (directory / "metadata" / "saml20-sp-remote.php").write_text(
        "<?php\nforeach (json_decode(file_get_contents(__DIR__ . '/sp-remote.json'), true) "
        "as $id => $sp) { $metadata[$id] = $sp; }\n"
    )
    process = subprocess.Popen(  # noqa: S603
        ["php", "-S", f"127.0.0.1:{port}", "-t", str(WWW)],  # noqa: S607
        env={"SIMPLESAMLPHP_CONFIG_DIR": str(directory / "config"), "PATH": "/usr/bin:/bin"},
        stdout=subprocess.DEVNULL,
        stderr=(directory / "work" / "server.log").open("w"),
    )
    provider = SimpleSAMLphp(url=url, directory=directory, process=process)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if requests.get(provider.metadata_url, timeout=2).status_code == 200:
                return provider
        except requests.ConnectionError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError((directory / "work" / "server.log").read_text()[-2000:])
