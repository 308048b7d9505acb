from urllib.parse import urlsplit


def allow_form_action(response, url: str) -> None:
    """Lets this one page's form go on to `url`'s site: the page that asks before leaving
    for an identity provider, whose redirect the strict CSP's form-action would stop."""
    parts = urlsplit(url)
    response._csp_update = {"form-action": [f"{parts.scheme}://{parts.netloc}"]}
