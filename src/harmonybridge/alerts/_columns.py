"""Column names and small shared pieces of the alert rule evaluation."""

from __future__ import annotations

import pandas as pd

from harmonybridge import schema

E, S, R, P, INS, SUB, SC = (
    schema.ENGAGEMENT_ID,
    schema.SESSION,
    schema.RATER_ROLE,
    schema.RESPONDENT_ID,
    schema.INSTRUMENT,
    schema.SUBSCALE,
    schema.SCORE,
)
KEY = [E, S, R, P, INS]
ALERT_COLUMNS: tuple[str, ...] = (
    "rule_id",
    "rule_version",
    "severity",
    E,
    S,
    R,
    P,
    INS,
    "params",
    "evidence",
    "message",
    "suggestions",
)
EPS = 1e-9
#: One rule's result: rule id, rows (KEY + evidence columns), evidence column names.
Part = tuple[str, pd.DataFrame, list[str]]


def at_current(
    rows: pd.DataFrame, current: pd.Series | None, col: str = S
) -> pd.DataFrame:
    """Keep the rows of each engagement's current session (all rows when ``current`` is None)."""
    if current is None or rows.empty:
        return rows
    result: pd.DataFrame = rows[rows[col].to_numpy() == rows[E].map(current).to_numpy()]
    return result
