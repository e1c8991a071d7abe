"""Vectorised scoring of many questionnaires given as an item-level long frame."""

from __future__ import annotations

import pandas as pd

from harmonybridge import schema
from harmonybridge.instruments._loader import get


def score_frame(items: pd.DataFrame) -> pd.DataFrame:
    """Score every ``response_id`` (temporary row-wise implementation)."""
    schema.validate_long(
        items, required=(schema.RESPONSE_ID, schema.INSTRUMENT, schema.ITEM, schema.VALUE),
        numeric=(schema.ITEM, schema.VALUE), unique=(schema.RESPONSE_ID, schema.ITEM),
        name="items",
    )  # fmt: skip
    rows = []
    for rid, grp in items.groupby(schema.RESPONSE_ID, sort=False):
        inst = get(grp[schema.INSTRUMENT].iloc[0])
        res = inst.score(dict(zip(grp[schema.ITEM], grp[schema.VALUE], strict=True)))
        row = {schema.RESPONSE_ID: rid, schema.INSTRUMENT: inst.id, "total": res.total}
        row.update(res.subscales)
        row.update(res.derived)
        row.update(n_missing=res.n_missing, prorated=res.prorated, band=res.band,
                   safety=res.has_safety_flag)  # fmt: skip
        rows.append(row)
    return pd.DataFrame(rows)
