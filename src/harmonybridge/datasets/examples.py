"""A small example score file shipped with the package (for the CLI, docs and doctests).

Regenerate it after a change to the generator with
``python -m harmonybridge.datasets.examples``.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd

from harmonybridge.datasets.practice import simulate_practice

#: The arguments that produced ``example_scores.csv``.
EXAMPLE_ARGS: dict[str, Any] = {
    "n_practitioners": 2,
    "n_clients": 10,
    "n_sessions": 8,
    "seed": 0,
}
_TEXT = (
    "client_id",
    "engagement_id",
    "practitioner_id",
    "rater_role",
    "respondent_id",
    "instrument",
    "subscale",
)


def example_scores_path() -> Path:
    """Return the path of the example canonical score CSV.

    Returns
    -------
    pathlib.Path
        ``example_scores.csv``: ``simulate_practice(**EXAMPLE_ARGS).scores``, two
        practitioners, ten clients (one per planted story kind, a family of three).

    Examples
    --------
    >>> example_scores_path().name
    'example_scores.csv'
    """
    return Path(str(resources.files("harmonybridge.datasets") / "example_scores.csv"))


def load_example_scores() -> pd.DataFrame:
    """Return the example score CSV as a canonical score frame.

    Returns
    -------
    pandas.DataFrame
        Equal to ``simulate_practice(**EXAMPLE_ARGS).scores``.

    Examples
    --------
    >>> load_example_scores()["engagement_id"].nunique()
    8
    """
    frame = pd.read_csv(
        example_scores_path(),
        dtype=dict.fromkeys(_TEXT, "str"),
        keep_default_na=False,
        na_values={"score": [""]},
        parse_dates=["date"],
    )
    return frame.astype({"date": "datetime64[ns]"})


def _write() -> Path:
    path = example_scores_path()
    simulate_practice(**EXAMPLE_ARGS).scores.to_csv(path, index=False)
    return path


if __name__ == "__main__":  # pragma: no cover
    _write()
