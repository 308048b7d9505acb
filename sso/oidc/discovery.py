"""Asking an OpenID Connect issuer for its configuration, when HR connects it: so a
mistyped address is a clear message on the form, not a failed sign-in later.

HR's address makes the server fetch a URL, so outside the tests and the demo only
https is allowed, and never an address inside the server's own network (a request
there could reach services that trust it)."""

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings

REQUIRED = ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri")


class DiscoveryError(Exception):
    pass


def check_address(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in {"https", "http"} or not parts.hostname:
        raise DiscoveryError("Enter the issuer's full address, starting with https://.")
    if settings.RAPPORT_SSO_ALLOW_LOCAL_PROVIDERS:
        return
    if parts.scheme != "https":
        raise DiscoveryError("The issuer's address must start with https://.")
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, type=socket.SOCK_STREAM)
    except OSError:
        raise DiscoveryError(f"{parts.hostname} was not found: check the address.") from None
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global:
            raise DiscoveryError(
                f"{parts.hostname} is an address inside a private network; company sign-in "
                "needs one on the internet."
            )


def discover(issuer: str) -> dict:
    import requests  # not in every process: only HR's settings page asks

    from sso.fetch import FetchRefused, session

    check_address(issuer)
    url = issuer.rstrip("/") + "/.well-known/openid-configuration"
    try:
        with session() as http:
            response = http.get(url)
    except FetchRefused as error:
        raise DiscoveryError(str(error)) from None
    except requests.RequestException:
        raise DiscoveryError(f"Rapport could not reach {url}: check the address.") from None
    if response.status_code != 200:
        raise DiscoveryError(
            f"{url} answered {response.status_code}, not an OpenID Connect configuration: "
            "check the issuer URL."
        )
    try:
        config = response.json()
    except ValueError:
        config = None
    if not isinstance(config, dict) or any(not config.get(key) for key in REQUIRED):
        raise DiscoveryError(f"{url} is not an OpenID Connect configuration.")
    if str(config["issuer"]).rstrip("/") != issuer.rstrip("/"):
        raise DiscoveryError(
            f"The provider calls itself {config['issuer']}: enter that as the issuer URL."
        )
    return config
