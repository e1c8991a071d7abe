"""Every citation in the repository can be followed (issue 11).

The project's references are in ``docs/references.md``; nothing may cite the design notes
that live outside this repository, and every document path a file cites must exist.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
#: Built from parts so that this file does not name them itself.
_OUTSIDE = ("psycho" + "metrics", "stack" + ".md", "contracts" + ".md")
#: A repository path: a top-level folder of the repository, then a file with an extension.
_PATH = re.compile(
    r"(?<![\w/.-])((?:docs|src|tests|benchmarks)/[\w./-]*\w\.(?:md|py|toml|csv|txt|json|html|css))"
)
_MD_NAME = re.compile(r"(?<![\w/.-])([A-Za-z][\w-]*\.md)\b")


def _tracked() -> list[Path]:
    out = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.decode()
    return [ROOT / p for p in out.split("\0") if p]


def _texts():
    """Text of every tracked file except the CHANGELOG (its history may name old paths)."""
    for path in _tracked():
        if path.name == "CHANGELOG.md" and path.parent == ROOT:
            continue
        if not path.is_file():
            continue
        try:
            yield path, path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue


def test_no_file_cites_the_outside_design_notes():
    bad = [
        f"{p.relative_to(ROOT)}: {word}"
        for p, text in _texts()
        for word in _OUTSIDE
        if word in text.lower()
    ]
    assert bad == []


def test_every_cited_document_path_exists():
    tracked = {p.relative_to(ROOT).as_posix() for p in _tracked()}
    names = {Path(p).name for p in tracked}
    missing = []
    for path, text in _texts():
        for cited in _PATH.findall(text):
            cited = cited.rstrip(".")
            if cited not in tracked and not (ROOT / cited).exists():
                missing.append(f"{path.relative_to(ROOT)} cites {cited}")
        for name in _MD_NAME.findall(text):
            if name not in names:
                missing.append(f"{path.relative_to(ROOT)} cites {name}")
    assert missing == []


def test_references_document_has_full_citations():
    text = (ROOT / "docs" / "references.md").read_text(encoding="utf-8")
    for needle in (
        "Jacobson, N. S., & Truax, P. (1991)",
        "https://doi.org/10.1037/0022-006X.59.1.12",
        "Tang, T. Z., & DeRubeis, R. J. (1999)",
        "Falkenström, F., Hatcher, R. L.",
        "NHS Talking Therapies",
        "Stiles, W. B.",
        "Strauss, J. L.",
    ):
        assert needle in text
