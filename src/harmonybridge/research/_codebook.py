"""The codebook: a REDCap-style data dictionary and a Frictionless ``datapackage.json``."""

from __future__ import annotations

import csv
import io
from typing import Any

from harmonybridge import __version__, schema
from harmonybridge.instruments import Instrument
from harmonybridge.research._prepare import DAY, SCORE_COLUMNS, Prepared
from harmonybridge.research._project import ResearchProject
from harmonybridge.research._wide import KEY_COLUMNS, KEY_LABELS, Variable

#: REDCap data dictionary header (the columns of a REDCap "Data Dictionary" CSV).
REDCAP_COLUMNS = (
    "Variable / Field Name", "Form Name", "Section Header", "Field Type", "Field Label",
    "Choices, Calculations, OR Slider Labels", "Field Note",
    "Text Validation Type OR Show Slider Number", "Text Validation Min",
    "Text Validation Max", "Identifier?", "Branching Logic (Show field only if...)",
    "Required Field?", "Custom Alignment", "Question Number (surveys only)",
    "Matrix Group Name", "Matrix Ranking?", "Field Annotation",
)  # fmt: skip

_ID_NOTE = "HMAC-SHA-256 pseudonym (16 hex digits), stable within this project only"
#: Long-format fields: type, unit and description.
FIELDS: dict[str, tuple[str, str, str]] = {
    schema.CLIENT_ID: ("string", "", f"Client. {_ID_NOTE}."),
    schema.ENGAGEMENT_ID: ("string", "", f"Engagement (one course of work). {_ID_NOTE}."),
    schema.PRACTITIONER_ID: ("string", "", f"Practitioner. {_ID_NOTE}; 'other' pools "
                             "practitioners with fewer than k clients."),
    schema.SESSION: ("integer", "session", "Session number within the engagement (0 = baseline)."),
    DAY: ("integer", "day", "Days from the engagement's start (its first session) to this session."),
    schema.RATER_ROLE: ("string", "", "Who rated: client or practitioner."),
    schema.RESPONDENT_ID: ("string", "", f"Who answered (a client or the practitioner). {_ID_NOTE}."),
    schema.INSTRUMENT: ("string", "", "Instrument id (see harmonybridge:instruments)."),
    schema.RESPONSE_ID: ("string", "", f"One completed questionnaire. {_ID_NOTE}."),
    schema.ITEM: ("integer", "item number", "Item number within the instrument."),
    schema.VALUE: ("number", "raw answer points", "Raw answer; allowed values per "
                   "instrument item are in data_dictionary.csv."),
    schema.SUBSCALE: ("string", "", "Subscale or derived score name; empty for the total."),
    schema.SCORE: ("number", "score points", "Computed score (as scored by the instrument "
                   "definition's version)."),
}  # fmt: skip


