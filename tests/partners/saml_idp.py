"""A real SAML 2.0 identity provider for the tests, built with pysaml2 (which signs with
the xmlsec1 program), in a process of its own: python -m tests.partners.saml_idp PORT DIR.
DIR holds its key and certificate. Never part of Rapport.

It serves its metadata, takes a service provider's metadata at /register (as an
administrator adds an application in a real provider's console), receives
AuthnRequests by the HTTP-Redirect binding, signs people in with a password, and answers
by the HTTP-POST binding. The login form's hidden "mode" chooses the answer: a valid
signed assertion, or one tampered with after signing, unsigned, or for another audience
(an expired one is a valid one presented late); or, as other providers ship by default,
a signed Response holding an unsigned assertion ("signed_response", Keycloak and
Shibboleth), a transient NameID ("transient", SimpleSAMLphp and Shibboleth), or the
address as the NameID and no attributes ("nameid_only", Okta and Google Workspace)."""

import html
import json
import os
import secrets
import sys
from pathlib import Path
from socketserver import ThreadingMixIn
from urllib.parse import parse_qs
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.config import IdPConfig
from saml2.metadata import create_metadata_string
from saml2.saml import (
    AUTHN_PASSWORD_PROTECTED,
    NAME_FORMAT_URI,
    NAMEID_FORMAT_PERSISTENT,
    NAMEID_FORMAT_TRANSIENT,
    NAMEID_FORMAT_UNSPECIFIED,
    NameID,
)
from saml2.server import Server
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

PASSWORD = "acme-saml-password"  # noqa: S105

# The attributes a company's directory gives, by their standard names.
MAIL = "urn:oid:0.9.2342.19200300.100.1.3"
DISPLAY_NAME = "urn:oid:2.16.840.1.113730.3.1.241"


class _Threads(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args):
        pass


class IdentityProvider:
    def __init__(self, base: str, directory: Path, people: list[dict]):
        self.base = base
        self.directory = directory
        self.people = {p["username"]: p for p in people}
        self.sp_metadata: list[str] = []
        self.pending: dict[str, dict] = {}
        self.server = self._server()

    def _config(self) -> IdPConfig:
        config = IdPConfig()
        config.load(
            {
                "entityid": f"{self.base}/metadata",
                "service": {
                    "idp": {
                        "name": "Acme SAML",
                        "endpoints": {
                            "single_sign_on_service": [
                                (f"{self.base}/sso/redirect", BINDING_HTTP_REDIRECT)
                            ]
                        },
                        "name_id_format": [NAMEID_FORMAT_PERSISTENT],
                        "policy": {
                            "default": {
                                "lifetime": {"minutes": 5},
                                "attribute_restrictions": None,
                                "name_form": NAME_FORMAT_URI,
                            }
                        },
                    }
                },
                "key_file": str(self.directory / "idp.key"),
                "cert_file": str(self.directory / "idp.crt"),
                "xmlsec_binary": "/usr/bin/xmlsec1",
                "metadata": {"inline": list(self.sp_metadata)},
            }
        )
        return config

    def _server(self) -> Server:
        return Server(config=self._config())

    # --- WSGI ---------------------------------------------------------------------------

    def __call__(self, environ, start_response):
        path = environ["PATH_INFO"]
        method = environ["REQUEST_METHOD"]
        try:
            if path == "/metadata" and method == "GET":
                body = create_metadata_string(None, config=self._config(), valid=24)
                return _answer(start_response, "200 OK", body, "application/samlmetadata+xml")
            if path == "/register" and method == "POST":
                self.sp_metadata += json.loads(_body(environ))["metadata"]
                self.server = self._server()
                return _answer(start_response, "201 Created", b"{}", "application/json")
            if path == "/sso/redirect" and method == "GET":
                return self._login_form(environ, start_response)
            if path == "/sso/login" and method == "POST":
                return self._respond(environ, start_response)
        except Exception as error:  # noqa: BLE001 (a test partner: say what went wrong)
            message = f"{type(error).__name__}: {error}".encode()
            return _answer(start_response, "500 Internal Server Error", message, "text/plain")
        return _answer(start_response, "404 Not Found", b"not found", "text/plain")

    def _login_form(self, environ, start_response):
        query = parse_qs(environ.get("QUERY_STRING", ""))
        request = self.server.parse_authn_request(
            query["SAMLRequest"][0], BINDING_HTTP_REDIRECT
        ).message
        pending = secrets.token_urlsafe(12)
        self.pending[pending] = {
            "id": request.id,
            "sp": request.issuer.text,
            "acs": request.assertion_consumer_service_url,
            "relay_state": query.get("RelayState", [""])[0],
        }
        page = f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>Acme SAML sign-in</title></head><body><h1>Acme SAML sign-in</h1>
