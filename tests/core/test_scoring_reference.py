"""The CLI scores the hand-worked reference cases in tests/core/reference/scoring/."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pytest

from harmonybridge.cli import main

REFERENCE = Path(__file__).parent / "reference" / "scoring"


@pytest.mark.parametrize("instrument", ["phq9", "wai_sr"])
def test_cli_matches_hand_worked_reference(capsys, instrument):
    # expected values: hand calculations written out in reference/scoring/README.md
    code = main(["score", instrument, str(REFERENCE / f"{instrument}_items.csv")])
    out = capsys.readouterr().out
    assert code == 0
    got = pd.read_csv(io.StringIO(out))
    expected = pd.read_csv(REFERENCE / f"{instrument}_expected.csv")
    pd.testing.assert_frame_equal(got, expected, check_exact=True)
