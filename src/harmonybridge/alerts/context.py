"""What one engagement's history cannot tell the alert rules: practice references and the rule table."""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from harmonybridge import schema
from harmonybridge.alerts.rules import Rule, default_rules
from harmonybridge.errors import HarmonyBridgeWarning

__all__ = ["Alert", "AlertContext"]


@dataclass(frozen=True)
class Alert:
    """One alert: which rule fired, for which session and person, and why."""

    rule_id: str
    rule_version: int
    severity: str
    engagement_id: Any
    session: Any
    rater_role: str | None
    respondent_id: Any
    instrument: str | None
    params: Mapping[str, Any]
    evidence: Mapping[str, Any]
    message: str
    suggestions: tuple[str, ...] = ()


@dataclass(frozen=True, eq=False)
class AlertContext:
    """Practice-level inputs of the alert rules; ``AlertContext()`` uses rational fallbacks.

    Attributes
    ----------
    rules : tuple of Rule
        The rule table (default :func:`default_rules`).
    pooled_sd : mapping
        Pooled within-person SD of alliance totals by rater role (e.g.
        ``{"client": 0.35, "practitioner": 0.3}``) from the practice's history
        before today. Empty: the rupture rules use each series' own SD (with
        the ``min_abs_drop`` floor).
    alliance_norms : DataFrame, optional
        From :func:`harmonybridge.alliance.alliance_norms` (for ``alliance.gap``;
        without it the raw fallback gap is used).
    alliance_percentiles : DataFrame, optional
        From :func:`harmonybridge.alliance.alliance_percentiles` (for
        ``alliance.low_early``; without it that rule does not fire).
    curve_sets : mapping
        ``{instrument id: TrajectoryFit}``; instruments without one use the
        rational not-on-track rule.
    conventions : mapping
        ``{instrument id: caseness convention name}`` (e.g. ``{"gad7":
        "spitzer_2006"}``): the cut-off and reliable-change criterion pair every
        outcome rule uses for that instrument; instruments not named use their
        definition's default convention.
    """

    rules: tuple[Rule, ...] = field(default_factory=default_rules)
    pooled_sd: Mapping[str, float] = field(default_factory=dict)
    alliance_norms: pd.DataFrame | None = None
    alliance_percentiles: pd.DataFrame | None = None
    curve_sets: Mapping[str, Any] = field(default_factory=dict)
    conventions: Mapping[str, str] = field(default_factory=dict)

    def rule(self, rule_id: str) -> Rule | None:
        """Return the enabled rule with this id, or None."""
        for r in self.rules:
            if r.rule_id == rule_id and r.enabled:
                return r
        return None

    def to_dict(self) -> dict[str, Any]:
        """Return the context as plain JSON-serialisable types (for storage by the web app)."""

        def records(frame: pd.DataFrame | None) -> list[dict[str, Any]] | None:
            if frame is None:
                return None
            return [
                {str(k): (v.item() if hasattr(v, "item") else v) for k, v in r.items()}
                for r in frame.to_dict("records")
            ]

        return {
            "rules": [r.to_record() for r in self.rules],
            "pooled_sd": {str(k): float(v) for k, v in self.pooled_sd.items()},
            "alliance_norms": records(self.alliance_norms),
            "alliance_percentiles": records(self.alliance_percentiles),
            "curve_sets": {k: v.to_dict() for k, v in self.curve_sets.items()},
            "conventions": {str(k): str(v) for k, v in self.conventions.items()},
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> AlertContext:
        """Rebuild a context stored with :meth:`to_dict`."""
        from harmonybridge.change.trajectories import TrajectoryFit

        def frame(recs: Any) -> pd.DataFrame | None:
            return None if recs is None else pd.DataFrame(list(recs))

        return cls(
            rules=_rules(d["rules"]) if "rules" in d else default_rules(),
            pooled_sd=dict(d.get("pooled_sd", {})),
            alliance_norms=frame(d.get("alliance_norms")),
            alliance_percentiles=frame(d.get("alliance_percentiles")),
            curve_sets={
                k: TrajectoryFit.from_dict(v)
                for k, v in dict(d.get("curve_sets", {})).items()
            },
            conventions=dict(d.get("conventions", {})),
        )

    @classmethod
    def from_reference(
        cls,
        reference: pd.DataFrame,
        *,
        rules: tuple[Rule, ...] | None = None,
        fit_curves: bool = True,
        min_clients: int = 300,
    ) -> AlertContext:
        """Build a context from a practice's history (e.g. everything before today).

        Parameters
        ----------
        reference : pandas.DataFrame
            Canonical score frame of the reference period.
        rules : tuple of Rule, optional
            Rule table (default :func:`default_rules`).
        fit_curves : bool
            Fit expected-response curves for every outcome instrument with at
            least ``min_clients`` clients.
        min_clients : int
            See :func:`harmonybridge.change.fit_trajectories`.

        Returns
        -------
        AlertContext
            With pooled SDs, alliance norms and percentiles, and curve sets.
        """
        from harmonybridge.alerts.evaluate import instrument_table
        from harmonybridge.alliance import alliance_norms, alliance_percentiles
        from harmonybridge.change import fit_trajectories, pooled_within_sd

        rules = rules or default_rules()
        meta = instrument_table(reference[schema.INSTRUMENT].unique())
        kinds = reference[schema.INSTRUMENT].map(meta["kind"].to_dict())
        total = reference[schema.SUBSCALE].fillna("") == ""
        alliance = reference[(kinds == "alliance").to_numpy() & total.to_numpy()]
        pooled: Any = (
            pooled_within_sd(alliance, by=schema.RATER_ROLE) if len(alliance) else {}
        )
        low = next((r for r in rules if r.rule_id == "alliance.low_early"), None)
        q = float(low.params["quantile"]) if low else 0.25
        curves: dict[str, Any] = {}
        if fit_curves:
            for inst in meta.index[meta["kind"] == "outcome"]:
                d = reference[
                    (reference[schema.INSTRUMENT] == inst).to_numpy() & total.to_numpy()
                ]
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", HarmonyBridgeWarning)
                    fit = fit_trajectories(d, instrument=inst, min_clients=min_clients)
                if fit.method == "mixedlm":
                    curves[inst] = fit
        return cls(
            rules=rules,
            pooled_sd={str(k): v for k, v in dict(pooled).items() if v == v},
            alliance_norms=alliance_norms(alliance) if len(alliance) else None,
            alliance_percentiles=alliance_percentiles(alliance, q=q)
            if len(alliance)
            else None,
            curve_sets=curves,
        )


def _rules(records: Any) -> tuple[Rule, ...]:
    return tuple(
        Rule(**{**r, "suggestions": tuple(r.get("suggestions", ()))}) for r in records
    )
