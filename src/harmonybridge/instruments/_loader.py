"""Load instrument definition files (TOML) and keep the registry of shipped instruments.

Every problem raises :class:`~harmonybridge.errors.DefinitionError` at load time,
naming the file, the field (dotted path) and what is wrong.
"""

from __future__ import annotations

import functools
import tomllib
from pathlib import Path

from harmonybridge.errors import DataValidationError, DefinitionError
from harmonybridge.instruments._model import Instrument
from harmonybridge.instruments._schema import build_instrument

__all__ = ["DEFINITIONS_DIR", "all_instruments", "build_instrument", "get", "ids",
           "load_definition", "load_directory"]  # fmt: skip

DEFINITIONS_DIR = Path(__file__).with_name("definitions")


def load_definition(path: str | Path) -> Instrument:
    """Read one TOML definition file and return the validated :class:`Instrument`."""
    path = Path(path)
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise DefinitionError(f"{path.name}: not valid TOML: {exc}") from exc
    inst = build_instrument(data, source=path.name)
    if inst.id != path.stem:
        raise DefinitionError(
            f"{path.name}: field 'id': {inst.id!r} must match the file name"
        )
    return inst


def load_directory(directory: str | Path) -> dict[str, Instrument]:
    """Load every ``*.toml`` definition in ``directory`` and check cross-references."""
    found = {p.stem: load_definition(p) for p in sorted(Path(directory).glob("*.toml"))}
    for inst in found.values():
        if inst.counterpart is not None and inst.counterpart not in found:
            raise DefinitionError(
                f"{inst.id}.toml: field 'counterpart': unknown instrument {inst.counterpart!r}"
            )
    return found


@functools.cache
def _registry() -> dict[str, Instrument]:
    return load_directory(DEFINITIONS_DIR)


def ids() -> tuple[str, ...]:
    """Return the ids of the shipped instruments, sorted."""
    return tuple(sorted(_registry()))


def all_instruments() -> tuple[Instrument, ...]:
    """Return every shipped instrument, sorted by id."""
    reg = _registry()
    return tuple(reg[i] for i in sorted(reg))


def short_title(instrument_id: str) -> str:
    """Return the short title practitioners know (PHQ-9, WHO-5), or the id itself.

    Stored data may name an instrument this version no longer ships; pages and
    messages then show its id rather than failing.
    """
    inst = find(instrument_id)
    return inst.short_title if inst is not None else str(instrument_id)


def find(instrument_id: object) -> Instrument | None:
    """Return the shipped instrument ``instrument_id``, or None when there is none.

    The one lookup for callers that go on without an unknown instrument (stored data
    may name one this version no longer ships); ``get`` raises instead.

    >>> find("phq9").short_title
    'PHQ-9'
    >>> find("no_such_instrument") is None
    True
    """
    if not isinstance(instrument_id, str):
        return None
    return _registry().get(instrument_id)


def get(instrument_id: str) -> Instrument:
    """Return the shipped instrument ``instrument_id``.

    Raises
    ------
    DataValidationError
        For an unknown id, listing the known ids.
    """
    reg = _registry()
    try:
        return reg[instrument_id]
    except (KeyError, TypeError):
        raise DataValidationError(
            f"unknown instrument {instrument_id!r}; known instruments: {', '.join(sorted(reg))}"
        ) from None
