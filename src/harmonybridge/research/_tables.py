"""Long tidy CSV and Parquet entries of the export zip, written chunk by chunk.

Each chunk becomes an Arrow table once and is written to both formats: the CSV
streams straight into its zip entry, the Parquet goes to a temporary file (a zip
takes one open entry at a time) that is stored in the zip afterwards.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import pandas as pd


def chunks(frame: pd.DataFrame, rows: int) -> list[tuple[int, int]]:
    """Return ``(start, stop)`` row ranges of at most ``rows`` rows."""
    return [
        (start, min(start + rows, len(frame))) for start in range(0, len(frame), rows)
    ]


def write_tables(zf: zipfile.ZipFile, stem: str, frame: pd.DataFrame, rows: int,
                 work: Path) -> None:  # fmt: skip
    """Write ``<stem>.csv`` and ``<stem>.parquet`` of ``frame`` into the zip.

    CSV: UTF-8, header row, missing values empty, no quoting (every exported
    string is a pseudonym or a name from an instrument definition, so none
    holds a comma, quote or line break; Arrow refuses to write one that does).
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    schema = pa.Schema.from_pandas(frame.iloc[:0], preserve_index=False)
    parquet = work / f"{stem}.parquet"
    options = pacsv.WriteOptions(quoting_style="none")
    with (
        zf.open(f"{stem}.csv", "w", force_zip64=True) as raw,
        pacsv.CSVWriter(raw, schema, write_options=options) as csv_writer,
        pq.ParquetWriter(parquet, schema) as parquet_writer,
    ):
        for start, stop in chunks(frame, rows):
            part = pa.Table.from_pandas(frame.iloc[start:stop], schema=schema,
                                        preserve_index=False)  # fmt: skip
            csv_writer.write_table(part)
            parquet_writer.write_table(part)
    zf.write(parquet, f"{stem}.parquet", compress_type=zipfile.ZIP_STORED)
    parquet.unlink()
