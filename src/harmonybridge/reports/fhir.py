"""FHIR R4 export of instruments (Questionnaire) and scored answers (QuestionnaireResponse).

Resources are built as plain dicts, validated through the ``fhir.resources`` R4B
models (whose JSON is R4-compatible for these two resources) and returned as
JSON-ready dicts. The library does not check a response against its
questionnaire, so :func:`validate_response` does (status, linkIds, answer codes,
required and conditional items).

Conventions (FHIR R4B, ``fhir.resources``): Questionnaire ``id`` = instrument id with ``_`` ->
``-``; ``linkId`` = item number (scores use ``total`` and the subscale name);
LOINC codes for PHQ-9 and GAD-7, otherwise the local systems
``urn:harmonybridge:instrument`` (instrument and its answer scales, as
``urn:harmonybridge:instrument:<id>:<scale>``) and ``urn:harmonybridge:item``.
A licence class C instrument without the practice's wording exports as a
structure-only ``draft`` Questionnaire: no item text and numeric answer labels.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Any

from fhir.resources.R4B.questionnaire import Questionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse
from pydantic import ValidationError

from harmonybridge.errors import DataValidationError
from harmonybridge.instruments import Instrument, ScoreResult
from harmonybridge.instruments._scoring import clean_answers

__all__ = [
    "INSTRUMENT_SYSTEM",
    "ITEM_SYSTEM",
    "RESPONSE_STATUSES",
    "answers_from_response",
    "check_response",
    "questionnaire",
    "questionnaire_response",
    "questionnaire_url",
    "score_coding",
    "validate_response",
]

INSTRUMENT_SYSTEM = "urn:harmonybridge:instrument"
ITEM_SYSTEM = "urn:harmonybridge:item"
LOINC = "http://loinc.org"
ORDINAL_VALUE = "http://hl7.org/fhir/StructureDefinition/ordinalValue"
#: QuestionnaireResponse.status value set (FHIR R4).
RESPONSE_STATUSES = (
    "in-progress",
    "completed",
    "amended",
    "entered-in-error",
    "stopped",
)


def fhir_id(inst: Instrument) -> str:
    """Return the FHIR resource id of an instrument (``wai_sr`` -> ``wai-sr``)."""
    return inst.id.replace("_", "-")


def questionnaire_url(inst: Instrument) -> str:
    """Return the canonical URL of the instrument's Questionnaire."""
    return f"{INSTRUMENT_SYSTEM}:{inst.id}"


def _answer_coding(inst: Instrument, scale_id: str, value: int, language: str) -> dict:
    scale = inst.scales[scale_id]
    k = value - scale.min
    label = dict(scale.option_labels(language)).get(value, str(value))
    code = scale.codes[k] if scale.codes else None
    coding: dict[str, Any]
    if code is not None:
        coding = {"system": code.system, "code": code.code, "display": label}
    else:
        coding = {
            "system": f"{INSTRUMENT_SYSTEM}:{inst.id}:{scale_id}",
            "code": str(value),
        }
        coding["display"] = label
    coding["extension"] = [{"url": ORDINAL_VALUE, "valueDecimal": value}]
    return coding


def _item_code(inst: Instrument, number: int) -> dict:
    it = inst.item(number)
    if it.loinc is not None:
        return {"system": it.loinc.system, "code": it.loinc.code}
    return {"system": ITEM_SYSTEM, "code": f"{inst.id}.{number}"}


def _question(inst: Instrument, number: int, language: str) -> dict:
    it = inst.item(number)
    entry: dict[str, Any] = {"linkId": str(number), "code": [_item_code(inst, number)]}
    text = it.text.get(language) or it.free_text_label
    if text and inst.has_wording:
        entry["text"] = text
    entry["type"] = "choice"
    entry["required"] = it.required
    if it.condition is not None:
        ref, value = it.condition
        ref_scale = inst.item(ref).scale
        coding = _answer_coding(inst, ref_scale, value, language)
        coding.pop("extension")
        coding.pop("display")
        entry["enableWhen"] = [
            {"question": str(ref), "operator": "=", "answerCoding": coding}
        ]
    entry["answerOption"] = [
        {"valueCoding": _answer_coding(inst, it.scale, v, language)}
        for v in inst.scales[it.scale].values
    ]
    return entry


