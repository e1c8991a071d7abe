"""Vectorised scoring of many questionnaires given as an item-level long frame.

The long frame is scattered into one dense ``responses x items`` matrix (NaN for a
missing answer) and every rule is applied with NumPy column operations, one
instrument at a time; there is no Python loop over responses.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping

import numpy as np
import pandas as pd

from harmonybridge import schema
from harmonybridge.errors import DataValidationError, HarmonyBridgeWarning
from harmonybridge.instruments._loader import get
from harmonybridge.instruments._model import Cutoff, Instrument, ScoreRule

_FIXED = (schema.RESPONSE_ID, schema.INSTRUMENT, schema.ITEM, schema.VALUE)


def _response_codes(rid: pd.Series) -> tuple[np.ndarray, pd.Index, np.ndarray | None]:
    """Return one code per row, the response ids (first appearance) and, when the
    ids are sorted, the boolean "first row of a response" marker."""
    arr = rid.to_numpy()
    if arr.dtype.kind in "iu" and len(arr) > 1 and rid.is_monotonic_increasing:
        new = np.empty(len(arr), dtype=bool)
        new[0] = True
        np.not_equal(arr[1:], arr[:-1], out=new[1:])
        starts = np.flatnonzero(new)
        sizes = np.diff(np.append(starts, len(arr)))
        codes = np.repeat(np.arange(len(starts), dtype=np.int64), sizes)
        return codes, pd.Index(arr[starts], name=schema.RESPONSE_ID), new
    if rid.isna().any():
        raise DataValidationError(f"column {schema.RESPONSE_ID!r} has missing values")
    codes, uniques = pd.factorize(rid, sort=False)
    return codes.astype(np.int64), pd.Index(uniques, name=schema.RESPONSE_ID), None


def _instrument_codes(
    col: pd.Series, registry: Mapping[str, Instrument] | None
) -> tuple[np.ndarray, list[Instrument | None]]:
    if isinstance(col.dtype, pd.CategoricalDtype):
        codes, cats = col.cat.codes.to_numpy(), list(col.cat.categories)
    else:
        codes, uniq = pd.factorize(col, sort=False)
        cats = list(uniq)
    if len(codes) and codes.min() < 0:
        raise DataValidationError(f"column {schema.INSTRUMENT!r} has missing values")
    insts: list[Instrument | None] = []
    unknown = False
    for name in cats:
        if registry is not None and name in registry:
            insts.append(registry[name])
        else:
            try:
                insts.append(get(name))
            except DataValidationError:
                insts.append(None)
                unknown = True
    if unknown:  # an unused unknown category is fine; a used one is an error
        used = np.bincount(codes, minlength=len(cats)) > 0
        for k, inst in enumerate(insts):
            if inst is None and used[k]:
                get(cats[k])
    return codes, insts


def _cell(items: pd.DataFrame, col: str, row: int) -> object:
    """The value at position ``row`` as a plain Python object (for messages)."""
    value = items[col].iloc[row]
    return value.item() if isinstance(value, np.generic) else value


def _first_bad(mask: np.ndarray) -> int:
    return int(np.flatnonzero(~mask)[0])


def _item_numbers(items: pd.DataFrame) -> np.ndarray:
    """Return the item column as integers (int8 stays int8), rejecting non-integers."""
    series = items[schema.ITEM]
    if isinstance(series.dtype, np.dtype) and series.dtype.kind in "iu":
        return series.to_numpy()
    item_f = _numeric(items, schema.ITEM)
    ok = ~np.isnan(item_f) & (item_f == np.floor(item_f))
    if not ok.all():
        row = _first_bad(ok)
        raise DataValidationError(
            f"column 'item' must hold item numbers; found {_cell(items, schema.ITEM, row)!r} "
            f"(row {items.index[row]!r})"
        )
    return item_f.astype(np.int64)


def _check_items(
    items: pd.DataFrame, inst_codes: np.ndarray, insts: list, item: np.ndarray
) -> None:
    counts = [len(i.items) if i is not None else 0 for i in insts]
    small = item.dtype.kind in "iu" and max(counts) <= np.iinfo(item.dtype).max
    n_items = np.array(counts, dtype=item.dtype if small else np.int64)
    ok = (item >= 1) & (item <= n_items[inst_codes])
    if not ok.all():
        row = _first_bad(ok)
        inst = insts[inst_codes[row]]
        raise DataValidationError(
            f"instrument {inst.id!r} has no item {_cell(items, schema.ITEM, row)!r} "
            f"(row {items.index[row]!r}); items are {', '.join(map(str, inst.item_numbers))}"
        )


def _check_values(
    inst: Instrument, block: np.ndarray, rows: np.ndarray, ctx: dict
) -> None:
    """Reject a value off its item's scale (non-integer, below min or above max)."""
    lo = np.array([[inst.scales[it.scale].min] for it in inst.items], dtype=float)
    hi = np.array([[inst.scales[it.scale].max] for it in inst.items], dtype=float)
    if block.shape[1] == 0:
        return
    # fmin/fmax skip NaN (a missing answer); only the error path builds the mask
    with np.errstate(invalid="ignore"):  # an all-missing item row reduces to NaN
        in_range = not (
            np.any(np.fmin.reduce(block, axis=1) < lo[:, 0])
            or np.any(np.fmax.reduce(block, axis=1) > hi[:, 0])
        )
        if in_range and not np.any(np.floor(block) < block):
            return
        bad = (block < lo) | (block > hi) | (np.floor(block) < block)
    j, r = (int(v[0]) for v in np.nonzero(bad))
    items, codes, item = ctx["items"], ctx["codes"], ctx["item"]
    row = int(np.flatnonzero((codes == rows[r]) & (item == j + 1))[0])
    allowed = ", ".join(map(str, inst.scales[inst.items[j].scale].values))
    raise DataValidationError(
        f"instrument {inst.id!r} item {j + 1}: value {_cell(items, schema.VALUE, row)!r} "
        f"is off the response scale (row {items.index[row]!r}); allowed: {allowed} "
        "(or empty for a missing answer)"
    )


