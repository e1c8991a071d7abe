"""A research export project: what to export and the secrets that pseudonymise it."""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harmonybridge import instruments
from harmonybridge.errors import DataValidationError

#: The smallest minimum cell size a project may use.
MIN_K = 5
#: Default epoch of the FHIR time shift: every engagement starts at this instant.
DEFAULT_EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
_MIN_KEY_BYTES = 16


class ResearchExportError(DataValidationError):
    """An export that cannot be made as asked; ``reason`` says which rule stopped it.

    Reasons: ``invalid_project``, ``invalid_data``, ``no_consented_clients``,
    ``instrument_without_data``, ``too_few_clients``, ``missing_dependency``. The message is written for
    the person who runs the export and names no client.
    """

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class ResearchProject:
    """What a research export contains and how it is pseudonymised.

    Attributes
    ----------
    id : str
        The project's identifier (letters, digits, ``-`` and ``_``).
    key : bytes
        The project's secret key (at least 16 bytes) for the keyed-hash
        pseudonyms; another key gives unlinkable pseudonyms.
    instruments : tuple of str
        Instrument ids to export.
    period : tuple of datetime.date
        First and last session date to include (inclusive).
    k : int
        Minimum cell size (>= 5): practitioners with fewer clients are pooled.
    epoch : datetime.datetime
        Time-zone-aware instant that every engagement's start is shifted to in
        the FHIR resources.
    title, purpose, consent_basis, citation : str
        Words for the README.
    """

    id: str
    key: bytes = field(repr=False)
    instruments: tuple[str, ...]
    period: tuple[dt.date, dt.date]
    k: int = MIN_K
    epoch: dt.datetime = DEFAULT_EPOCH
    title: str = ""
    purpose: str = ""
    consent_basis: str = (
        "Each client included had given research consent (their latest research "
        "consent record was 'given' when the export started)."
    )
    citation: str = ""

    def __post_init__(self) -> None:
        _check_project(self)


def _fail(message: str) -> ResearchExportError:
    return ResearchExportError("invalid_project", message)


def _check_project(p: ResearchProject) -> None:
    if (
        not isinstance(p.id, str)
        or not p.id
        or not all(c.isalnum() or c in "-_" for c in p.id)
    ):
        raise _fail(f"project id {p.id!r} must be letters, digits, '-' or '_'")
    if not isinstance(p.key, bytes) or len(p.key) < _MIN_KEY_BYTES:
        raise _fail(f"the project key must be at least {_MIN_KEY_BYTES} random bytes")
    if not p.instruments:
        raise _fail("the project names no instrument; choose at least one")
    for inst in p.instruments:
        if inst not in instruments.ids():
            raise _fail(
                f"unknown instrument {inst!r}; known: {', '.join(instruments.ids())}"
            )
    if isinstance(p.k, bool) or not isinstance(p.k, int) or p.k < MIN_K:
        raise _fail(f"minimum cell size k must be an integer >= {MIN_K}, got {p.k!r}")
    start, end = p.period
    if not isinstance(start, dt.date) or not isinstance(end, dt.date) or end < start:
        raise _fail(f"period must be two dates, first <= last; got {p.period!r}")
    if not isinstance(p.epoch, dt.datetime) or p.epoch.tzinfo is None:
        raise _fail("epoch must be a time-zone-aware datetime (e.g. 2000-01-01T00:00Z)")


def load_project(path: str | Path) -> ResearchProject:
    """Read a project from a TOML file.

    Keys: ``id``, ``instruments``, ``period_start``, ``period_end`` (dates),
    optional ``k``, ``epoch`` (a datetime with offset), ``title``, ``purpose``,
    ``consent_basis``, ``citation``, and ``key_file`` (a file holding the secret
    key as hex; relative to the TOML file).

    Raises
    ------
    ResearchExportError
        Naming the missing or wrong key.
    """
    path = Path(path)
    try:
        data: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise _fail(f"{path}: not valid TOML: {exc}") from exc
    for key in ("id", "instruments", "period_start", "period_end", "key_file"):
        if key not in data:
            raise _fail(f"{path}: key {key!r} is missing")
    key_path = path.parent / data["key_file"]
    try:
        secret = bytes.fromhex(key_path.read_text(encoding="ascii").strip())
    except (OSError, ValueError) as exc:
        raise _fail(f"{key_path}: cannot read the project key as hex ({exc})") from exc
    epoch = data.get("epoch", DEFAULT_EPOCH)
    return ResearchProject(
        id=data["id"], key=secret, instruments=tuple(data["instruments"]),
        period=(data["period_start"], data["period_end"]), k=data.get("k", MIN_K),
        epoch=epoch, title=data.get("title", ""), purpose=data.get("purpose", ""),
        citation=data.get("citation", ""),
        **({"consent_basis": data["consent_basis"]} if "consent_basis" in data else {}),
    )  # fmt: skip
