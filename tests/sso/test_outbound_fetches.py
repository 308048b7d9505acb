"""Every request Rapport's server makes to an identity provider is checked where it goes,
each time it is made (sso/fetch.py): an address that passed when HR saved it can resolve
inside the server's network at the next sign-in. Real sockets on loopback stand in for
the inside of the network (a private address); the check is turned on for them with
RAPPORT_SSO_ALLOW_LOCAL_PROVIDERS=False, as in production."""

import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.test import Client
from django.urls import reverse

from sso import fetch
from sso.models import SingleSignOn
from tests.factories import SingleSignOnFactory
from tests.helpers import text

pytestmark = pytest.mark.django_db


class _Listener:
    """A socket that counts who connects to it, and answers nothing."""

    def __init__(self):
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self.sock.settimeout(0.2)
        self._stop = False
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.accepted += 1
            conn.close()

    def close(self):
        self._stop = True
        self._thread.join()
        self.sock.close()


@pytest.fixture
def listener():
    listening = _Listener()
    yield listening
    listening.close()


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        if self.path == "/big":
            self.send_response(200)
            self.end_headers()
            chunk = b"x" * 65536
            for _ in range(fetch.MAX_BYTES // len(chunk) + 2):
                self.wfile.write(chunk)
        elif self.path == "/slow":
            self.send_response(200)
            self.end_headers()
            for _ in range(30):
                self.wfile.write(b"{")
                self.wfile.flush()
                time.sleep(0.1)
        elif self.path.startswith("/moved"):
            self.send_response(302)
            self.send_header("Location", "http://10.0.0.1/inside")
            self.end_headers()
        else:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"ok": true}')


@pytest.fixture
def web():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_provider_that_now_resolves_inside_the_network_is_not_connected_to(
    settings, acme, listener
):
    """Saved while it pointed outside (here: written straight to the database), the
    issuer now resolves to a private address: the sign-in's discovery fetch never
    connects, and the person sees a page, not an error."""
    SingleSignOnFactory(organisation=acme, issuer=f"https://localhost:{listener.port}/o")
    settings.RAPPORT_SSO_ALLOW_LOCAL_PROVIDERS = False

    person = Client()
    response = person.post(reverse("sso_start"), {"email": "nia.new@acme.test"})
    page = person.post(response["Location"])

    assert page.status_code == 200
    assert "sign-in service did not sign you in" in text(page)
    assert listener.accepted == 0

    # The same sign-in where local providers are allowed (the tests, the demo) does
    # connect: what kept it out above is the check.
    settings.RAPPORT_SSO_ALLOW_LOCAL_PROVIDERS = True
    person.post(response["Location"])
    assert listener.accepted >= 1


def test_a_private_address_is_refused_at_connection_for_every_fetch(settings, listener):
    settings.RAPPORT_SSO_ALLOW_LOCAL_PROVIDERS = False
    for url in (
        f"https://127.0.0.1:{listener.port}/.well-known/openid-configuration",
        f"https://localhost:{listener.port}/jwks",
    ):
        with pytest.raises(fetch.requests.ConnectionError, match="private network"):
            fetch.session().get(url)
    with pytest.raises(fetch.FetchRefused, match="is not an https address"):
        fetch.session().post(f"http://127.0.0.1:{listener.port}/token")
    assert listener.accepted == 0


def test_an_answer_too_large_or_too_slow_or_redirected_is_refused(web, monkeypatch):
    assert fetch.session().get(f"{web}/config").json() == {"ok": True}

    with pytest.raises(fetch.FetchRefused, match="more than 2048 KB"):
        fetch.session().get(f"{web}/big")

    # Each read has its own timeout, so a drip-fed answer would hold the worker
    # indefinitely; the whole answer has a deadline.
    monkeypatch.setattr(fetch, "TOTAL_SECONDS", 1)
    started = time.monotonic()
    with pytest.raises(fetch.FetchRefused, match="took more than 1 seconds"):
        fetch.session().get(f"{web}/slow")
    assert time.monotonic() - started < 2.5

    # A redirect's target would be fetched outside the check.
    with pytest.raises(fetch.FetchRefused, match="redirects to http://10.0.0.1/inside"):
        fetch.session().get(f"{web}/moved")


def test_hr_saving_an_issuer_that_redirects_is_told_where_it_goes(client, acme_hr, web):
    client.force_login(acme_hr)
    response = client.post(
        reverse("sso_settings"),
        {
            "protocol": "oidc",
            "oidc-issuer": f"{web}/moved",
            "oidc-client_id": "rapport",
            "oidc-client_secret": "s3cret-s3cret",
        },
    )
    assert response.status_code == 400
    assert "redirects to http://10.0.0.1/inside" in text(response)
    assert not SingleSignOn.objects.exists()
