"""Bulk builders: many FHIR R4 resources from one long frame, as NDJSON lines.

Each builder takes a frame whose columns already hold FHIR-ready values (ids,
references, dateTimes) and returns one compact JSON document per resource. The
JSON is assembled from templates: the codes, displays and answer codings come
from the instrument definitions through :mod:`harmonybridge.reports.fhir` (one
source for every FHIR code), and the per-row values are checked against the FHIR
``id`` and ``dateTime`` patterns once per distinct value, so that nothing needs
escaping and a million resources take seconds, not minutes. The output validates
with the ``fhir.resources`` R4B models (``tests/core/test_fhir_bulk.py``).
"""

from __future__ import annotations

import json
import re
from typing import Any

import numpy as np
import pandas as pd

from harmonybridge import instruments
from harmonybridge.errors import DataValidationError
from harmonybridge.instruments import Instrument
from harmonybridge.reports.fhir import _answer_coding, questionnaire_url, score_coding

__all__ = [
    "OBSERVATION_CATEGORY",
    "PSEUDONYMISED",
    "observation_lines",
    "patient_lines",
    "questionnaire_response_lines",
]

#: Observation.category for questionnaire-derived scores (HL7 observation-category).
OBSERVATION_CATEGORY = {
    "coding": [
        {
            "system": "http://terminology.hl7.org/CodeSystem/observation-category",
            "code": "survey",
            "display": "Survey",
        }
    ]
}
#: The HL7 security label "pseudonymised" (v3 ObservationValue PSEUDED).
PSEUDONYMISED = {
    "system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue",
    "code": "PSEUDED",
    "display": "pseudonymized",
}
_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")
_REFERENCE = re.compile(r"(Patient|Practitioner|RelatedPerson)/[A-Za-z0-9\-.]{1,64}")
_DATETIME = re.compile(
    r"\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2}))?"
)


