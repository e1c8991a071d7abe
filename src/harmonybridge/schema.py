"""The canonical long (tidy) data format shared by every core function.

Column names are defined once here; functions take keyword arguments naming
other columns, defaulting to these.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from harmonybridge.errors import DataValidationError

if (
    TYPE_CHECKING
):  # pandas is imported where a frame is checked, not by the CLI's parser
    import pandas as pd

CLIENT_ID = "client_id"
ENGAGEMENT_ID = "engagement_id"
PRACTITIONER_ID = "practitioner_id"
SESSION = "session"
DATE = "date"
RATER_ROLE = "rater_role"
RESPONDENT_ID = "respondent_id"
INSTRUMENT = "instrument"
RESPONSE_ID = "response_id"
ITEM = "item"
VALUE = "value"
SCORE = "score"
SUBSCALE = "subscale"

COLUMNS: tuple[str, ...] = (
    CLIENT_ID,
    ENGAGEMENT_ID,
    PRACTITIONER_ID,
    SESSION,
    DATE,
    RATER_ROLE,
    RESPONDENT_ID,
    INSTRUMENT,
    RESPONSE_ID,
    ITEM,
    VALUE,
    SCORE,
    SUBSCALE,
)

#: The canonical series key: one respondent's scores on one instrument (and
#: subscale) within one engagement.
SERIES_KEY: tuple[str, ...] = (ENGAGEMENT_ID, RESPONDENT_ID, INSTRUMENT, SUBSCALE)

RATER_ROLES: tuple[str, ...] = ("client", "practitioner", "observer")

#: Reliable-change categories, best to worst (an ordered Categorical in outputs).
CHANGE_CATEGORIES: tuple[str, ...] = (
    "recovered",
    "improved",
    "unchanged",
    "deteriorated",
    "harmed",
)


def as_key_list(id: str | Sequence[str]) -> list[str]:
    """Return the series key as a list of column names."""
    if isinstance(id, str):
        return [id]
    keys = list(id)
    if not keys or not all(isinstance(k, str) for k in keys):
        raise DataValidationError(
            f"id must be a column name or a list of column names, got {id!r}"
        )
    return keys


def validate_long(
    data: object,
    *,
    required: Iterable[str],
    numeric: Iterable[str] = (),
    unique: Sequence[str] | None = None,
    name: str = "data",
) -> pd.DataFrame:
    """Check a long frame and return it (never a copy the caller must keep).

    Parameters
    ----------
    data : pandas.DataFrame
        The frame to check.
    required : iterable of str
        Columns that must be present.
    numeric : iterable of str
        Columns that must hold numbers (missing values allowed).
    unique : sequence of str, optional
        Columns whose combination must not repeat (the unique key).
    name : str
        How to call the frame in messages.

    Returns
    -------
    pandas.DataFrame
        ``data`` itself.

    Raises
    ------
    DataValidationError
        Naming the missing column, the first non-numeric value or the first
        duplicated key, and saying what is allowed.
    """
    import pandas as pd

    if not isinstance(data, pd.DataFrame):
        raise DataValidationError(
            f"{name} must be a pandas DataFrame in long format, got {type(data).__name__}"
        )
    missing = [c for c in required if c not in data.columns]
    if missing:
        have = ", ".join(map(str, data.columns[:12]))
        raise DataValidationError(
            f"{name} has no column {missing[0]!r} (columns present: {have}); "
            "name the right column with the matching keyword argument"
        )
    for col in numeric:
        series = data[col]
        if pd.api.types.is_bool_dtype(series) or not pd.api.types.is_numeric_dtype(
            series
        ):
            coerced = pd.to_numeric(series, errors="coerce")
            bad = series[coerced.isna() & series.notna()]
            if len(bad) or pd.api.types.is_bool_dtype(series):
                value = bad.iloc[0] if len(bad) else series.iloc[0]
                raise DataValidationError(
                    f"column {col!r} must be numeric; found {value!r} "
                    f"(row {bad.index[0] if len(bad) else series.index[0]})"
                )
    if unique:
        dup = data.duplicated(subset=list(unique), keep=False)
        if dup.any():
            first = data.loc[dup, list(unique)].iloc[0].to_dict()
            raise DataValidationError(
                f"duplicate rows for the key {list(unique)}: {first} appears more than once"
            )
    return data
