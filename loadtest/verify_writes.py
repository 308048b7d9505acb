"""Check that every write the load or fault test got a success for is in the database.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/rapport_load \\
        uv run python loadtest/verify_writes.py loadtest/acknowledged-*.txt
"""

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

import django  # noqa: E402

django.setup()

from relationships.models import Note  # noqa: E402


def main(paths: list[str]) -> int:
    tokens = {line.strip() for path in paths for line in Path(path).read_text().splitlines()}
    tokens.discard("")
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
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
