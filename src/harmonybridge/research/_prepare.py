"""Turn canonical long frames into the export's rows: select, pool, pseudonymise, shift.

Only the allow-listed columns survive (:data:`ITEM_COLUMNS`, :data:`SCORE_COLUMNS`):
names, contacts, notes, free text and any other column never reach a writer.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from harmonybridge import instruments, schema
from harmonybridge.instruments import Instrument
from harmonybridge.research._project import ResearchExportError, ResearchProject
from harmonybridge.research._pseudonyms import pseudonymise

DAY = "day"
_IDS = (schema.CLIENT_ID, schema.ENGAGEMENT_ID, schema.PRACTITIONER_ID)
_KEYS = (*_IDS, schema.SESSION, DAY, schema.RATER_ROLE, schema.RESPONDENT_ID,
         schema.INSTRUMENT, schema.RESPONSE_ID)  # fmt: skip
#: The columns of the item-level export, in order (the canonical ones, ``day`` for ``date``).
ITEM_COLUMNS: tuple[str, ...] = (*_KEYS, schema.ITEM, schema.VALUE)
#: The columns of the score-level export, in order.
SCORE_COLUMNS: tuple[str, ...] = (*_KEYS, schema.SUBSCALE, schema.SCORE)
_DOMAINS = {
    schema.CLIENT_ID: "person", schema.RESPONDENT_ID: "person",
    schema.PRACTITIONER_ID: "person", schema.ENGAGEMENT_ID: "engagement",
    schema.RESPONSE_ID: "response",
}  # fmt: skip


@dataclass
class Prepared:
    """The export's rows and what was left out (counts only)."""

    items: pd.DataFrame
    scores: pd.DataFrame
    instruments: tuple[Instrument, ...]
    counts: dict[str, int] = field(default_factory=dict)
    left_out: Counter[str] = field(default_factory=Counter)
    columns_not_exported: tuple[str, ...] = ()


def prepare(
    items: pd.DataFrame,
    scores: pd.DataFrame,
    project: ResearchProject,
    *,
    engagement_starts: Mapping[object, object] | pd.Series | None = None,
) -> Prepared:
    """Select, pool, pseudonymise and time-shift the rows of one export."""
    base = [c for c in ITEM_COLUMNS if c not in (DAY,)] + [schema.DATE]
    schema.validate_long(items, required=[c for c in base if c != DAY],
                         numeric=[schema.SESSION, schema.ITEM, schema.VALUE], name="items")  # fmt: skip
    need = [c for c in SCORE_COLUMNS if c not in (DAY, schema.RESPONSE_ID)] + [
        schema.DATE
    ]
    schema.validate_long(scores, required=need, numeric=[schema.SESSION, schema.SCORE],
                         name="scores")  # fmt: skip
    allowed = set(ITEM_COLUMNS) | set(SCORE_COLUMNS) | {schema.DATE}
    hidden = tuple(
        sorted(str(c) for c in (set(items.columns) | set(scores.columns)) - allowed)
    )
    out = Prepared(items=items, scores=scores, columns_not_exported=hidden,
                   instruments=tuple(instruments.get(i) for i in project.instruments))  # fmt: skip
    starts = _starts(items, scores, engagement_starts)
    item_rows = _select(items, project, out, "items")
    score_rows = _select(scores, project, out, "scores")
    _check_enough(item_rows, score_rows, project)
    if schema.RESPONSE_ID not in score_rows.columns:
        ids = _response_ids(score_rows, item_rows)
        score_rows = score_rows.assign(**{schema.RESPONSE_ID: ids})
    pooled = _pooled_practitioners(item_rows, score_rows, project.k)
    cache: dict[tuple[str, str], str] = {}  # each id hashed once per export
    out.items = _pseudonymised(item_rows, starts, project, pooled, ITEM_COLUMNS, cache)
    out.scores = _pseudonymised(
        score_rows, starts, project, pooled, SCORE_COLUMNS, cache
    )
    _count(out, pooled)
    return out


def _fail(reason: str, message: str) -> ResearchExportError:
    return ResearchExportError(reason, message)


def _dates(frame: pd.DataFrame, name: str) -> pd.Series:
    raw = frame[schema.DATE]
    iso = None if pd.api.types.is_datetime64_any_dtype(raw) else "ISO8601"
    dates = pd.to_datetime(raw, errors="coerce", format=iso)
    bad = dates.isna() & raw.notna()
    if bad.any():
        raise _fail("invalid_data", f"{name}: column 'date' has {raw[bad].iloc[0]!r}, "
                    "which is not a date (use YYYY-MM-DD)")  # fmt: skip
    if getattr(dates.dt, "tz", None) is not None:
        dates = dates.dt.tz_localize(None)
    return dates.dt.normalize()