def _numeric(items: pd.DataFrame, col: str) -> np.ndarray:
    series = items[col]
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        return series.to_numpy(dtype=np.float64, na_value=np.nan)
    schema.validate_long(items, required=(col,), numeric=(col,), name="items")
    return pd.to_numeric(series).to_numpy(dtype=np.float64, na_value=np.nan)


def _rule(
    rule: ScoreRule, filled: np.ndarray, missing: np.ndarray
) -> tuple[np.ndarray, ...]:
    """Apply one score rule (same arithmetic as score()).

    ``filled`` is the keyed item-major matrix with 0 for a missing answer and
    ``missing`` the matching int8 missing-answer indicator.
    """
    n = len(rule.items)
    first = rule.items[0] - 1
    if rule.items == tuple(range(first + 1, first + n + 1)):
        rows: slice | list[int] = slice(first, first + n)
    else:
        rows = [i - 1 for i in rule.items]
    n_ans = n - missing[rows].sum(axis=0, dtype=np.int64)
    s = filled[rows].sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        if rule.method == "sum":
            raw = np.where(n_ans < n, s * n / n_ans, s)
        else:
            raw = s / n_ans
    ok = n_ans >= rule.min_answered
    score = np.where(ok, raw * rule.multiplier + rule.offset, np.nan)
    size = filled.shape[1]
    n_missing = (n - n_ans) if rule.count_missing else np.zeros(size, dtype=np.int64)
    prorated = ok & (n_ans < n) if rule.count_missing else np.zeros(size, dtype=bool)
    return score, n_missing, prorated


_OPS = {">": np.greater, ">=": np.greater_equal, "==": np.equal,
        "<=": np.less_equal, "<": np.less}  # fmt: skip


def _compare(x: np.ndarray, op: str, v: float) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return _OPS[op](x, v)


def _column(out: dict, name: str) -> np.ndarray:
    if name not in out:
        out[name] = np.full(len(out["total"]), np.nan)
    return out[name]


def _score_block(
    inst: Instrument, raw: np.ndarray, out: dict, rows: np.ndarray
) -> None:
    """Score the responses ``rows`` of one instrument (``raw`` is a private copy)."""
    for it in inst.items:
        if it.condition is not None:
            ref, wanted = it.condition
            raw[it.number - 1, raw[ref - 1] != wanted] = np.nan
    keyed = raw
    if any(it.reverse for it in inst.items):
        keyed = raw.copy()
        for it in inst.items:
            if it.reverse:
                scale = inst.scales[it.scale]
                keyed[it.number - 1] = scale.min + scale.max - keyed[it.number - 1]
    missing = np.isnan(keyed)
    filled = keyed.copy()
    np.copyto(filled, 0.0, where=missing)
    missing = missing.view(np.int8)
    if inst.total.method != "none":
        total, n_missing, prorated = _rule(inst.total, filled, missing)
        out["total"][rows], out["n_missing"][rows], out["prorated"][rows] = (
            total,
            n_missing,
            prorated,
        )
        _bands(inst, total, out, rows)
        if inst.cutoff is not None:
            clinical = _compare(total, *_cut(inst.cutoff))
            out["clinical"][rows] = np.where(np.isnan(total), -1, clinical)
    for name, rule in inst.subscale_rules.items():
        _column(out, name)[rows] = _rule(rule, filled, missing)[0]
    for name, number in inst.derived_items.items():
        _column(out, name)[rows] = raw[number - 1]
    flag = np.zeros(len(rows), dtype=bool)
    for r in inst.safety_items:
        flag |= _compare(raw[r.item - 1], r.op, r.value)
    out["safety"][rows] = flag


