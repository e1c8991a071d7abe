"""FHIR R4 ``Bundle`` (searchset) and ``OperationOutcome`` builders."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from harmonybridge.errors import DataValidationError

__all__ = ["ISSUE_SEVERITIES", "Issue", "operation_outcome", "searchset_bundle"]

#: OperationOutcome.issue.severity value set (FHIR R4).
ISSUE_SEVERITIES = ("fatal", "error", "warning", "information")


@dataclass(frozen=True)
class Issue:
    """One OperationOutcome issue.

    ``code`` is from the FHIR issue-type value set (``invalid``, ``required``,
    ``value``, ``not-found``, ``forbidden``, ...); ``expression`` holds FHIRPath
    expressions locating the problem, e.g.
    ``QuestionnaireResponse.item.where(linkId='9')``.
    """

    diagnostics: str
    code: str = "invalid"
    severity: str = "error"
    expression: tuple[str, ...] = ()


def operation_outcome(issues: Iterable[Issue]) -> dict[str, Any]:
    """Return a FHIR R4 ``OperationOutcome`` listing ``issues`` (at least one).

    Raises
    ------
    DataValidationError
        For no issue or a severity outside :data:`ISSUE_SEVERITIES`.
    """
    out = []
    for issue in issues:
        if issue.severity not in ISSUE_SEVERITIES:
            raise DataValidationError(
                f"issue severity {issue.severity!r} is not one of "
                f"{', '.join(ISSUE_SEVERITIES)}"
            )
        entry: dict[str, Any] = {
            "severity": issue.severity,
            "code": issue.code,
            "diagnostics": issue.diagnostics,
        }
        if issue.expression:
            entry["expression"] = list(issue.expression)
        out.append(entry)
    if not out:
        raise DataValidationError("an OperationOutcome needs at least one issue")
    return {"resourceType": "OperationOutcome", "issue": out}


def searchset_bundle(
    resources: Sequence[Mapping[str, Any]],
    *,
    base_url: str,
    self_url: str,
    next_url: str | None = None,
    total: int | None = None,
) -> dict[str, Any]:
    """Return a FHIR R4 ``searchset`` Bundle of ``resources`` with paging links.

    Parameters
    ----------
    resources : sequence of dict
        The matches on this page (each with ``resourceType`` and ``id``).
    base_url : str
        The server's FHIR base (``https://host/fhir``); each entry's ``fullUrl``
        is ``<base_url>/<resourceType>/<id>``.
    self_url : str
        The URL of this page (``link`` relation ``self``).
    next_url : str, optional
        The URL of the next page (``link`` relation ``next``), if any.
    total : int, optional
        The number of matches over all pages, when known.
    """
    base = base_url.rstrip("/")
    links = [{"relation": "self", "url": self_url}]
    if next_url is not None:
        links.append({"relation": "next", "url": next_url})
    bundle: dict[str, Any] = {"resourceType": "Bundle", "type": "searchset"}
    if total is not None:
        bundle["total"] = int(total)
    bundle["link"] = links
    bundle["entry"] = [
        {
            "fullUrl": f"{base}/{r['resourceType']}/{r['id']}",
            "resource": dict(r),
            "search": {"mode": "match"},
        }
        for r in resources
    ]
    return bundle
