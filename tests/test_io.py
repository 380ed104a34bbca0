from __future__ import annotations

import pandas as pd
import pytest

from synthdata.errors import DataError
from synthdata.io import atomic_dir, read_table


def test_csv_parquet_and_dataframe_read_the_same(tmp_path, small_raw, small_csv, schema):
    typed_df = read_table(small_raw, schema)
    typed_csv = read_table(small_csv, schema)
    pq = tmp_path / "t.parquet"
    read_table(small_csv, schema).to_parquet(pq)
    typed_pq = read_table(pq, schema)
    pd.testing.assert_frame_equal(typed_csv, typed_df)
    pd.testing.assert_frame_equal(typed_pq, typed_csv)


def test_unsupported_and_corrupt_files(tmp_path, schema):
    xlsx = tmp_path / "t.xlsx"
    xlsx.write_bytes(b"PK\x03\x04")
    with pytest.raises(DataError, match="expected a .csv or .parquet file, found suffix '.xlsx'"):
        read_table(xlsx, schema)
    bad = tmp_path / "t.parquet"
    bad.write_bytes(b"not parquet")
    with pytest.raises(DataError, match="not a readable Parquet file"):
        read_table(bad, schema)


def test_atomic_dir_replaces_only_on_success(tmp_path):
    target = tmp_path / "model"
    with atomic_dir(target) as tmp:
        (tmp / "a.txt").write_text("one")
    with pytest.raises(RuntimeError), atomic_dir(target) as tmp:
        (tmp / "a.txt").write_text("two")
        raise RuntimeError("interrupted")
    assert (target / "a.txt").read_text() == "one"
    assert [p.name for p in tmp_path.iterdir()] == ["model"]
