"""The command line's CSV reader (pyarrow) gives what pandas.read_csv gives, or one clear error."""

from __future__ import annotations

import pandas as pd
import pytest

from harmonybridge._csv import read_csv
from harmonybridge.errors import DataValidationError

_MIXED = (
    "client_id,session,score,date,note,flag\n"
    "a,1,20,2024-01-01,,true\n"
    "b,2,,2024-01-02,x,false\n"
    "007,3,NA,,n/a,true\n"
    "c,4,3.5,2024-01-04,y,\n"
)


def test_same_frame_as_pandas_read_csv(tmp_path) -> None:
    path = tmp_path / "long.csv"
    path.write_text(_MIXED)
    ours = read_csv(str(path), text=["client_id"])
    theirs = pd.read_csv(path, dtype={"client_id": str})
    pd.testing.assert_frame_equal(ours, theirs)
    # the text column keeps its leading zeros, the dates stay text
    assert ours["client_id"].tolist() == ["a", "b", "007", "c"]
    assert ours["date"].iloc[0] == "2024-01-01"


def test_text_column_that_is_absent_is_ignored(tmp_path) -> None:
    path = tmp_path / "long.csv"
    path.write_text("client_id,session,score\na,1,2\n")
    frame = read_csv(str(path), text=["subscale", "client_id"])
    assert list(frame.columns) == ["client_id", "session", "score"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "is empty"),
        (b"a,b\n1,2\n3,4,5\n", "Expected 2 columns, got 3"),
        (b"a,b\n\xff\xfe,2\n", "column 'a' is not UTF-8"),
        (b"a,a\n1,2\n", "column 'a' more than once"),
    ],
)
def test_unreadable_files_give_one_clear_error(tmp_path, content, message) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(DataValidationError, match=message) as info:
        read_csv(str(path))
    assert str(path) in str(info.value)


def test_missing_file_is_a_file_not_found_error(tmp_path) -> None:
    with pytest.raises(FileNotFoundError) as info:
        read_csv(str(tmp_path / "nope.csv"))
    assert info.value.filename == str(tmp_path / "nope.csv")  # the CLI prints it