def _cut(cutoff: Cutoff) -> tuple[str, float]:
    ops = {"at_or_above": ">=", "above": ">", "at_or_below": "<=", "below": "<"}
    return ops[cutoff.clinical_when], cutoff.value


def _bands(inst: Instrument, total: np.ndarray, out: dict, rows: np.ndarray) -> None:
    labels: list[str] = out["band_labels"]
    codes = np.full(len(rows), -1, dtype=np.int64)
    for band in inst.bands:
        inside = _compare(total, ">=" if band.low_inclusive else ">", band.low)
        inside &= _compare(total, "<=" if band.high_inclusive else "<", band.high)
        if band.label not in labels:
            labels.append(band.label)
        np.copyto(codes, labels.index(band.label), where=inside)
    out["band"][rows] = codes


def _carry(items: pd.DataFrame, codes: np.ndarray, n_resp: int) -> dict[str, pd.Series]:
    others = [c for c in items.columns if c not in _FIXED]
    if not others:
        return {}
    order = np.argsort(codes, kind="stable")
    starts = np.flatnonzero(np.r_[True, np.diff(codes[order]) != 0])
    first = order[starts]
    carried = {}
    for col in others:
        series = items[col].reset_index(drop=True)
        spread = series.take(first[codes]).reset_index(drop=True)
        same = (series == spread) | (series.isna() & spread.isna())
        if not bool(same.all()):
            warnings.warn(
                f"column {col!r} is not constant within each response_id; left out of the scores",
                HarmonyBridgeWarning,
                stacklevel=3,
            )
            continue
        carried[col] = series.take(first).reset_index(drop=True)
    return carried


def score_frame(
    items: pd.DataFrame,
    *,
    instruments: Mapping[str, Instrument] | None = None,
    response_id: str = schema.RESPONSE_ID,
    instrument: str = schema.INSTRUMENT,
    item: str = schema.ITEM,
    value: str = schema.VALUE,
) -> pd.DataFrame:
    """Score many questionnaires at once from an item-level long frame.

    Parameters
    ----------
    items : pandas.DataFrame
        Columns ``response_id``, ``instrument``, ``item`` (item number) and
        ``value`` (raw answer, NaN for a missing answer); one row per answered
        item. Other columns that are constant within a response are carried
        through (others are left out with a ``HarmonyBridgeWarning``).
    instruments : mapping, optional
        Instrument objects to use instead of the shipped definitions, by id
        (e.g. a SAI carrying the practice's wording and scale).
    response_id, instrument, item, value : str
        Names of those columns in ``items`` (canonical names by default); the
        output uses the canonical names.

    Returns
    -------
    pandas.DataFrame
        One row per ``response_id`` (order of first appearance): carried
        columns, ``instrument``, ``total``, one column per subscale and derived
        score of the instruments present, ``n_missing``, ``prorated``, ``band``,
        ``clinical`` (nullable boolean) and ``safety``. Values equal those of
        :meth:`Instrument.score` exactly.

    Raises
    ------
    DataValidationError
        For a missing column, an unknown instrument or item, a non-numeric
        value, a value off the scale, a duplicate (response_id, item) or a
        response that mixes instruments.

    References
    ----------
    The definitions' rules (reverse keys, score types, prorating), sources in ``docs/references.md``. Reference
    test: ``tests/core/test_scoring_frame.py`` (agreement with ``score()``).
    """
    names = {response_id: schema.RESPONSE_ID, instrument: schema.INSTRUMENT,
             item: schema.ITEM, value: schema.VALUE}  # fmt: skip
    schema.validate_long(items, required=names, name="items")
    if any(k != v for k, v in names.items()):
        clash = [c for c in items.columns if c in _FIXED and c not in names]
        if clash:
            raise DataValidationError(
                f"items has both {clash[0]!r} and a column renamed to it; drop one"
            )
        items = items.rename(columns=names)
    return _score(items, instruments)


