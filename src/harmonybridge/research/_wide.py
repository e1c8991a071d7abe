"""The wide layout (one row per respondent x session) and its labels, for SPSS.

Labels carry instrument wording only where the instrument's licence lets the
repository ship it (class A); otherwise variables are labelled by item number
and answers carry no value labels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from harmonybridge import schema
from harmonybridge.instruments import Instrument
from harmonybridge.research._prepare import DAY, Prepared

#: Row key and descriptive columns of the wide layout, in order.
KEY_COLUMNS = (schema.ENGAGEMENT_ID, schema.SESSION, schema.RESPONDENT_ID,
               schema.CLIENT_ID, schema.PRACTITIONER_ID, schema.RATER_ROLE, DAY)  # fmt: skip
KEY_LABELS = {
    schema.ENGAGEMENT_ID: "Engagement (pseudonym)",
    schema.SESSION: "Session number within the engagement (0 = baseline)",
    schema.RESPONDENT_ID: "Respondent (pseudonym of the client or practitioner)",
    schema.CLIENT_ID: "Client (pseudonym)",
    schema.PRACTITIONER_ID: "Practitioner (pseudonym; 'other' = pooled, fewer than k clients)",
    schema.RATER_ROLE: "Rater role (client or practitioner)",
    DAY: "Days since the engagement's start",
}


#: The user-missing code of the wide variables (declared missing in the ``.sav``, so
#: SPSS, pyreadstat and haven read it as missing). pyreadstat checks system-missing
#: values cell by cell in Python, which made it the slowest part of the export.
SAV_MISSING = -999.0


@dataclass(frozen=True)
class Variable:
    """One wide variable: its name, label, source and allowed values."""

    name: str
    label: str
    instrument: Instrument
    item: int | None  # None for a score
    subscale: str = ""
    value_labels: tuple[tuple[int, str], ...] = ()

    @property
    def allowed(self) -> tuple[int, ...]:
        """Allowed raw answers (an item's scale), empty for a score."""
        if self.item is None:
            return ()
        return self.instrument.scales[self.instrument.item(self.item).scale].values


def variables(insts: tuple[Instrument, ...]) -> list[Variable]:
    """Return the wide variables of the project's instruments (private ones left out)."""
    out = []
    for inst in insts:
        wording = inst.licence.ships_wording
        lang = inst.languages[0]
        for it in inst.items:
            if it.private:
                continue
            text = it.text.get(lang) or it.free_text_label
            label = f"{inst.short_title} item {it.number}"
            if wording and text:
                label = f"{label}: {text}"
            labels = inst.scales[it.scale].option_labels(lang) if wording else ()
            out.append(Variable(f"{inst.id}_{it.number}", label, inst, it.number,
                                value_labels=tuple(labels)))  # fmt: skip
        names = ([""] if inst.total.method != "none" else []) + [*inst.subscales,
                                                                  *inst.derived_items]  # fmt: skip
        for sub in names:
            if sub in inst.private_scores:
                continue
            what = f"{sub} score" if sub else "total score"
            out.append(Variable(f"{inst.id}_{sub or 'total'}",
                                f"{inst.short_title} {what}", inst, None, sub))  # fmt: skip
    return out


def wide_frame(prepared: Prepared, wide_vars: list[Variable]) -> pd.DataFrame:
    """Return one row per (engagement, session, respondent) with a column per variable.

    A variable without a value holds :data:`SAV_MISSING`.
    """
    items, scores = prepared.items, prepared.scores
    common = {}
    for col in (schema.ENGAGEMENT_ID, schema.RESPONDENT_ID):
        cats = np.union1d(items[col].cat.categories, scores[col].cat.categories)
        common[col] = cats

    def keys(frame: pd.DataFrame) -> np.ndarray:
        eng = (
            frame[schema.ENGAGEMENT_ID]
            .cat.set_categories(common[schema.ENGAGEMENT_ID])
            .cat.codes
        )
        resp = (
            frame[schema.RESPONDENT_ID]
            .cat.set_categories(common[schema.RESPONDENT_ID])
            .cat.codes
        )
        n_resp = len(common[schema.RESPONDENT_ID]) + 1
        return (
            eng.to_numpy(np.int64) * 10_000 + frame[schema.SESSION].to_numpy(np.int64)
        ) * n_resp + resp.to_numpy(np.int64)

    k_items, k_scores = keys(items), keys(scores)
    all_keys = np.concatenate([k_items, k_scores])
    uniq, first, inverse = np.unique(all_keys, return_index=True, return_inverse=True)
    from_items = first < len(items)
    out = {}
    for col in KEY_COLUMNS:
        values = np.empty(
            len(uniq), dtype=object if col not in (schema.SESSION, DAY) else np.int64
        )
        values[from_items] = items[col].iloc[first[from_items]].to_numpy()
        values[~from_items] = (
            scores[col].iloc[first[~from_items] - len(items)].to_numpy()
        )
        out[col] = values
    matrix = np.full((len(uniq), len(wide_vars)), np.nan)
    position: dict[tuple[str, object], int] = {
        (v.instrument.id, v.item if v.item is not None else v.subscale): j
        for j, v in enumerate(wide_vars)
    }
    _fill(matrix, inverse[: len(items)], items, schema.ITEM, position)
    _fill(matrix, inverse[len(items) :], scores, schema.SUBSCALE, position)
    matrix[np.isnan(matrix)] = SAV_MISSING
    # the value block stays the one matrix (no copy); key columns are inserted beside it
    frame = pd.DataFrame(matrix, columns=[v.name for v in wide_vars], copy=False)
    for position_, col in enumerate(KEY_COLUMNS):
        frame.insert(position_, col, out[col])
    return frame


def _fill(matrix: np.ndarray, rows: np.ndarray, frame: pd.DataFrame, part: str,
          position: dict[tuple[str, object], int]) -> None:  # fmt: skip
    """Put each row's value in its variable's column (via category codes, no strings)."""
    inst = frame[schema.INSTRUMENT]
    if part == schema.ITEM:
        sub_codes, sub_values = frame[part].to_numpy(np.int64), None
        width = int(sub_codes.max()) + 1 if len(sub_codes) else 1
    else:
        sub_codes = frame[part].cat.codes.to_numpy(np.int64)
        sub_values = frame[part].cat.categories
        width = len(sub_values) + 1
    lookup = np.full(len(inst.cat.categories) * width, -1, dtype=np.int64)
    for i, name in enumerate(inst.cat.categories):
        for k in range(width):
            key = (
                str(name),
                k
                if sub_values is None
                else (str(sub_values[k]) if k < len(sub_values) else None),
            )
            lookup[i * width + k] = position.get(key, -1)
    cols = lookup[inst.cat.codes.to_numpy(np.int64) * width + sub_codes]
    ok = cols >= 0
    value = schema.VALUE if part == schema.ITEM else schema.SCORE
    matrix[rows[ok], cols[ok]] = frame[value].to_numpy(dtype=float, na_value=np.nan)[ok]


def write_sav(
    path: str, frame: pd.DataFrame, wide_vars: list[Variable], file_label: str
) -> None:
    """Write the wide frame as SPSS ``.sav`` with variable and value labels."""
    import pyreadstat

    labels = dict(KEY_LABELS) | {v.name: v.label for v in wide_vars}
    value_labels = {v.name: {float(k): text for k, text in v.value_labels}
                    for v in wide_vars if v.value_labels}  # fmt: skip
    measure = dict.fromkeys(KEY_COLUMNS, "nominal") | {
        schema.SESSION: "scale",
        DAY: "scale",
    }
    measure |= {v.name: "ordinal" if v.item is not None else "scale" for v in wide_vars}
    pyreadstat.write_sav(
        frame, path, file_label=file_label[:64],
        column_labels=[labels[c] for c in frame.columns],
        variable_value_labels=value_labels, variable_measure=measure,
        missing_ranges={v.name: [SAV_MISSING] for v in wide_vars},
    )  # fmt: skip