def data_dictionary(insts: tuple[Instrument, ...], wide_vars: list[Variable]) -> str:
    """Return the REDCap-style data dictionary of the wide (``.sav``) variables as CSV."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(REDCAP_COLUMNS)
    for col in KEY_COLUMNS:
        kind, unit, _ = FIELDS[col]
        validation = "integer" if kind == "integer" else ""
        writer.writerow(_row(col, "identifiers", "text", KEY_LABELS[col], "", unit, validation,
                             identifier="y" if col.endswith("_id") else ""))  # fmt: skip
    for v in wide_vars:
        inst = v.instrument
        note = f"{inst.id} definition version {inst.version}; licence class {inst.licence.cls}"
        if v.item is not None:
            choices = " | ".join(f"{value}, {text}" for value, text in
                                 (v.value_labels or tuple((a, str(a)) for a in v.allowed)))  # fmt: skip
            writer.writerow(_row(v.name, inst.id, "radio", v.label, choices, note, ""))
        else:
            writer.writerow(_row(v.name, inst.id, "text", v.label, "", note, "number"))
    return buf.getvalue()


def _row(name: str, form: str, kind: str, label: str, choices: str, note: str,
         validation: str, identifier: str = "") -> list[str]:  # fmt: skip
    row = dict.fromkeys(REDCAP_COLUMNS, "")
    row |= {"Variable / Field Name": name, "Form Name": form, "Field Type": kind,
            "Field Label": label, "Choices, Calculations, OR Slider Labels": choices,
            "Field Note": note, "Text Validation Type OR Show Slider Number": validation,
            "Identifier?": identifier}  # fmt: skip
    return list(row.values())


def _field(name: str, prepared: Prepared, frame_name: str) -> dict[str, Any]:
    kind, unit, description = FIELDS[name]
    field: dict[str, Any] = {"name": name, "type": kind, "description": description}
    if unit:
        field["unit"] = unit
    frame = getattr(prepared, frame_name)
    constraints: dict[str, Any] = {}
    if name in (schema.RATER_ROLE, schema.INSTRUMENT, schema.SUBSCALE):
        constraints["enum"] = sorted(str(x) for x in frame[name].cat.categories)
    if name == schema.ITEM:
        constraints["enum"] = sorted(
            {n for i in prepared.instruments for n in i.item_numbers}
        )
    if name == schema.VALUE:
        scales = [s for i in prepared.instruments for s in i.scales.values()]
        constraints |= {
            "minimum": min(s.min for s in scales),
            "maximum": max(s.max for s in scales),
        }
    if name in (schema.SESSION, DAY):
        constraints["minimum"] = 0
    if name in (
        schema.CLIENT_ID,
        schema.ENGAGEMENT_ID,
        schema.RATER_ROLE,
        schema.INSTRUMENT,
    ):
        constraints["required"] = True
    if name == schema.SUBSCALE:
        field["missingValues"] = []  # "" is the total, not a missing value
    if constraints:
        field["constraints"] = constraints
    return field


def datapackage(
    project: ResearchProject, prepared: Prepared, created: str
) -> dict[str, Any]:
    """Return the Frictionless Data Package descriptor of the export's tables."""

    def table(name: str, path: str, frame_name: str, key: list[str]) -> dict[str, Any]:
        columns = list(getattr(prepared, frame_name).columns)
        return {
            "name": name, "path": path, "type": "table", "scheme": "file", "format": "csv",
            "mediatype": "text/csv", "encoding": "utf-8",
            "schema": {"fields": [_field(c, prepared, frame_name) for c in columns],
                       "primaryKey": key},
        }  # fmt: skip

    base_key = [
        schema.ENGAGEMENT_ID,
        schema.SESSION,
        schema.RESPONDENT_ID,
        schema.INSTRUMENT,
    ]
    return {
        "name": f"harmonybridge-{project.id}".lower().replace("_", "-"),
        "title": project.title or f"HarmonyBridge research export {project.id}",
        "description": project.purpose or "Pseudonymised session-by-session measurement data.",
        "created": created,
        "resources": [
            table("items", "items.csv", "items", [*base_key, schema.ITEM]),
            table("scores", "scores.csv", "scores", [*base_key, schema.SUBSCALE]),
            {"name": "data-dictionary", "path": "data_dictionary.csv", "type": "table",
             "scheme": "file", "format": "csv", "mediatype": "text/csv", "encoding": "utf-8",
             "schema": {"fields": [{"name": c, "type": "string", "missingValues": []}
                                   for c in REDCAP_COLUMNS]}},
        ],
        "harmonybridge": {
            "version": __version__,
            "project": project.id,
            "fhir_epoch": project.epoch.isoformat(),
            "score_columns": list(SCORE_COLUMNS),
            "instruments": [_instrument_meta(i) for i in prepared.instruments],
        },
    }  # fmt: skip


def _instrument_meta(inst: Instrument) -> dict[str, Any]:
    return {
        "id": inst.id, "version": inst.version, "title": inst.title,
        "citation": inst.citation, "licence_class": inst.licence.cls,
        "licence": inst.licence.terms, "wording_included": inst.licence.ships_wording,
        "validated": inst.is_validated, "higher_is_better": inst.higher_is_better,
        "items": {str(it.number): list(inst.scales[it.scale].values)
                  for it in inst.items if not it.private},
        "scores": [s or "total" for s in ("", *inst.subscales, *inst.derived_items)
                   if s not in inst.private_scores],
    }  # fmt: skip