def _score(
    items: pd.DataFrame, instruments: Mapping[str, Instrument] | None
) -> pd.DataFrame:
    codes, uniques, first_row = _response_codes(items[schema.RESPONSE_ID])
    inst_codes, insts = _instrument_codes(items[schema.INSTRUMENT], instruments)
    item = _item_numbers(items)
    value = _numeric(items, schema.VALUE)
    n_resp = len(uniques)
    if len(items) == 0:
        return _assemble(uniques, {}, [], np.zeros(0, np.int64), {}, 0)
    _check_items(items, inst_codes, insts, item)
    resp_inst = _response_instruments(items, codes, inst_codes, first_row, n_resp)
    matrix = _scatter(items, codes, item, value, insts, n_resp, first_row)
    out: dict = {
        "total": np.full(n_resp, np.nan),
        "n_missing": np.zeros(n_resp, dtype=np.int64),
        "prorated": np.zeros(n_resp, dtype=bool),
        "band": np.full(n_resp, -1, dtype=np.int64),
        "clinical": np.full(n_resp, -1, dtype=np.int8),
        "safety": np.zeros(n_resp, dtype=bool),
        "band_labels": [],
    }
    ctx = {"items": items, "codes": codes, "item": item}
    for k, inst in enumerate(insts):
        rows = np.flatnonzero(resp_inst == k)
        if inst is not None and len(rows):
            block = matrix[: len(inst.items), rows]
            _check_values(inst, block, rows, ctx)
            _score_block(inst, block, out, rows)
    carried = _carry(items, codes, n_resp)
    return _assemble(uniques, out, insts, resp_inst, carried, n_resp)


def _response_instruments(
    items: pd.DataFrame,
    codes: np.ndarray,
    inst_codes: np.ndarray,
    first_row: np.ndarray | None,
    n_resp: int,
) -> np.ndarray:
    """Return the instrument code of each response; reject a response mixing two."""
    if first_row is not None:
        resp_inst = inst_codes[first_row].astype(np.int64)
        # within a response the instrument may change only at its first row
        is_mixed = bool(np.any((inst_codes[1:] != inst_codes[:-1]) > first_row[1:]))
        mixed = None
    else:
        resp_inst = np.full(n_resp, -1, dtype=np.int64)
        resp_inst[codes] = inst_codes
        mixed = resp_inst[codes] != inst_codes
        is_mixed = bool(mixed.any())
    if is_mixed:
        if mixed is None and first_row is not None:
            mixed = np.r_[False, (inst_codes[1:] != inst_codes[:-1]) > first_row[1:]]
        row = int(np.flatnonzero(np.asarray(mixed))[0])
        raise DataValidationError(
            f"response_id {_cell(items, schema.RESPONSE_ID, row)!r} has answers for more "
            "than one instrument; each response_id is one completed questionnaire"
        )
    return resp_inst


def _scatter(
    items: pd.DataFrame,
    codes: np.ndarray,
    item: np.ndarray,
    value: np.ndarray,
    insts: list,
    n_resp: int,
    first_row: np.ndarray | None,
) -> np.ndarray:
    """Return the item-major ``items x responses`` matrix (NaN = missing).

    Rejects a duplicate (response_id, item). With sorted response ids and
    increasing item numbers within each response the check is one comparison.
    """
    width = max(len(i.items) for i in insts if i is not None)
    key = item.astype(np.int64)
    key -= 1
    key *= n_resp
    key += codes
    ordered = first_row is not None and bool(
        np.all((item[1:] > item[:-1]) | first_row[1:])
    )
    if not ordered:
        counts = np.bincount(key, minlength=n_resp * width)
        if counts.max() > 1:
            row = int(np.flatnonzero(counts[key] > 1)[0])
            raise DataValidationError(
                f"duplicate answers: response_id {_cell(items, schema.RESPONSE_ID, row)!r} "
                f"item {int(item[row])} appears more than once; one answer per item is allowed"
            )
    matrix = np.full(n_resp * width, np.nan)
    matrix[key] = value
    return matrix.reshape(width, n_resp)


def _assemble(
    uniques: pd.Index,
    out: dict,
    insts: list,
    resp_inst: np.ndarray,
    carried: dict,
    n: int,
) -> pd.DataFrame:
    ids = [i.id for i in insts if i is not None]
    cat_codes = np.array(
        [ids.index(i.id) if i is not None else -1 for i in insts] or [-1]
    )
    data: dict = {schema.RESPONSE_ID: uniques.to_numpy()}
    data.update({c: s.to_numpy() for c, s in carried.items()})
    data[schema.INSTRUMENT] = pd.Categorical.from_codes(
        cat_codes[resp_inst] if n else np.zeros(0, np.int64),
        categories=pd.Index(ids, dtype=object),
    )
    data["total"] = out.get("total", np.zeros(0))
    skip = {
        "total",
        "n_missing",
        "prorated",
        "band",
        "clinical",
        "safety",
        "band_labels",
    }
    data.update({k: v for k, v in out.items() if k not in skip})
    data["n_missing"] = out.get("n_missing", np.zeros(0, np.int64))
    data["prorated"] = out.get("prorated", np.zeros(0, bool))
    labels = out.get("band_labels", [])
    data["band"] = pd.Categorical.from_codes(
        out.get("band", np.zeros(0, np.int64)), labels
    )
    clinical = out.get("clinical", np.zeros(0, np.int8))
    data["clinical"] = pd.arrays.BooleanArray(clinical == 1, clinical < 0)
    data["safety"] = out.get("safety", np.zeros(0, bool))
    return pd.DataFrame(data)
