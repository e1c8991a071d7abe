"""FHIR R4 NDJSON entries of the export, built in chunks by :mod:`harmonybridge.fhir`.

Times are shifted: every engagement starts at the project's epoch, and a
session on ``day`` d is authored at epoch + d days.
"""

from __future__ import annotations

import datetime as dt
import itertools
import zipfile
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np
import pandas as pd

from harmonybridge import schema
from harmonybridge.fhir import (
    observation_lines,
    patient_lines,
    questionnaire_response_lines,
)
from harmonybridge.research._prepare import DAY, Prepared
from harmonybridge.research._project import ResearchProject
from harmonybridge.research._tables import chunks

_AUTHOR = {
    "client": "Patient/",
    "practitioner": "Practitioner/",
    "observer": "Practitioner/",
}


def _times(days: pd.Series, epoch: dt.datetime) -> np.ndarray:
    codes, uniques = pd.factorize(days)
    text = np.array([(epoch + dt.timedelta(days=int(d))).isoformat() for d in uniques],
                    dtype=object)  # fmt: skip
    return text[codes]


def _authors(frame: pd.DataFrame) -> np.ndarray:
    role = frame[schema.RATER_ROLE].map(_AUTHOR).to_numpy(dtype=object)
    return role + frame[schema.RESPONDENT_ID].to_numpy(dtype=object)


class _Lines:
    """Write NDJSON chunks to a zip entry, compressing one chunk in a helper thread
    while the next is built (zlib releases the GIL; order is kept: one write at a time).
    """

    def __init__(self, zf: zipfile.ZipFile, name: str) -> None:
        self._fh = zf.open(name, "w", force_zip64=True)
        self._pool = ThreadPoolExecutor(max_workers=1)
        self._pending: Future[int] | None = None

    def write(self, lines: list[str]) -> None:
        if not lines:
            return
        data = ("\n".join(lines) + "\n").encode()
        if self._pending is not None:
            self._pending.result()
        self._pending = self._pool.submit(self._fh.write, data)

    def __enter__(self) -> _Lines:
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            if self._pending is not None:
                self._pending.result()
        finally:
            self._pool.shutdown()
            self._fh.close()


def _response_chunks(frame: pd.DataFrame, rows: int) -> list[tuple[int, int]]:
    """Chunks that never split a response (its rows are adjacent)."""
    if len(frame) == 0:
        return []
    starts = np.flatnonzero(np.r_[True, frame[schema.RESPONSE_ID].cat.codes.to_numpy()[1:]
                                  != frame[schema.RESPONSE_ID].cat.codes.to_numpy()[:-1]])  # fmt: skip
    cuts = [0]
    for start, _ in chunks(frame, rows)[1:]:
        cut = (
            int(starts[np.searchsorted(starts, start)])
            if start <= starts[-1]
            else len(frame)
        )
        if cut > cuts[-1]:
            cuts.append(cut)
    cuts.append(len(frame))
    return [(a, b) for a, b in itertools.pairwise(cuts) if b > a]


def write_fhir(zf: zipfile.ZipFile, prepared: Prepared, project: ResearchProject,
               rows: int) -> dict[str, int]:  # fmt: skip
    """Write ``fhir/Patient.ndjson``, ``QuestionnaireResponse`` and ``Observation``; return counts."""
    # a resource is ~10x the bytes of its CSV row and a chunk is held up to four
    # times (lines, joined, encoded, being compressed): smaller chunks here
    rows = max(1, rows // 5)
    counts = {}
    clients = pd.unique(pd.concat([prepared.items[schema.CLIENT_ID].astype(str),
                                   prepared.scores[schema.CLIENT_ID].astype(str)]))  # fmt: skip
    system = f"urn:harmonybridge:research:{project.id}:client"
    with _Lines(zf, "fhir/Patient.ndjson") as fh:
        lines = patient_lines(
            sorted(clients), identifier_system=system, pseudonymised=True
        )
        fh.write(lines)
        counts["Patient"] = len(lines)
    counts["QuestionnaireResponse"] = 0
    answers = prepared.items[schema.VALUE].notna()
    answered = prepared.items if answers.all() else prepared.items[answers]
    with _Lines(zf, "fhir/QuestionnaireResponse.ndjson") as fh:
        for start, stop in _response_chunks(answered, rows):
            part = answered.iloc[start:stop]
            frame = pd.DataFrame({
                "id": part[schema.RESPONSE_ID], "instrument": part[schema.INSTRUMENT],
                "item": part[schema.ITEM], "value": part[schema.VALUE],
                "subject": part[schema.CLIENT_ID], "author": _authors(part),
                "authored": _times(part[DAY], project.epoch),
            })  # fmt: skip
            lines = questionnaire_response_lines(frame)
            fh.write(lines)
            counts["QuestionnaireResponse"] += len(lines)
    counts["Observation"] = 0
    with _Lines(zf, "fhir/Observation.ndjson") as fh:
        for start, stop in chunks(prepared.scores, rows):
            part = prepared.scores.iloc[start:stop]
            response = part[schema.RESPONSE_ID].astype(object)
            suffix = part[schema.SUBSCALE].cat.rename_categories(
                lambda name: (name or "total").replace("_", "-")
            )
            present = response.notna().to_numpy()
            ids = np.array([f"row-{k}" for k in range(start, stop)], dtype=object)
            ids[present] = (response.to_numpy(dtype=object)[present] + "."
                            + suffix.to_numpy(dtype=object)[present])  # fmt: skip
            frame = pd.DataFrame({
                "id": ids, "subject": part[schema.CLIENT_ID],
                "performer": _authors(part), "instrument": part[schema.INSTRUMENT],
                "subscale": part[schema.SUBSCALE], "score": part[schema.SCORE],
                "effective": _times(part[DAY], project.epoch), "derived_from": response,
            })  # fmt: skip
            lines = observation_lines(frame)
            fh.write(lines)
            counts["Observation"] += len(lines)
    return counts
