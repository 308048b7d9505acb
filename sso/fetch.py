"""Every request Rapport's server makes to an identity provider: discovery, its keys, the
token and userinfo endpoints, SAML metadata.

The addresses come from HR's settings, so a request could be aimed inside the server's
own network, at services that trust it. Checking an address when HR saves it is not
enough: its name can resolve elsewhere at the next sign-in (DNS rebinding). So the check
is made at each connection, on the addresses the name resolves to then, and the socket
connects to the address that was checked (and is checked again once connected), while
TLS still verifies the certificate for the name. Each request has timeouts and a cap on
the size of the answer, so a provider cannot hold a worker or fill its memory.

Outside the tests and the demo (`RAPPORT_SSO_ALLOW_LOCAL_PROVIDERS`), only https, and only
addresses on the internet."""

import ipaddress
import socket
import time
from urllib.parse import urlsplit

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import NameResolutionError, NewConnectionError
from urllib3.util import connection

# (connect, read) seconds: a provider answers in well under a second.
TIMEOUT = (5, 10)
# A provider's configuration, key set or metadata is a few kilobytes; a large
# federation's metadata can reach a few hundred.
MAX_BYTES = 2 * 1024 * 1024
# However slowly it drips (each read has its own timeout), an answer ends by then.
TOTAL_SECONDS = 15


class FetchRefused(requests.ConnectionError):
    """Rapport would not make (or finish) the request; the message says why, for IT."""


def _allowed(address: str) -> bool:
    return settings.RAPPORT_SSO_ALLOW_LOCAL_PROVIDERS or ipaddress.ip_address(address).is_global


class _Checked:
    """A urllib3 connection that connects only to addresses on the internet."""

    def _new_conn(self) -> socket.socket:
        try:
            infos = socket.getaddrinfo(self._dns_host, self.port, type=socket.SOCK_STREAM)
        except socket.gaierror as error:
            raise NameResolutionError(self.host, self, error) from error
        refused = [info[4][0] for info in infos if not _allowed(info[4][0])]
        if refused:
            # One private address among public ones is refused too: which one a
            # connection would use is the resolver's choice, not Rapport's.
            raise NewConnectionError(
                self,
                f"{self.host} resolves to {refused[0]}, an address inside a private "
                "network: company sign-in only reaches providers on the internet.",
            )
        last = None
        for *_, sockaddr in infos:
            try:
                sock = connection.create_connection(
                    sockaddr[:2],
                    self.timeout,
                    source_address=self.source_address,
                    socket_options=self.socket_options,
                )
            except OSError as error:
                last = error
                continue
            if not _allowed(sock.getpeername()[0]):  # cannot differ; cheap to be sure
                sock.close()
                raise NewConnectionError(self, f"{self.host} connected inside a private network.")
            return sock
        raise NewConnectionError(self, f"Failed to establish a new connection: {last}")


class _CheckedHTTPConnection(_Checked, HTTPConnection):
    pass


class _CheckedHTTPSConnection(_Checked, HTTPSConnection):
    pass


class _CheckedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _CheckedHTTPConnection


class _CheckedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _CheckedHTTPSConnection


class _CheckedAdapter(HTTPAdapter):
    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": _CheckedHTTPPool,
            "https": _CheckedHTTPSPool,
        }


class CheckedSession(requests.Session):
    def __init__(self):
        super().__init__()
        # No proxy from the environment: the connection goes where it was checked to go.
        self.trust_env = False
        adapter = _CheckedAdapter(max_retries=0)
        self.mount("https://", adapter)
        self.mount("http://", adapter)

    def send(self, request, **kwargs):
        # Each hop of a redirect comes through here too, so each is checked.
        scheme = urlsplit(request.url).scheme
        if scheme != "https" and not (
            scheme == "http" and settings.RAPPORT_SSO_ALLOW_LOCAL_PROVIDERS
        ):
            raise FetchRefused(f"{request.url} is not an https address.", request=request)
        kwargs["timeout"] = TIMEOUT
        # A redirect's target would be fetched unchecked by requests' own redirect
        # handling (it reads the first answer whole); providers' endpoints do not move.
        kwargs["allow_redirects"] = False
        kwargs["stream"] = True
        response = super().send(request, **kwargs)
        try:
            if response.is_redirect:
                raise FetchRefused(
                    f"{request.url} redirects to {response.headers.get('location')}: enter "
                    "the address it redirects to.",
                    request=request,
                    response=response,
                )
            body = self._read(request, response)
        finally:
            response.close()
        response._content = body
        response._content_consumed = True
        return response

    @staticmethod
    def _read(request, response) -> bytes:
        deadline = time.monotonic() + TOTAL_SECONDS
        chunks, size = [], 0
        while chunk := response.raw.read1(64 * 1024, decode_content=True):
            chunks.append(chunk)
            size += len(chunk)
            if size > MAX_BYTES:
                raise FetchRefused(
                    f"{request.url} answered with more than {MAX_BYTES // 1024} KB.",
                    request=request,
                )
            if time.monotonic() > deadline:
                raise FetchRefused(
                    f"{request.url} took more than {TOTAL_SECONDS} seconds to answer.",
                    request=request,
                )
        return b"".join(chunks)


def session() -> CheckedSession:
    return CheckedSession()