def _starts(items: pd.DataFrame, scores: pd.DataFrame,
            given: Mapping[object, object] | pd.Series | None) -> pd.Series:  # fmt: skip
    """Return each engagement's start date (given, or its earliest session date)."""
    if given is not None:
        series = pd.Series(given)
        return pd.to_datetime(series, errors="raise").dt.normalize().rename(None)
    per_frame = []
    for frame, name in ((items, "items"), (scores, "scores")):
        codes, uniques = pd.factorize(frame[schema.ENGAGEMENT_ID])
        first = pd.Series(_dates(frame, name).to_numpy()).groupby(codes).min()
        per_frame.append(first.set_axis(pd.Index(uniques).astype(str)[first.index]))
    return pd.concat(per_frame).groupby(level=0).min()


def _select(
    frame: pd.DataFrame, project: ResearchProject, out: Prepared, name: str
) -> pd.DataFrame:
    """Keep the project's instruments in its period, without private items or scores."""
    dates = _dates(frame, name)
    roles = set(pd.unique(frame[schema.RATER_ROLE].dropna()))
    if roles - set(schema.RATER_ROLES):
        raise _fail("invalid_data", f"{name}: column 'rater_role' has "
                    f"{sorted(map(str, roles - set(schema.RATER_ROLES)))[0]!r}; "
                    f"allowed: {', '.join(schema.RATER_ROLES)}")  # fmt: skip
    lo, hi = (pd.Timestamp(d) for d in project.period)
    wanted = frame[schema.INSTRUMENT].isin(project.instruments).to_numpy()
    in_period = ((dates >= lo) & (dates <= hi)).to_numpy()
    out.left_out[f"{name} rows of instruments outside the project"] += int(
        (~wanted).sum()
    )
    out.left_out[f"{name} rows outside the period or without a date"] += int(
        (wanted & ~in_period).sum())  # fmt: skip
    keep = wanted & in_period
    private = np.zeros(len(frame), dtype=bool)
    for inst in (instruments.get(i) for i in project.instruments):
        of_inst = (frame[schema.INSTRUMENT] == inst.id).to_numpy()
        if name == "items" and inst.private_items:
            private |= (
                of_inst & frame[schema.ITEM].isin(list(inst.private_items)).to_numpy()
            )
        if name == "scores" and inst.private_scores:
            private |= of_inst & frame[schema.SUBSCALE].fillna("").isin(
                list(inst.private_scores)).to_numpy()  # fmt: skip
    out.left_out[f"{name} rows of private items (never exported)"] += int(
        (keep & private).sum()
    )
    keep &= ~private
    if name == "scores":
        missing = frame[schema.SCORE].isna().to_numpy()
        out.left_out["scores not computed (missing)"] += int((keep & missing).sum())
        keep &= ~missing
    columns = [c for c in (*ITEM_COLUMNS, *SCORE_COLUMNS) if c in frame.columns]
    columns = list(dict.fromkeys(columns))  # the allow-list: nothing else goes further
    if keep.all():  # no copy (pandas copy-on-write)
        return frame[columns].assign(**{schema.DATE: dates})
    return frame.loc[keep, columns].assign(**{schema.DATE: dates[keep]})


def _check_enough(
    items: pd.DataFrame, scores: pd.DataFrame, project: ResearchProject
) -> None:
    clients = set(pd.unique(items[schema.CLIENT_ID])) | set(
        pd.unique(scores[schema.CLIENT_ID])
    )
    if len(clients) == 0:
        raise _fail("no_consented_clients", "no consented client has data for this project's "
                    "instruments in its period; nothing was exported")  # fmt: skip
    for inst in project.instruments:
        if not (
            (items[schema.INSTRUMENT] == inst).any()
            or (scores[schema.INSTRUMENT] == inst).any()
        ):
            raise _fail("instrument_without_data", f"instrument {inst!r} has no data from "
                        f"consented clients between {project.period[0]} and "
                        f"{project.period[1]}; remove it from the project or widen the period")  # fmt: skip
    if len(clients) < project.k:
        raise _fail("too_few_clients", f"the export would have {len(clients)} clients, fewer "
                    f"than the project's minimum cell size k = {project.k}; nothing was exported")  # fmt: skip


