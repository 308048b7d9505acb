"""The README and docs/ are what someone who clones Rapport reads first: every file they
point to is in the repository, and they are kept current with the code they name."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
# A path in a Markdown link, or a path with a folder in backticks (`config/env.py`).
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")
CODE_PATH = re.compile(r"`([\w.-]+/[\w./-]+\.(?:py|md|html|css|js|toml|yml))(?:::\w+)?`")


def _pointed_to(doc: Path) -> list[tuple[str, Path]]:
    text = doc.read_text()
    found = [
        (target, (doc.parent / target).resolve())
        for target in LINK.findall(text)
        if not target.startswith(("http://", "https://", "mailto:"))
    ]
    found += [(path, (ROOT / path).resolve()) for path in CODE_PATH.findall(text)]
    return found


def test_attack_the_readme_sends_a_new_reader_to_files_outside_the_repository():
    """The README pointed to ../shared/DESIGN.md and ../shared/STYLE.md, which nobody who
    clones Rapport has."""
    missing = [
        f"{doc.relative_to(ROOT)}: {target}"
        for doc in DOCS
        for target, path in _pointed_to(doc)
        if not path.is_relative_to(ROOT) or not path.exists()
    ]

    assert missing == []


def test_the_readme_links_the_projects_own_design_docs():
    readme = (ROOT / "README.md").read_text()

    for doc in ["architecture", "privacy-model", "threat-model", "conventions"]:
        assert f"(docs/{doc}.md)" in readme
        assert len((ROOT / "docs" / f"{doc}.md").read_text()) > 2000


def test_every_test_the_threat_model_names_exists():
    """A line of the threat model is only as good as its test: a renamed or deleted test
    must not leave a claim standing on nothing."""
    model = (ROOT / "docs" / "threat-model.md").read_text()
    named = set(re.findall(r"`(tests/[\w/]+\.py)::(\w+)`", model))
    assert len(named) > 50
    missing = [
        f"{path}::{name}"
        for path, name in sorted(named)
        if not re.search(rf"^def {name}\(", (ROOT / path).read_text(), re.MULTILINE)
    ]
    assert not missing, missing
