"""Write one research export zip: every format, chunk by chunk, atomically."""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import os
import tempfile
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from harmonybridge.research._codebook import data_dictionary, datapackage
from harmonybridge.research._fhir import write_fhir
from harmonybridge.research._prepare import prepare
from harmonybridge.research._project import ResearchExportError, ResearchProject
from harmonybridge.research._readme import log_lines, readme
from harmonybridge.research._tables import write_tables
from harmonybridge.research._wide import variables, wide_frame, write_sav

#: Rows handed to a writer at a time.
CHUNK_ROWS = 250_000


class _Steps:
    """Report the export's steps to an optional progress callback."""

    NAMES = ("prepare", "tables", "spss", "codebook", "fhir", "readme")

    def __init__(self, callback: Callable[[str, int, int], None] | None) -> None:
        self.callback = callback

    def __call__(self, name: str) -> None:
        if self.callback is not None:
            total = len(self.NAMES)
            done = total if name == "done" else self.NAMES.index(name)
            self.callback(name, done, total)


@dataclass(frozen=True)
class ExportSummary:
    """What an export wrote: its path, the files in the zip and the counts."""

    path: Path
    files: tuple[str, ...]
    counts: Mapping[str, int]
    left_out: Mapping[str, int]


def write_research_export(
    items: pd.DataFrame,
    scores: pd.DataFrame,
    project: ResearchProject,
    out: str | Path,
    *,
    left_out: Mapping[str, int] | None = None,
    engagement_starts: Mapping[object, object] | pd.Series | None = None,
    created: dt.datetime | None = None,
    chunk_rows: int = CHUNK_ROWS,
    progress: Callable[[str, int, int], None] | None = None,
) -> ExportSummary:
    """Write a pseudonymised research export of the consented clients' data as one zip.

    The zip holds long tidy CSV and Parquet (items and scores), a wide SPSS
    ``.sav`` with labels, a REDCap-style data dictionary, a Frictionless
    ``datapackage.json``, FHIR R4 NDJSON (Patient, QuestionnaireResponse,
    Observation) and a README; see ``docs/research-export.md``.

    Parameters
    ----------
    items, scores : pandas.DataFrame
        Canonical long frames (item level with ``response_id``, ``item``,
        ``value``; score level with ``subscale``, ``score``), both with
        ``date``, of the clients whose research consent was given; the caller
        filters consent. Columns other than the canonical ones are never
        exported.
    project : ResearchProject
        Instruments, period, k, secret key and FHIR epoch.
    out : str or Path
        The zip to write. It appears only when complete (written to a
        temporary file beside it, then renamed); on any error nothing is left.
    left_out : mapping of str to int, optional
        Clients the caller left out, by reason (e.g. ``{"no research consent": 3}``);
        recorded in the README and log as counts.
    engagement_starts : mapping or Series, optional
        Engagement id -> start date; by default the earliest session date of
        the engagement in ``items`` and ``scores``.
    created : datetime, optional
        Creation time written into the README (default: now, UTC).
    chunk_rows : int
        Rows written at a time (bounds the memory each writer adds).
    progress : callable, optional
        Called as ``progress(step, done, total)`` before each of the steps
        (``prepare``, ``tables``, ``spss``, ``codebook``, ``fhir``, ``readme``)
        and once with ``("done", total, total)``; a task worker can show it.

    Returns
    -------
    ExportSummary

    Raises
    ------
    ResearchExportError
        ``reason`` ``no_consented_clients``, ``instrument_without_data``,
        ``too_few_clients``, ``invalid_data``, ``invalid_project`` or
        ``missing_dependency``, with a message that names no client.
    """
    for module in ("pyarrow", "pyreadstat"):
        if importlib.util.find_spec(module) is None:
            raise ResearchExportError(
                "missing_dependency",
                f"the research export needs {module}: pip install 'harmonybridge[research]'",
            )
    if not isinstance(project, ResearchProject):
        raise ResearchExportError(
            "invalid_project", "project must be a ResearchProject"
        )
    out = Path(out)
    step = _Steps(progress)
    step("prepare")
    stamp = (created or dt.datetime.now(dt.UTC)).replace(microsecond=0).isoformat()
    prepared = prepare(items, scores, project, engagement_starts=engagement_starts)
    caller = dict(left_out or {})
    wide_vars = variables(prepared.instruments)
    fd, tmp_name = tempfile.mkstemp(
        prefix=f".{out.name}.", suffix=".part", dir=out.parent
    )
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
            with tempfile.TemporaryDirectory(
                dir=out.parent, prefix=f".{out.name}."
            ) as tmpdir:
                work = Path(tmpdir)
                step("tables")
                write_tables(zf, "items", prepared.items, chunk_rows, work)
                write_tables(zf, "scores", prepared.scores, chunk_rows, work)
                step("spss")
                sav = work / "wide.sav"
                write_sav(str(sav), wide_frame(prepared, wide_vars), wide_vars,
                          f"HarmonyBridge {project.id}")  # fmt: skip
                zf.write(sav, "wide.sav")
            step("codebook")
            dictionary = data_dictionary(prepared.instruments, wide_vars)
            zf.writestr("data_dictionary.csv", dictionary)
            package = datapackage(project, prepared, stamp)
            zf.writestr(
                "datapackage.json", json.dumps(package, indent=2, ensure_ascii=False)
            )
            step("fhir")
            fhir_counts = write_fhir(zf, prepared, project, chunk_rows)
            step("readme")
            log = log_lines(prepared, caller, fhir_counts)
            zf.writestr("export-log.txt", "\n".join(log) + "\n")
            zf.writestr("README.md", readme(project, prepared, log, stamp))
            files = tuple(zf.namelist())
        os.replace(tmp, out)
        step("done")
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    counts = dict(prepared.counts) | {f"FHIR {k}": v for k, v in fhir_counts.items()}
    return ExportSummary(out, files, counts, caller | dict(prepared.left_out))