def score_coding(inst: Instrument, subscale: str = "") -> dict:
    """Return the coding of a score: LOINC for a total that has one, else a local code.

    ``subscale`` is ``""`` for the total; otherwise a subscale or derived score
    name, coded ``<instrument>.<name>`` in ``urn:harmonybridge:item``.
    """
    if not subscale and inst.loinc_total is not None:
        return {"system": inst.loinc_total.system, "code": inst.loinc_total.code}
    return {"system": ITEM_SYSTEM, "code": f"{inst.id}.{subscale or 'total'}"}


def _score_items(inst: Instrument) -> list[dict]:
    items = []
    if inst.total.method != "none":
        items.append({"linkId": "total", "code": [score_coding(inst)], "text": "Total score",
                      "type": "decimal", "required": False, "readOnly": True})  # fmt: skip
    for name in inst.subscales:
        items.append({
            "linkId": name, "code": [score_coding(inst, name)],
            "text": f"Subscale score: {name}", "type": "decimal", "required": False,
            "readOnly": True,
        })  # fmt: skip
    return items


def _validated(model: Any, data: dict) -> dict:
    try:
        obj = model.model_validate(data)
    except (
        ValidationError
    ) as exc:  # pragma: no cover - our own builders emit valid data
        first = exc.errors()[0]
        where = ".".join(map(str, first["loc"]))
        raise DataValidationError(
            f"{data['resourceType']} does not validate: {where}: {first['msg']}"
        ) from exc
    return json.loads(obj.model_dump_json(exclude_none=True))


def questionnaire(inst: Instrument, language: str = "en") -> dict:
    """Return the instrument as a FHIR R4 ``Questionnaire`` (JSON-ready dict).

    Parameters
    ----------
    inst : Instrument
        The instrument (with wording applied for class C, otherwise a
        structure-only ``draft`` Questionnaire without item text is returned).
    language : str
        Language of item text and answer labels.

    References
    ----------
    HL7 FHIR R4 Questionnaire (https://hl7.org/fhir/R4/questionnaire.html).
    Reference test: ``tests/core/test_fhir.py``.
    """
    if inst.has_wording and language not in inst.languages:
        raise DataValidationError(
            f"instrument {inst.id!r} has no wording in language {language!r}; "
            f"languages: {', '.join(inst.languages)}"
        )
    codes = [{"system": INSTRUMENT_SYSTEM, "code": inst.id, "display": inst.title}]
    if inst.loinc_panel is not None:
        codes.insert(
            0, {"system": inst.loinc_panel.system, "code": inst.loinc_panel.code}
        )
    description = inst.notes
    if not inst.has_wording:
        description = (
            f"Structure only: licence class {inst.licence.cls}; the item wording is "
            "supplied by the practice from its licensed copy. " + description
        )
    data: dict[str, Any] = {
        "resourceType": "Questionnaire",
        "id": fhir_id(inst),
        "language": language,
        "url": questionnaire_url(inst),
        "version": inst.version,
        "name": "".join(part.capitalize() for part in inst.id.split("_")),
        "title": inst.title,
        "status": "active" if inst.has_wording else "draft",
        "subjectType": ["Patient"],
        "publisher": "HarmonyBridge",
        "description": description.strip() or inst.title,
        "copyright": f"{inst.licence.terms} Source: {inst.licence.source}. {inst.citation}",
        "code": codes,
        "item": [_question(inst, n, language) for n in inst.item_numbers]
        + _score_items(inst),
    }
    return _validated(Questionnaire, data)


def _authored(value: str | dt.datetime | dt.date | None) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, dt.datetime) and value.tzinfo is None:
        raise DataValidationError(
            "authored must be timezone-aware (FHIR dateTime with a time needs an offset)"
        )
    return value.isoformat()


def _all_required(inst: Instrument, values: Mapping[int, float | None]) -> bool:
    for it in inst.items:
        enabled = it.condition is None or values[it.condition[0]] == it.condition[1]
        if it.required and enabled and values[it.number] is None:
            return False
    return True


