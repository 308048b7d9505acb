import html
import re
import time

from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

LINK = re.compile(r"https?://[^\s]+")


def links_in_last_email(to: str) -> list[str]:
    """The links in the newest email sent to this address."""
    for message in reversed(mail.outbox):
        if to in message.to:
            return LINK.findall(message.body)
    raise AssertionError(f"No email was sent to {to}; outbox: {[m.to for m in mail.outbox]}")


def path_of(url: str) -> str:
    return re.sub(r"^https?://[^/]+", "", url)


TAG = re.compile(r"<[^>]+>")
SPACE = re.compile(r"\s+")


def text(response) -> str:
    """The response body as a person reads it: no tags, entities decoded, spaces folded."""
    return SPACE.sub(" ", html.unescape(TAG.sub(" ", response.content.decode()))).replace(" .", ".")


def queries_of(client, url: str) -> int:
    """The queries one GET of `url` runs, leaving out the savepoints the test's own
    transaction adds around a request (in production, ATOMIC_REQUESTS adds none)."""
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len([q for q in captured.captured_queries if "SAVEPOINT" not in q["sql"]])


def totp_code(secret: str) -> str:
    """An authenticator app's code now. Rapport accepts only the current 30-second
    window, so a code about to expire is not used: wait for the next one."""
    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

    if time.time() % 30 > 27:
        time.sleep(30 - time.time() % 30 + 0.1)
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))