def _dumps(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def _checked(
    frame: pd.DataFrame, column: str, pattern: re.Pattern[str], what: str
) -> np.ndarray:
    """Return the column as an object array after checking each distinct value."""
    if column not in frame.columns:
        raise DataValidationError(f"the frame has no column {column!r} ({what})")
    values = frame[column]
    if isinstance(values.dtype, pd.CategoricalDtype):  # check each category used once
        used = np.unique(values.cat.codes.to_numpy())
        distinct: list[object] = [None] if len(used) and used[0] < 0 else []
        distinct += list(values.cat.categories[used[used >= 0]])
    else:
        distinct = list(pd.unique(values))
    if not _all_match(distinct, pattern):
        for value in distinct:
            if not isinstance(value, str) or not pattern.fullmatch(value):
                raise DataValidationError(
                    f"column {column!r}: {value!r} is not a valid {what}"
                )
    return values.to_numpy(dtype=object)


def _all_match(values: list[object], pattern: re.Pattern[str]) -> bool:
    """Whether every value is a string matching ``pattern`` (the fast path)."""
    try:
        return all(map(pattern.fullmatch, values))  # type: ignore[arg-type]
    except TypeError:  # a value that is not a string
        return False


def _instrument(instrument_id: object) -> Instrument:
    if not isinstance(instrument_id, str) or instrument_id not in instruments.ids():
        raise DataValidationError(
            f"column 'instrument': unknown instrument {instrument_id!r}; "
            f"known: {', '.join(instruments.ids())}"
        )
    return instruments.get(instrument_id)


def patient_lines(ids: pd.Series | list[str], *, identifier_system: str | None = None,
                  pseudonymised: bool = False) -> list[str]:  # fmt: skip
    """Return one FHIR ``Patient`` JSON line per id (a pseudonymous Patient).

    Parameters
    ----------
    ids : Series or list of str
        Patient ids (FHIR ``id`` pattern ``[A-Za-z0-9-.]{1,64}``).
    identifier_system : str, optional
        When given, each Patient carries ``identifier = [{system, value: id}]``.
    pseudonymised : bool
        Tag each Patient with the HL7 security label ``PSEUDED``.

    Returns
    -------
    list of str
        Compact JSON documents, one per id.
    """
    frame = pd.DataFrame({"id": pd.Series(ids, dtype=object)})
    checked = _checked(frame, "id", _ID, "FHIR id")
    meta = f',"meta":{{"security":[{_dumps(PSEUDONYMISED)}]}}' if pseudonymised else ""
    system = _dumps(identifier_system) if identifier_system else None
    lines = []
    for pid in checked:
        ident = (
            f',"identifier":[{{"system":{system},"value":"{pid}"}}]' if system else ""
        )
        lines.append(f'{{"resourceType":"Patient","id":"{pid}"{meta}{ident}}}')
    return lines


def observation_lines(scores: pd.DataFrame) -> list[str]:
    """Return one FHIR ``Observation`` JSON line per score row.

    Parameters
    ----------
    scores : pandas.DataFrame
        Columns ``id`` (Observation id), ``subject`` (Patient id), ``performer``
        (a reference such as ``Patient/x`` or ``Practitioner/y``), ``instrument``,
        ``subscale`` (``""`` for the total), ``score`` (a number, never missing)
        and ``effective`` (a FHIR dateTime); optional ``derived_from`` (the id of
        the QuestionnaireResponse the score was computed from; missing for none).

    Returns
    -------
    list of str
        Compact JSON documents. The code is LOINC where the instrument's total
        has one (PHQ-9 44261-6, GAD-7 70274-6), with the local code
        ``urn:harmonybridge:item`` ``<instrument>.<subscale|total>`` beside it;
        other scores carry the local code only. The value is a
        ``valueQuantity`` in the UCUM unit ``{score}``.

    Raises
    ------
    DataValidationError
        For a missing column, an invalid id, reference or dateTime, an unknown
        instrument or a missing score.
    """
    ids = _checked(scores, "id", _ID, "FHIR id")
    subjects = _checked(scores, "subject", _ID, "FHIR id")
    performers = _checked(scores, "performer", _REFERENCE, "FHIR reference")
    effective = _checked(scores, "effective", _DATETIME, "FHIR dateTime")
    value = pd.to_numeric(scores["score"], errors="coerce")
    if value.isna().any():
        raise DataValidationError(
            "column 'score': every Observation needs a number; drop missing scores first"
        )
    numbers = value.astype(float).astype(str).to_numpy()
    codes = _heads(scores["instrument"], scores["subscale"])
    derived = np.full(len(scores), "", dtype=object)
    if "derived_from" in scores.columns:
        present = scores["derived_from"].notna().to_numpy()
        refs = _checked(scores[present], "derived_from", _ID, "FHIR id")
        derived[present] = [
            f',"derivedFrom":[{{"reference":"QuestionnaireResponse/{r}"}}]'
            for r in refs
        ]
    unit = '"unit":"{score}","system":"http://unitsofmeasure.org","code":"{score}"'
    return [
        f'{{"resourceType":"Observation","id":"{i}","status":"final",{code},'
        f'"subject":{{"reference":"Patient/{s}"}},"effectiveDateTime":"{e}",'
        f'"performer":[{{"reference":"{p}"}}],"valueQuantity":{{"value":{n},{unit}}}{d}}}'
        for i, code, s, e, p, n, d in zip(
            ids,
            codes,
            subjects,
            effective,
            performers,
            numbers,
            derived,
            strict=True,
        )
    ]


def _heads(instrument: pd.Series, subscale: pd.Series) -> np.ndarray:
    """The code part of each Observation, built once per (instrument, subscale)."""
    inst = instrument.astype("category")
    sub = subscale.astype(object).fillna("").astype("category")
    width = len(sub.cat.categories) + 1
    pairs = inst.cat.codes.to_numpy(np.int64) * width + sub.cat.codes.to_numpy(np.int64)
    uniq, inverse = np.unique(pairs, return_inverse=True)
    heads = [
        _observation_head(
            inst.cat.categories[u // width], str(sub.cat.categories[u % width])
        )
        for u in uniq
    ]
    return np.array(heads, dtype=object)[inverse]


def _observation_head(instrument_id: object, subscale: str) -> str:
    inst = _instrument(instrument_id)
    known = ("", *inst.subscales, *inst.derived_items)
    if subscale not in known:
        raise DataValidationError(
            f"column 'subscale': instrument {inst.id!r} has no score {subscale!r}; "
            f"scores: {', '.join(s or '(total)' for s in known)}"
        )
    coding = [score_coding(inst, subscale)]
    local = {
        "system": "urn:harmonybridge:item",
        "code": f"{inst.id}.{subscale or 'total'}",
    }
    if coding[0] != local:
        coding.append(local)
    title = inst.short_title + (f" {subscale}" if subscale else " total")
    category = _dumps([OBSERVATION_CATEGORY])
    return f'"category":{category},"code":{_dumps({"coding": coding, "text": title})}'


def questionnaire_response_lines(items: pd.DataFrame) -> list[str]:
    """Return one FHIR ``QuestionnaireResponse`` JSON line per response.

    Parameters
    ----------
    items : pandas.DataFrame
        Item-level rows, one per answer: ``id`` (the QuestionnaireResponse id),
        ``instrument``, ``item``, ``value``, ``subject`` (Patient id), ``author``
        (a reference such as ``Patient/x`` or ``Practitioner/y``) and
        ``authored`` (a FHIR dateTime); the last three are read from each
        response's first row.

    Returns
    -------
    list of str
        Compact JSON documents in the order the responses first appear. Each
        answer is coded as in :func:`harmonybridge.reports.fhir.questionnaire`;
        ``status`` is ``completed`` when every enabled required item is answered
        and ``stopped`` otherwise. Scores are not included (they are
        Observations).

    Raises
    ------
    DataValidationError
        For an unknown instrument or item, a value outside the item's scale, a
        response that mixes instruments, or an invalid id, reference or dateTime.
    """
    ids = _checked(items, "id", _ID, "FHIR id")
    _checked(items, "subject", _ID, "FHIR id")
    _checked(items, "author", _REFERENCE, "FHIR reference")
    _checked(items, "authored", _DATETIME, "FHIR dateTime")
    codes, uniques = pd.factorize(ids)
    frame = items
    if len(codes) > 1 and np.any(np.diff(codes) < 0):  # group each response's rows
        order = np.argsort(codes, kind="stable")
        frame, codes = items.iloc[order], codes[order]
    inst_codes, inst_ids = pd.factorize(frame["instrument"])
    lines: list[str] = [""] * len(uniques)
    for k_inst, instrument_id in enumerate(inst_ids):
        inst = _instrument(instrument_id)
        rows = np.flatnonzero(inst_codes == k_inst)
        for k, line in zip(*_responses_of(inst, frame, rows, codes[rows]), strict=True):
            if lines[k]:
                raise DataValidationError(
                    f"response {uniques[k]!r} mixes instruments; one response is one "
                    "questionnaire"
                )
            lines[k] = line
    return lines


def _answer_strings(inst: Instrument) -> dict[tuple[int, int], str]:
    language = inst.languages[0]
    out = {}
    for it in inst.items:
        for value in inst.scales[it.scale].values:
            coding = _answer_coding(inst, it.scale, value, language)
            coding.pop("extension")
            out[(it.number, value)] = _dumps(
                {"linkId": str(it.number), "answer": [{"valueCoding": coding}]}
            )
    return out


def _responses_of(
    inst: Instrument, frame: pd.DataFrame, rows: np.ndarray, codes: np.ndarray
) -> tuple[list[int], list[str]]:
    """Build the responses of one instrument from ``frame``'s ``rows``."""

    def column(name: str) -> np.ndarray:
        series = pd.to_numeric(frame[name].iloc[rows], errors="coerce")
        return series.to_numpy(dtype=float, na_value=np.nan)

    item, value = column("item"), column("value")
    order = np.lexsort((item, codes))
    item, value, codes, rows = item[order], value[order], codes[order], rows[order]
    keep = ~np.isnan(value)
    if np.any(np.isnan(item)) or np.any(value[keep] % 1 != 0):
        raise DataValidationError(
            f"instrument {inst.id!r}: items and answers must be whole numbers"
        )
    answers = _answer_strings(inst)
    # one integer per (item, answer): item * 10^6 + answer + 5 * 10^5 (|answer| < 5 * 10^5)
    pair = (
        item[keep].astype(np.int64) * 10**6 + value[keep].astype(np.int64) + 5 * 10**5
    )
    distinct, inverse = np.unique(pair, return_inverse=True)
    known = [(int(p // 10**6), int(p % 10**6) - 5 * 10**5) for p in distinct]
    bad = [p for p in known if p not in answers]
    if bad:
        raise DataValidationError(
            f"instrument {inst.id!r}: item {bad[0][0]} has no answer {bad[0][1]}; items "
            f"are {', '.join(map(str, inst.item_numbers))} with the values of their scales"
        )
    strings = np.array([answers[p] for p in known], dtype=object)[inverse]
    kept_codes = codes[keep]
    uniq, first = np.unique(codes, return_index=True)
    status = _statuses(inst, item[keep].astype(int), value[keep], kept_codes, uniq)
    bounds = np.searchsorted(kept_codes, uniq, side="left")
    ends = np.searchsorted(kept_codes, uniq, side="right")
    head = f'"questionnaire":"{questionnaire_url(inst)}|{inst.version}","status":"'
    at = rows[first]
    resp_ids, subject, author, authored = (
        frame[name].iloc[at].to_numpy(dtype=object)
        for name in ("id", "subject", "author", "authored")
    )
    lines = [
        f'{{"resourceType":"QuestionnaireResponse","id":"{rid}",{head}{st}",'
        f'"subject":{{"reference":"Patient/{s}"}},"authored":"{a}",'
        f'"author":{{"reference":"{au}"}}{_item_list(strings[b:e])}}}'
        for rid, st, s, a, au, b, e in zip(
            resp_ids, status, subject, authored, author, bounds, ends, strict=True
        )
    ]
    return [int(u) for u in uniq], lines


def _item_list(answers: np.ndarray) -> str:
    return f',"item":[{",".join(answers)}]' if len(answers) else ""


def _statuses(
    inst: Instrument,
    item: np.ndarray,
    value: np.ndarray,
    codes: np.ndarray,
    uniq: np.ndarray,
) -> np.ndarray:
    """``completed`` where every enabled required item is answered, else ``stopped``."""
    position = np.searchsorted(uniq, codes)
    wide = np.full((len(uniq), max(inst.item_numbers) + 1), np.nan)
    wide[position, item] = value
    incomplete = np.zeros(len(uniq), dtype=bool)
    for it in inst.items:
        if not it.required:
            continue
        enabled = np.ones(len(uniq), dtype=bool)
        if it.condition is not None:
            enabled = wide[:, it.condition[0]] == it.condition[1]
        incomplete |= enabled & np.isnan(wide[:, it.number])
    return np.where(incomplete, "stopped", "completed")
