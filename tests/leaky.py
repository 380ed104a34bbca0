"""A planted leak for the gate tests: a backend whose "synthetic" rows are the training rows.

Not a mock of anything under test: the gate, the writers and the manifest are exercised for
real; this backend stands in for a generator that memorised its training data.
"""

from __future__ import annotations

import pickle
from typing import Any

import pandas as pd

from synthdata.synthesizers.gaussian_copula import GaussianCopula


class Memorizer:
    """SDV's synthesizer interface, answering every sample with copies of the training rows."""

    def fit(self, data: dict[str, pd.DataFrame]) -> None:
        self.rows = next(iter(data.values())).reset_index(drop=True)

    def reset_sampling(self) -> None:
        pass

    def _set_random_state(self, seed: int) -> None:
        self.seed = seed

    def save(self, path: str) -> None:
        with open(path, "wb") as fh:
            pickle.dump(self, fh)

    def sample(self, num_rows: int) -> pd.DataFrame:
        reps = -(-num_rows // len(self.rows))
        return pd.concat([self.rows] * reps, ignore_index=True).iloc[:num_rows]


class CopyTrain(GaussianCopula):
    name = "copy_train"

    def _make_model(self, metadata: Any, params: dict[str, Any], device: str) -> Any:
        return Memorizer()
