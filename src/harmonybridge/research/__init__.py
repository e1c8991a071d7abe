"""Pseudonymised research exports: one zip of tidy CSV/Parquet, SPSS, codebook and FHIR.

:func:`write_research_export` takes the canonical long frames of the clients
who gave research consent and a :class:`ResearchProject` (instruments, period,
minimum cell size k, secret key, FHIR epoch) and writes one zip, format by
format and chunk by chunk, renamed into place only when complete. Every id
becomes a keyed-hash pseudonym (HMAC-SHA-256 with the project's key), dates
become days from the engagement's start, only allow-listed columns leave,
practitioners with fewer than k clients are pooled as ``other``, and items
their definition marks private are never exported. Writing Parquet and SPSS
needs ``pyarrow`` and ``pyreadstat`` (the ``research`` extra).
"""

from __future__ import annotations

from harmonybridge.research._prepare import DAY, ITEM_COLUMNS, SCORE_COLUMNS
from harmonybridge.research._project import (
    DEFAULT_EPOCH,
    MIN_K,
    ResearchExportError,
    ResearchProject,
    load_project,
)
from harmonybridge.research._pseudonyms import POOLED, pseudonym
from harmonybridge.research._readme import CONTENTS
from harmonybridge.research._writer import ExportSummary, write_research_export

__all__ = [
    "CONTENTS",
    "DAY",
    "DEFAULT_EPOCH",
    "ITEM_COLUMNS",
    "MIN_K",
    "POOLED",
    "SCORE_COLUMNS",
    "ExportSummary",
    "ResearchExportError",
    "ResearchProject",
    "load_project",
    "pseudonym",
    "write_research_export",
]
