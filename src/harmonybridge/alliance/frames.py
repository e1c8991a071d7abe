"""``by_session``: the canonical long format pivoted into one row per unit × session."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from harmonybridge import schema
from harmonybridge.errors import DataValidationError

__all__ = ["ALLIANCE_COLUMNS", "MODALITY", "by_session"]

#: Optional column of the long frame: how the session took place (in_person, video, ...).
MODALITY = "modality"

#: Alliance columns that ``by_session`` makes (client-rated, practitioner-rated, their mean).
ALLIANCE_COLUMNS = ("alliance_client", "alliance_practitioner", "alliance_mean")

_E, _S, _R, _I, _P = (
    schema.ENGAGEMENT_ID,
    schema.SESSION,
    schema.RATER_ROLE,
    schema.INSTRUMENT,
    schema.PRACTITIONER_ID,
)


def by_session(
    long: pd.DataFrame,
    *,
    outcome: str | Sequence[str],
    alliance: str | Sequence[str] = ("hb_checkin", "hb_checkin_practitioner"),
    unit: str = schema.ENGAGEMENT_ID,
    center: bool = False,
) -> pd.DataFrame:
    """Pivot the canonical long score frame into one row per ``unit`` × session.

    Parameters
    ----------
    long : pandas.DataFrame
        Canonical score frame (``engagement_id``, ``practitioner_id``, ``session``,
        ``rater_role``, ``instrument``, ``score``; ``subscale`` optional, totals used).
    outcome : str or list of str
        Outcome instrument id(s) (client-rated totals); each becomes a column named
        after the instrument.
    alliance : str or list of str
        Alliance instrument ids; client-rated totals become ``alliance_client``,
        practitioner-rated ``alliance_practitioner``, and ``alliance_mean`` is their mean
        when both rated the session.
    unit : str
        The unit of a series: the engagement by default, because session numbers restart
        in a client's second engagement.  Several clients of one engagement (couples,
        families) are averaged per session.
    center : bool
        Add person-mean centred ``<column>_within`` and the unit means
        ``<column>_between`` for every alliance and outcome column.

    Returns
    -------
    pandas.DataFrame
        ``unit``, ``client_id`` (the unit's first client, when present),
        ``practitioner_id``, ``session``, the outcome and alliance columns (NaN where
        not rated), ``modality`` when the long frame has it, sorted by unit and session.
    """
    outcomes = [outcome] if isinstance(outcome, str) else list(outcome)
    alliances = [alliance] if isinstance(alliance, str) else list(alliance)
    need = [unit, _P, _S, _R, _I, schema.SCORE]
    schema.validate_long(long, required=need, numeric=[_S, schema.SCORE], name="scores")
    d = long
    if schema.SUBSCALE in d.columns:
        d = d[d[schema.SUBSCALE].fillna("").astype(str) == ""]
    d = d[d[schema.SCORE].notna()]
    present = set(d[_I].unique())
    absent = [i for i in outcomes if i not in present]
    if absent:
        raise DataValidationError(
            f"no scores for outcome instrument(s) {absent}; instruments in the data: "
            f"{sorted(map(str, present))}"
        )
    clash = set(outcomes) & set(alliances)
    if clash:
        raise DataValidationError(f"{sorted(clash)} given as both outcome and alliance")
    prac = d.groupby(unit, sort=False)[_P].nunique()
    if (prac > 1).any():
        raise DataValidationError(
            f"{int((prac > 1).sum())} {unit} value(s) have more than one practitioner "
            f"(e.g. {prac[prac > 1].index[0]!r}); a unit must belong to one practitioner"
        )
    keys = [unit, _S]
    who = [schema.RESPONDENT_ID] if schema.RESPONDENT_ID in d.columns else []
    used = d[d[_I].isin([*outcomes, *alliances])]
    dup = used.duplicated([unit, _S, _R, _I, *who], keep=False)
    if dup.any():
        first = used.loc[dup, [unit, _S, _I, *who]].iloc[0].to_dict()
        raise DataValidationError(
            f"several total scores for one respondent, session and instrument ({first}); "
            "are several instruments or forms mixed under one instrument id?"
        )
    parts = []
    for inst in outcomes:
        o = d[(d[_I] == inst) & (d[_R] == "client")]
        parts.append(o.groupby(keys)[schema.SCORE].mean().rename(inst))
    a = d[d[_I].isin(alliances)]
    for role, col in (
        ("client", ALLIANCE_COLUMNS[0]),
        ("practitioner", ALLIANCE_COLUMNS[1]),
    ):
        parts.append(a[a[_R] == role].groupby(keys)[schema.SCORE].mean().rename(col))
    wide = pd.concat(parts, axis=1)
    wide[ALLIANCE_COLUMNS[2]] = wide[list(ALLIANCE_COLUMNS[:2])].mean(
        axis=1, skipna=False
    )
    if MODALITY in d.columns:
        parts_m = d.dropna(subset=[MODALITY]).groupby(keys)[MODALITY].first()
        wide = wide.join(parts_m, how="left")
    wide = wide.reset_index()
    meta_cols = [_P] + (
        [schema.CLIENT_ID]
        if schema.CLIENT_ID in d.columns and unit != schema.CLIENT_ID
        else []
    )
    meta = (
        d.sort_values([unit, _S], kind="stable")
        .groupby(unit, sort=False)[meta_cols]
        .first()
    )
    wide = wide.merge(meta.reset_index(), on=unit, how="left")
    value_cols = [*outcomes, *ALLIANCE_COLUMNS]
    extra = [MODALITY] if MODALITY in wide.columns else []
    wide = wide[[unit, *[c for c in meta_cols if c != _P], _P, _S, *value_cols, *extra]]
    wide = wide.sort_values([unit, _S], kind="stable", ignore_index=True)
    if center:
        for c in value_cols:
            between = wide.groupby(unit)[c].transform("mean")
            wide[f"{c}_between"] = between
            wide[f"{c}_within"] = wide[c] - between
    wide[_S] = wide[_S].astype(np.int64) if wide[_S].notna().all() else wide[_S]
    return wide
