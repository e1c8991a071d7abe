"""docs/security.md maps safeguards to tests: every test it names must exist."""

from __future__ import annotations

import ast
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
DOC = REPO / "docs" / "security.md"


def _named_tests() -> set[tuple[str, str]]:
    text = DOC.read_text(encoding="utf-8")
    return set(re.findall(r"`(tests/[\w/]+\.py)::(\w+)`", text))


def test_security_doc_names_tests():
    assert len(_named_tests()) >= 40


def test_every_named_test_exists():
    missing = []
    for path, name in sorted(_named_tests()):
        source = REPO / path
        if not source.exists():
            missing.append(f"{path} (no such file)")
            continue
        tree = ast.parse(source.read_text(encoding="utf-8"))
        functions = {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
        if name not in functions:
            missing.append(f"{path}::{name}")
    assert not missing, missing


def test_every_hipaa_technical_safeguard_has_a_row():
    text = DOC.read_text(encoding="utf-8")
    for spec in (
        "(a)(1)",
        "(a)(2)(i)",
        "(a)(2)(ii)",
        "(a)(2)(iii)",
        "(a)(2)(iv)",
        "(b)",
        "(c)(1)",
        "(c)(2)",
        "(d)",
        "(e)(1)",
    ):
        assert f"| {spec}" in text, spec


def test_benchmarks_named_exist():
    text = DOC.read_text(encoding="utf-8")
    for path in set(re.findall(r"`(benchmarks/[\w]+\.py)`", text)):
        assert (REPO / path).exists(), path