def questionnaire_response(
    inst: Instrument,
    answers: Mapping[Any, Any],
    *,
    scored: bool | ScoreResult = True,
    subject: str | None = None,
    authored: str | dt.datetime | dt.date | None = None,
    status: str | None = None,
    language: str = "en",
) -> dict:
    """Return the answers (and scores) as a FHIR R4 ``QuestionnaireResponse`` dict.

    Parameters
    ----------
    inst : Instrument
        The instrument answered.
    answers : mapping
        Item number -> raw value (None for unanswered); validated like
        :meth:`Instrument.score`.
    scored : bool or ScoreResult
        ``True`` scores the answers and adds the ``total`` and subscale items
        (read-only decimals); a ``ScoreResult`` is used as given; ``False``
        leaves the scores out.
    subject : str, optional
        A reference such as ``"Patient/123"`` (pseudonymous).
    authored : str, datetime or date, optional
        When the answers were given (a datetime must carry a timezone).
    status : str, optional
        One of ``RESPONSE_STATUSES``; by default ``completed`` when every
        required (enabled) item is answered and ``stopped`` otherwise (e.g. a
        prorated PHQ-9 with one item skipped).

    References
    ----------
    HL7 FHIR R4 QuestionnaireResponse. Reference test: ``tests/core/test_fhir.py``.
    """
    values = clean_answers(inst, answers)
    if status is None:
        status = "completed" if _all_required(inst, values) else "stopped"
    if status not in RESPONSE_STATUSES:
        raise DataValidationError(
            f"status {status!r} is not allowed; use one of {', '.join(RESPONSE_STATUSES)}"
        )
    items: list[dict] = []
    for number, value in values.items():
        if value is None:
            continue
        coding = _answer_coding(inst, inst.item(number).scale, int(value), language)
        coding.pop("extension")
        items.append({"linkId": str(number), "answer": [{"valueCoding": coding}]})
    result = inst.score(answers) if scored is True else (scored or None)
    if result is not None:
        scores = {"total": result.total, **result.subscales}
        for link, value in scores.items():
            if value is not None:
                items.append({"linkId": link, "answer": [{"valueDecimal": value}]})
    data: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "questionnaire": f"{questionnaire_url(inst)}|{inst.version}",
        "status": status,
        "language": language,
        "item": items,
    }
    if subject is not None:
        data["subject"] = {"reference": subject}
    if authored is not None:
        data["authored"] = _authored(authored)
    return _validated(QuestionnaireResponse, data)


def _flatten(items: list[dict] | None) -> list[dict]:
    out: list[dict] = []
    for item in items or []:
        out.append(item)
        out.extend(_flatten(item.get("item")))
    return out


def _coding_key(coding: Mapping[str, Any]) -> tuple[str | None, str | None]:
    return coding.get("system"), coding.get("code")


def _answer_matches(answer: Mapping[str, Any], condition: Mapping[str, Any]) -> bool:
    for key, wanted in condition.items():
        if not key.startswith("answer"):
            continue
        value_key = "value" + key[len("answer") :]
        got = answer.get(value_key)
        if key == "answerCoding":
            return got is not None and _coding_key(got) == _coding_key(wanted)
        return got == wanted
    return False


def _enabled(question: Mapping[str, Any], answers: Mapping[str, list[dict]]) -> bool:
    conditions = question.get("enableWhen")
    if not conditions:
        return True
    results = []
    for cond in conditions:
        given = answers.get(cond.get("question"), [])
        op = cond.get("operator")
        if op == "exists":
            results.append(bool(given) == cond.get("answerBoolean", True))
        elif op == "=":
            results.append(any(_answer_matches(a, cond) for a in given))
        elif op == "!=":
            results.append(
                bool(given) and not any(_answer_matches(a, cond) for a in given)
            )
        else:
            results.append(False)
    return any(results) if question.get("enableBehavior") == "any" else all(results)


def _check_answer(
    link: str, question: Mapping[str, Any], answer: Mapping[str, Any]
) -> str | None:
    qtype = question.get("type")
    if qtype == "choice":
        coding = answer.get("valueCoding")
        if coding is None:
            return f"item {link!r}: a choice item needs valueCoding"
        allowed = [_coding_key(o["valueCoding"]) for o in question.get("answerOption", [])
                   if "valueCoding" in o]  # fmt: skip
        if _coding_key(coding) not in allowed:
            codes = ", ".join(str(c) for _, c in allowed)
            return (
                f"item {link!r}: answer code {coding.get('code')!r} "
                f"({coding.get('system')}) is not in the answer set (allowed: {codes})"
            )
    elif qtype == "decimal" and not isinstance(answer.get("valueDecimal"), int | float):
        return f"item {link!r}: a decimal item needs valueDecimal"
    return None


