"""A planted leak for the gate tests: a backend whose "synthetic" rows are the training rows.

Not a mock of anything under test: the gate, the writers and the manifest are exercised for
real; this backend stands in for a generator that memorised its training data. It is a
backend of its own (numpy and parquet, no SDV), as any later synthesizer will be.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from synthdata.synthesizers.base import Synthesizer


class CopyTrain(Synthesizer):
    """Answers every sample with copies of the training rows."""

    name = "copy_train"

    def _fit(self, train: pd.DataFrame, params: Any, *, progress: bool) -> None:
        self.rows_ = train.reset_index(drop=True)

    def _sample(self, n_rows: int, seed: int) -> pd.DataFrame:
        reps = -(-n_rows // len(self.rows_))
        return pd.concat([self.rows_] * reps, ignore_index=True).iloc[:n_rows]

    def _state(self, folder: Path) -> None:
        self.rows_.to_parquet(folder / "rows.parquet")

    def _from_state(self, folder: Path, device: str) -> None:
        self.rows_ = pd.read_parquet(folder / "rows.parquet")
