"""FHIR R4 resources for HarmonyBridge data: one builder shared by exports and the API.

``Questionnaire`` and single ``QuestionnaireResponse`` resources (and checking a
response against its questionnaire) come from :mod:`harmonybridge.reports.fhir`;
this package adds bulk NDJSON builders for ``QuestionnaireResponse``,
``Observation`` (scores) and pseudonymous ``Patient`` resources, and the
``Bundle`` (searchset with paging links) and ``OperationOutcome`` a FHIR server
returns. Conventions: Questionnaire id = instrument id with ``_`` -> ``-``;
``linkId`` = item number; LOINC where it exists (PHQ-9 total 44261-6, GAD-7
total 70274-6), otherwise ``urn:harmonybridge:instrument`` and
``urn:harmonybridge:item``.
"""

from __future__ import annotations

from harmonybridge.fhir._bulk import (
    OBSERVATION_CATEGORY,
    PSEUDONYMISED,
    observation_lines,
    patient_lines,
    questionnaire_response_lines,
)
from harmonybridge.fhir._bundle import (
    ISSUE_SEVERITIES,
    Issue,
    operation_outcome,
    searchset_bundle,
)
from harmonybridge.reports.fhir import (
    INSTRUMENT_SYSTEM,
    ITEM_SYSTEM,
    RESPONSE_STATUSES,
    answers_from_response,
    check_response,
    questionnaire,
    questionnaire_response,
    questionnaire_url,
    score_coding,
    validate_response,
)

__all__ = [
    "INSTRUMENT_SYSTEM",
    "ISSUE_SEVERITIES",
    "ITEM_SYSTEM",
    "OBSERVATION_CATEGORY",
    "PSEUDONYMISED",
    "RESPONSE_STATUSES",
    "Issue",
    "answers_from_response",
    "check_response",
    "observation_lines",
    "operation_outcome",
    "patient_lines",
    "questionnaire",
    "questionnaire_response",
    "questionnaire_response_lines",
    "questionnaire_url",
    "score_coding",
    "searchset_bundle",
    "validate_response",
]
