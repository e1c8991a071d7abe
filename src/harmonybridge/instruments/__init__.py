"""The instrument registry: definitions, exact scoring, licensed wording.

Definitions are data (``definitions/<id>.toml``), validated at load against the
definition schema; ``get(id)`` returns the frozen :class:`Instrument`.
"""

from __future__ import annotations

from harmonybridge.instruments._frame import score_frame
from harmonybridge.instruments._loader import (
    all_instruments,
    build_instrument,
    get,
    ids,
    load_definition,
    load_directory,
)
from harmonybridge.instruments._model import (
    Band,
    Code,
    Cutoff,
    Instrument,
    Item,
    Licence,
    Norm,
    ResponseScale,
    SafetyRule,
    ScoreResult,
    ScoreRule,
)
from harmonybridge.instruments._scoring import score_answers
from harmonybridge.instruments._wording import Wording, load_wording

__all__ = [
    "Band",
    "Code",
    "Cutoff",
    "Instrument",
    "Item",
    "Licence",
    "Norm",
    "ResponseScale",
    "SafetyRule",
    "ScoreResult",
    "ScoreRule",
    "Wording",
    "all_instruments",
    "build_instrument",
    "get",
    "ids",
    "load_definition",
    "load_directory",
    "load_wording",
    "score_answers",
    "score_frame",
]
