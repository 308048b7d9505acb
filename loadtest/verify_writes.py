"""Check that every write the load or fault test got a success for is in the database:
each note (a client token per line) is stored, and each invitation (an email address per
line) is stored with exactly one email in the outbox.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/rapport_load \\
        uv run python loadtest/verify_writes.py loadtest/acknowledged-*.txt
"""

import os
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

import django  # noqa: E402

django.setup()

from accounts.models import Invitation  # noqa: E402
from outbox.models import OutgoingEmail  # noqa: E402
from relationships.models import Note  # noqa: E402

INVITATION_TEMPLATE = "accounts/email/invitation.txt"


def _notes(tokens: set[str]) -> int:
    stored = {
        str(token)
        for token in Note.objects.filter(client_token__in=tokens).values_list(
            "client_token", flat=True
        )
    }
    missing = tokens - stored
    print(
        f"Acknowledged writes: {len(tokens)}; in the database: {len(stored)}; lost: {len(missing)}"
    )
    return len(missing)


def _invitations(addresses: set[str]) -> int:
    invited = set(Invitation.objects.filter(email__in=addresses).values_list("email", flat=True))
    emails = Counter(
        address
        for recipients in OutgoingEmail.objects.filter(template=INVITATION_TEMPLATE).values_list(
            "recipients", flat=True
        )
        for address in recipients
        if address in addresses
    )
    lost = {address for address in addresses if address not in invited or not emails[address]}
    doubled = {address for address, count in emails.items() if count > 1}
    print(
        f"Acknowledged invitations: {len(addresses)}; in the database: {len(invited)}; "
        f"with one email queued or sent: {sum(1 for a in addresses if emails[a] == 1)}; "
        f"lost: {len(lost)}; with more than one email: {len(doubled)}"
    )
    return len(lost) + len(doubled)


def main(paths: list[str]) -> int:
    lines = {line.strip() for path in paths for line in Path(path).read_text().splitlines()}
    lines.discard("")
    addresses = {line for line in lines if "@" in line}
    problems = _notes(lines - addresses)
    if addresses:
        problems += _invitations(addresses)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
