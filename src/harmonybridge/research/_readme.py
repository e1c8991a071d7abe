"""The README and the export log written into every export zip (counts only)."""

from __future__ import annotations

from collections.abc import Mapping

from harmonybridge import __version__
from harmonybridge.research._prepare import Prepared
from harmonybridge.research._project import ResearchProject
from harmonybridge.research._pseudonyms import POOLED, PSEUDONYM_LENGTH

#: The files of an export zip and what each holds.
CONTENTS = (
    ("README.md", "this file"),
    ("export-log.txt", "counts of what was exported and what was left out, and why"),
    ("items.csv", "item-level answers, long tidy format (one row per answer)"),
    (
        "scores.csv",
        "scores, long tidy format (one row per total, subscale or derived score)",
    ),
    ("items.parquet", "the same rows as items.csv (Apache Parquet)"),
    ("scores.parquet", "the same rows as scores.csv (Apache Parquet)"),
    (
        "wide.sav",
        "SPSS file, one row per respondent x session, with variable and value labels; "
        "a missing value is -999, declared user-missing",
    ),
    ("data_dictionary.csv", "REDCap-style data dictionary of the wide.sav variables"),
    (
        "datapackage.json",
        "Frictionless Data Package: types, units, allowed values, versions",
    ),
    ("fhir/Patient.ndjson", "FHIR R4 pseudonymous Patient, one per client"),
    (
        "fhir/QuestionnaireResponse.ndjson",
        "FHIR R4 QuestionnaireResponse, one per response",
    ),
    ("fhir/Observation.ndjson", "FHIR R4 Observation, one per score"),
)


def log_lines(prepared: Prepared, caller_left_out: Mapping[str, int],
              fhir_counts: Mapping[str, int]) -> list[str]:  # fmt: skip
    """Return the export log: counts exported and counts left out with reasons."""
    lines = ["Exported:"]
    lines += [f"  {name}: {n}" for name, n in prepared.counts.items()]
    lines += [f"  FHIR {name}: {n}" for name, n in fhir_counts.items()]
    lines.append("Left out before the export (consent and selection by the practice):")
    lines += [f"  {reason}: {n}" for reason, n in caller_left_out.items()] or ["  none"]
    lines.append("Left out by the export's rules:")
    lines += [f"  {reason}: {n}" for reason, n in prepared.left_out.items() if n] or [
        "  none"
    ]
    if prepared.columns_not_exported:
        lines.append("Columns never exported (not on the allow-list): "
                     + ", ".join(prepared.columns_not_exported))  # fmt: skip
    return lines


def readme(
    project: ResearchProject, prepared: Prepared, log: list[str], created: str
) -> str:
    """Return the README.md of the export."""
    insts = "\n".join(
        f"- `{i.id}` {i.title}, definition version {i.version}; licence class "
        f"{i.licence.cls} ({'wording in labels' if i.licence.ships_wording else 'item numbers only'}); "
        f"cite: {i.citation}"
        for i in prepared.instruments
    )  # fmt: skip
    files = "\n".join(f"- `{name}`: {what}" for name, what in CONTENTS)
    start, end = project.period
    cite = project.citation or (
        f"HarmonyBridge research export '{project.id}' (HarmonyBridge {__version__}), "
        f"created {created}. Cite each instrument as listed above."
    )
    purpose = f"{project.purpose}\n\n" if project.purpose else ""
    return f"""# {project.title or f"HarmonyBridge research export {project.id}"}

{purpose}Project `{project.id}`; sessions from {start} to {end}; created {created} by
HarmonyBridge {__version__}.

## Contents

{files}

## Consent basis

{project.consent_basis} Clients without research consent are not in this export;
`export-log.txt` gives how many were left out and why (counts only).

## Pseudonymisation

- Every id column (`client_id`, `engagement_id`, `practitioner_id`, `respondent_id`,
  `response_id`) holds a keyed hash: HMAC-SHA-256 with this project's secret key,
  the first {PSEUDONYM_LENGTH} hex digits. The same person has the same pseudonym in every
  export of this project and a different, unlinkable one in any other project.
- Dates are replaced by `day`: days from the engagement's start (its first session).
- Names, contact details, notes, goal texts and any free text are never exported:
  only an allow-list of columns leaves the practice.
- Practitioners with fewer than k = {project.k} clients in this export are pooled into
  one practitioner id, `{POOLED}` (their rows are kept).
- Items that an instrument definition marks private (such as the practitioner's own
  prediction) are never exported.
- FHIR times are shifted: every engagement starts at {project.epoch.isoformat()};
  a session on day d is dated that instant plus d days.

## Instruments

{insts}

## Export log

```
{chr(10).join(log)}
```

## How to cite

{cite}
"""