def _joint_codes(left: pd.Series, right: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes of two columns over their common values (cheap join keys)."""
    codes, _ = pd.factorize(pd.concat([left, right], ignore_index=True))
    return codes[: len(left)], codes[len(left) :]


def _response_ids(scores: pd.DataFrame, items: pd.DataFrame) -> pd.Series:
    """Return each score's response_id, from the items of the same questionnaire."""
    # one int64 key per row, mixed radix over the codes of the four key columns
    right = np.zeros(len(items), dtype=np.int64)
    left = np.zeros(len(scores), dtype=np.int64)
    span = 1
    for col in (
        schema.ENGAGEMENT_ID,
        schema.RESPONDENT_ID,
        schema.INSTRUMENT,
        schema.SESSION,
    ):
        r, lft = _joint_codes(items[col], scores[col])
        size = int(max(r.max(initial=0), lft.max(initial=0))) + 2  # -1 (missing) -> 0
        span *= size
        if span >= 2**62:
            raise _fail(
                "invalid_data", "too many distinct keys to join scores to responses"
            )
        right, left = right * size + (r + 1), left * size + (lft + 1)
    keys, first = np.unique(right, return_index=True)  # first item row of each response
    pos = np.minimum(np.searchsorted(keys, left), max(len(keys) - 1, 0))
    found = keys[pos] == left if len(keys) else np.zeros(len(left), dtype=bool)
    row = first[pos] if len(keys) else np.zeros(len(left), dtype=np.int64)
    taken = items[schema.RESPONSE_ID].iloc[np.where(found, row, 0)]
    taken = taken.reset_index(drop=True)
    if pd.api.types.is_integer_dtype(taken):
        taken = taken.astype(
            "Int64"
        )  # missing stays missing, and 7 stays "7", not "7.0"
    return taken.where(pd.Series(found), None).set_axis(scores.index)


def _pooled_practitioners(
    items: pd.DataFrame, scores: pd.DataFrame, k: int
) -> frozenset[str]:
    """Practitioners with fewer than k clients, plus the smallest others until the pool has k."""
    pair_cols = [schema.PRACTITIONER_ID, schema.CLIENT_ID]
    pairs = pd.concat([f[pair_cols].drop_duplicates() for f in (items, scores)])
    pairs = pairs.astype(str).drop_duplicates()
    per = (
        pairs.groupby(schema.PRACTITIONER_ID)[schema.CLIENT_ID]
        .nunique()
        .sort_values(kind="stable")
    )
    pooled = [p for p, n in per.items() if n < k]
    if pooled:
        for p in per.index[len(pooled) :]:
            if (
                pairs[pairs[schema.PRACTITIONER_ID].isin(pooled)][
                    schema.CLIENT_ID
                ].nunique()
                >= k
            ):
                break
            pooled.append(p)
    return frozenset(str(p) for p in pooled)


def _pseudonymised(frame: pd.DataFrame, starts: pd.Series, project: ResearchProject,
                   pooled: frozenset[str], columns: tuple[str, ...],
                   cache: dict[tuple[str, str], str]) -> pd.DataFrame:  # fmt: skip
    codes, uniques = pd.factorize(frame[schema.ENGAGEMENT_ID])
    engagements = pd.Index(uniques).astype(str)
    start = starts.reindex(engagements).to_numpy(dtype="datetime64[ns]")
    if np.isnat(start).any():
        raise _fail(
            "invalid_data", "an engagement has no start date; give engagement_starts"
        )
    day = (
        frame[schema.DATE].to_numpy(dtype="datetime64[ns]") - start[codes]
    ) // np.timedelta64(1, "D")
    data: dict[str, object] = {}
    for col in columns:
        if col == DAY:
            data[col] = day.astype(np.int32)
        elif col in _DOMAINS:
            pool = (
                pooled
                if col in (schema.PRACTITIONER_ID, schema.RESPONDENT_ID)
                else frozenset()
            )
            data[col] = pseudonymise(frame[col], key=project.key, domain=_DOMAINS[col],
                                     pooled=pool, cache=cache)  # fmt: skip
        elif col in (schema.RATER_ROLE, schema.INSTRUMENT, schema.SUBSCALE):
            data[col] = pd.Categorical(frame[col].fillna("").astype(str))
        elif col in (schema.SESSION, schema.ITEM):
            data[col] = _small_int(frame[col].to_numpy(np.int64))
        elif col == schema.VALUE:
            value = frame[col].astype(float)
            whole = bool(((value % 1 == 0) | value.isna()).all())
            small = whole and bool((value.abs() < 2**31).all())
            data[col] = value.astype("Int32") if small else value.to_numpy()
        else:
            data[col] = frame[col].astype(float).to_numpy()
    out = pd.DataFrame(data)
    last = schema.ITEM if schema.ITEM in columns else schema.SUBSCALE
    order = np.lexsort([np.asarray(out[c].cat.codes if isinstance(out[c].dtype, pd.CategoricalDtype)
                                   else out[c]) for c in (last, schema.INSTRUMENT, schema.RESPONDENT_ID,
                                                          schema.SESSION, schema.ENGAGEMENT_ID)])  # fmt: skip
    return out.iloc[order].reset_index(drop=True)


def _small_int(values: np.ndarray) -> np.ndarray:
    """The narrowest of int16/int32/int64 that holds ``values`` (memory per row)."""
    for dtype in (np.int16, np.int32):
        info = np.iinfo(dtype)
        if not len(values) or (values.min() >= info.min and values.max() <= info.max):
            return values.astype(dtype)
    return values


def _count(out: Prepared, pooled: frozenset[str]) -> None:
    def distinct(col: str) -> int:
        values = [f[col].cat.categories for f in (out.items, out.scores)]
        return len(values[0].union(values[1]))

    out.counts = {
        "clients": distinct(schema.CLIENT_ID),
        "engagements": distinct(schema.ENGAGEMENT_ID),
        "practitioners": distinct(schema.PRACTITIONER_ID),
        "practitioners pooled as 'other'": len(pooled),
        "responses": len(out.items[schema.RESPONSE_ID].cat.categories),
        "item rows": len(out.items),
        "score rows": len(out.scores),
    }


__all__ = ["DAY", "ITEM_COLUMNS", "SCORE_COLUMNS", "Prepared", "prepare"]