def validate_response(
    questionnaire: Mapping[str, Any], response: Mapping[str, Any]
) -> list[str]:
    """Check a QuestionnaireResponse against its Questionnaire; return the problems.

    Checks: the resource validates as FHIR R4(B); ``status`` is in the R4 value
    set; ``questionnaire`` points at this Questionnaire; every ``linkId`` exists
    and appears once; choice answers come from the item's answer set; a
    completed response answers every enabled required item and no disabled
    (``enableWhen``) item. An empty list means valid.

    References
    ----------
    HL7 FHIR R4 QuestionnaireResponse invariants and Questionnaire.item.enableWhen.
    Reference test: ``tests/core/test_fhir.py``.
    """
    problems: list[str] = []
    try:
        QuestionnaireResponse.model_validate(dict(response))
    except ValidationError as exc:
        first = exc.errors()[0]
        problems.append(
            f"not a valid QuestionnaireResponse: {first['loc']}: {first['msg']}"
        )
    status = response.get("status")
    if status not in RESPONSE_STATUSES:
        problems.append(
            f"status {status!r} is not one of {', '.join(RESPONSE_STATUSES)}"
        )
    ref = response.get("questionnaire")
    url = questionnaire.get("url")
    if ref is not None and url is not None and ref.split("|")[0] != url:
        problems.append(f"questionnaire {ref!r} is not {url!r}")
    questions = {q["linkId"]: q for q in _flatten(questionnaire.get("item"))}
    answers: dict[str, list[dict]] = {}
    for item in _flatten(response.get("item")):
        link = str(item.get("linkId"))
        if link not in questions:
            problems.append(f"item {link!r}: unknown linkId (not in the questionnaire)")
            continue
        if link in answers:
            problems.append(f"item {link!r}: appears more than once")
        answers[link] = list(item.get("answer") or [])
        if len(answers[link]) > 1 and not questions[link].get("repeats"):
            problems.append(
                f"item {link!r}: more than one answer to a non-repeating item"
            )
        for answer in answers[link]:
            problem = _check_answer(link, questions[link], answer)
            if problem:
                problems.append(problem)
    if status == "completed":
        for link, question in questions.items():
            enabled = _enabled(question, answers)
            if enabled and question.get("required") and not answers.get(link):
                problems.append(f"item {link!r}: required but not answered")
            if not enabled and answers.get(link):
                problems.append(
                    f"item {link!r}: answered although not enabled (enableWhen)"
                )
    return problems


def check_response(
    questionnaire: Mapping[str, Any], response: Mapping[str, Any]
) -> None:
    """Raise ``DataValidationError`` listing the problems :func:`validate_response` finds."""
    problems = validate_response(questionnaire, response)
    if problems:
        raise DataValidationError("; ".join(problems))


def answers_from_response(
    inst: Instrument, response: Mapping[str, Any]
) -> dict[int, int]:
    """Read the item answers of a QuestionnaireResponse back into ``{item: value}``.

    The response is first checked against the instrument's Questionnaire with
    :func:`check_response`; score items (``total``, subscales) are ignored, so
    the scores are always recomputed from the answers.

    Raises
    ------
    DataValidationError
        Listing every problem :func:`validate_response` finds.
    """
    check_response(_bare(inst), response)
    values: dict[int, int] = {}
    for item in _flatten(response.get("item")):
        link = str(item.get("linkId"))
        if not link.isdigit():
            continue
        scale = inst.scales[inst.item(int(link)).scale]
        for answer in item.get("answer") or []:
            key = _coding_key(answer["valueCoding"])
            for value in scale.values:
                if _coding_key(_answer_coding(inst, scale.id, value, "en")) == key:
                    values[int(link)] = value
    return values


def _bare(inst: Instrument) -> dict:
    """The Questionnaire in the instrument's first language (codes do not depend on it)."""
    return questionnaire(inst, inst.languages[0])
