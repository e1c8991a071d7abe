"""The web apps stand in layers (docs/decisions/0011-web-apps-in-layers.md).

The import contracts live in pyproject.toml ([tool.importlinter]) and run here through
import-linter, so a new upward import fails the suite. Templates and template-tag
libraries are checked the same way by reading them: a lower app's code or template must
not render, include, extend or load a higher app's.
"""

from __future__ import annotations

import logging
import re
import sys
import tomllib
from pathlib import Path

import pytest
from django.apps import apps
from importlinter import cli

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "src" / "harmonybridge" / "web"


def _contracts() -> list[dict]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return config["tool"]["importlinter"]["contracts"]


def _lint_imports(**kwargs) -> int:
    """import-linter's command, leaving the process's logging as it found it.

    Its CLI calls ``logging.config.dictConfig`` without ``disable_existing_loggers: False``,
    which silently disables every logger that exists (``django.request`` among them): a
    later test in the same worker then captured no log line at all.
    """
    loggers = [logging.getLogger()] + [
        lg
        for lg in logging.root.manager.loggerDict.values()
        if isinstance(lg, logging.Logger)
    ]
    saved = [
        (lg, lg.disabled, lg.level, list(lg.handlers), lg.propagate) for lg in loggers
    ]
    try:
        return cli.lint_imports(**kwargs)
    finally:
        for lg, disabled, level, handlers, propagate in saved:
            lg.disabled, lg.propagate = disabled, propagate
            lg.setLevel(level)
            lg.handlers[:] = handlers


def _layer_of() -> dict[str, int]:
    """App label -> layer index (0 = top)."""
    (layers,) = (c["layers"] for c in _contracts() if c["id"] == "web-layers")
    out = {}
    for index, layer in enumerate(layers):
        for module in layer.split("|"):
            out[module.strip().rsplit(".", 1)[1]] = index
    return out


def test_import_contracts_are_kept():
    """import-linter over the whole package: imports only downward, commands never
    import a view module."""
    sys.path.insert(0, str(ROOT / "src"))
    code = _lint_imports(
        config_filename=str(ROOT / "pyproject.toml"), no_cache=True, no_logo=True
    )
    assert code == 0, "an import breaks the layer order: run `.venv/bin/lint-imports`"


def test_every_web_app_has_a_layer():
    """A new app must be placed in the layer order before it can land."""
    ours = {
        a.label
        for a in apps.get_app_configs()
        if a.name.startswith("harmonybridge.web.")
    }
    assert ours == set(_layer_of())


def test_the_contract_catches_an_upward_import(tmp_path, monkeypatch):
    """The same contract type fails on a made-up package whose lower layer imports up."""
    pkg = tmp_path / "layered"
    for name, body in {
        "__init__": "",
        "low": "from layered import high\n",
        "high": "",
    }.items():
        (pkg / f"{name}.py").parent.mkdir(exist_ok=True)
        (pkg / f"{name}.py").write_text(body)
    config = tmp_path / "contracts.toml"
    config.write_text(
        '[tool.importlinter]\nroot_package = "layered"\n'
        '[[tool.importlinter.contracts]]\nname = "layers"\ntype = "layers"\n'
        'layers = ["layered.high", "layered.low"]\n'
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    assert _lint_imports(config_filename=str(config), no_cache=True) == 1


_TEMPLATE_NAME = re.compile(r"""["']([a-z_]+)/[\w/.-]+\.html["']""")
_LOAD = re.compile(r"{%\s*load\s+([^%]+)%}")


def _tag_libraries() -> dict[str, str]:
    """Template-tag library name -> the app that defines it."""
    return {
        p.stem: p.parent.parent.name
        for p in WEB.glob("*/templatetags/*.py")
        if p.stem != "__init__"
    }


def _references(path: Path) -> set[str]:
    """App labels whose templates or tag libraries this file names."""
    text = path.read_text(encoding="utf-8")
    found = set(_TEMPLATE_NAME.findall(text))
    if path.suffix == ".html":
        libraries = _tag_libraries()
        for names in _LOAD.findall(text):
            found |= {libraries[n] for n in names.split() if n in libraries}
    return found


@pytest.mark.parametrize("app", sorted(_layer_of()))
def test_templates_follow_the_layers(app):
    """The alerts workflow renders no insights template, a practice page loads no
    alerts tag library, and so on for every app."""
    layer = _layer_of()
    files = [p for p in (WEB / app).rglob("*") if p.suffix in (".py", ".html")]
    upward = {
        f"{p.relative_to(WEB)} -> {other}"
        for p in files
        if "migrations" not in p.parts
        for other in _references(p)
        if other in layer and layer[other] < layer[app]
    }
    assert not upward, sorted(upward)


def test_no_upward_import_is_excused():
    """The layer contract lists no exception: the audit log learns an engagement's
    clients from the practice app at start-up instead of importing it."""
    (contract,) = (c for c in _contracts() if c["id"] == "web-layers")
    assert contract.get("ignore_imports", []) == []


def test_the_audit_log_names_an_engagements_clients(db):
    """The practice app provides the lookup the audit log uses for engagement pages."""
    from harmonybridge.web.audit.recording import clients_shown
    from tests.web.factories import make_client, make_engagement, make_practitioner

    practitioner = make_practitioner()
    pair = [make_client(practitioner), make_client(practitioner)]
    engagement = make_engagement(practitioner, clients=pair)
    assert clients_shown(engagement) == sorted(c.code for c in pair)


def test_running_the_contracts_leaves_logging_alone(tmp_path):
    """The log-capture tests (security/test_canaries.py) failed when they ran after this
    module in the same worker: the contract check had disabled ``django.request``."""
    request_log = logging.getLogger("django.request")
    assert not request_log.disabled
    config = tmp_path / "contracts.toml"
    config.write_text('[tool.importlinter]\nroot_package = "harmonybridge"\n')
    _lint_imports(config_filename=str(config), no_cache=True)
    assert not request_log.disabled