<form method="post" action="/sso/login">
<input type="hidden" name="pending" value="{pending}">
<input type="hidden" name="mode" value="valid">
<p><label for="username">Username</label> <input id="username" name="username"></p>
<p><label for="password">Password</label>
<input id="password" name="password" type="password"></p>
<button type="submit">Sign in to Acme SAML</button></form></body></html>"""
        return _answer(start_response, "200 OK", page.encode(), "text/html; charset=utf-8")

    def _respond(self, environ, start_response):
        form = {k: v[0] for k, v in parse_qs(_body(environ).decode()).items()}
        person = self.people.get(form.get("username", ""))
        if person is None or form.get("password") != PASSWORD:
            return _answer(start_response, "403 Forbidden", b"wrong password", "text/plain")
        pending = self.pending.pop(form["pending"])
        mode = form.get("mode", "valid")
        identity = {MAIL: [person["email"]], DISPLAY_NAME: [person["name"]]}
        if "email_verified" in person:
            identity["email_verified"] = ["true" if person["email_verified"] else "false"]
        audience = pending["sp"]
        if mode == "wrong_audience":
            # Another application of the same company, whose assertion this is.
            audience = f"{pending['sp']}-other-application"
        name_id = NameID(format=NAMEID_FORMAT_PERSISTENT, text=f"acme-{person['username']}")
        if mode == "transient":
            name_id = NameID(format=NAMEID_FORMAT_TRANSIENT, text=secrets.token_hex(16))
        elif mode == "nameid_only":
            name_id = NameID(format=NAMEID_FORMAT_UNSPECIFIED, text=person["email"])
            identity = {}
        response = self.server.create_authn_response(
            identity,
            # "unsolicited": as a portal's app tile starts a sign-in, answering nothing.
            in_response_to=None if mode == "unsolicited" else pending["id"],
            destination=pending["acs"],
            sp_entity_id=audience,
            name_id=name_id,
            sign_assertion=mode not in ("unsigned", "signed_response"),
            sign_response=mode == "signed_response",
            authn={"class_ref": AUTHN_PASSWORD_PROTECTED, "authn_auth": self.base},
            sign_alg=SIG_RSA_SHA256,
            digest_alg=DIGEST_SHA256,
        )
        response = str(response)
        if mode == "tampered":
            # Someone on the way changes who the signed assertion is about.
            response = response.replace(person["email"], "ceo@acme.test")
        post = self.server.apply_binding(
            BINDING_HTTP_POST, response, pending["acs"], pending["relay_state"], response=True
        )
        saml_response = _field(post["data"], "SAMLResponse")
        page = f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>Back to Rapport</title></head><body><h1>Signed in at Acme SAML</h1>
<form method="post" action="{html.escape(pending["acs"])}">
<input type="hidden" name="SAMLResponse" value="{html.escape(saml_response)}">
<input type="hidden" name="RelayState" value="{html.escape(pending["relay_state"])}">
<button type="submit">Continue to Rapport</button></form></body></html>"""
        return _answer(start_response, "200 OK", page.encode(), "text/html; charset=utf-8")


def _field(form_html: str, name: str) -> str:
    marker = f'name="{name}" value="'
    return html.unescape(form_html.split(marker, 1)[1].split('"', 1)[0])


def _body(environ) -> bytes:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    return environ["wsgi.input"].read(length)


def _answer(start_response, status: str, body: bytes | str, content_type: str):
    if isinstance(body, str):
        body = body.encode()
    start_response(status, [("Content-Type", content_type), ("Content-Length", str(len(body)))])
    return [body]


def main() -> None:
    port, directory = int(sys.argv[1]), Path(sys.argv[2])
    people = json.loads(os.environ.get("IDP_PEOPLE", "[]"))
    idp = IdentityProvider(f"http://127.0.0.1:{port}", directory, people)
    server = make_server("127.0.0.1", port, idp, server_class=_Threads, handler_class=_Quiet)
    server.serve_forever()


if __name__ == "__main__":
    main()
