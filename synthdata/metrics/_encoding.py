"""Encodings, row sampling and models shared by the metric modules (fidelity, privacy, attacks,
bias) and by ``synthdata.balancing``: the one place where column kinds become numbers.

- :data:`NUMERIC` / :data:`CATEGORICAL`: the column kinds compared as numbers / as categories;
  :func:`scored_columns`: the columns whose distributions are scored at all.
- :func:`sdmetrics_metadata` / :func:`for_sdmetrics`: the metadata and the tables sdmetrics is
  given.
- :func:`as_number`: numbers and dates (as nanoseconds) as floats, missing as NaN.
- :func:`features` and :func:`hgb_classifier`: the classifiers' encoding (floats, shared
  category codes) and model (HistGradientBoosting with native categories).
- :class:`MixedEncoder`: the distance encoding of the privacy metrics and attacks.
- :func:`subsample`: at most ``n`` rows, in table order.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from synthdata.schema import SDTYPES as SCHEMA_SDTYPES
from synthdata.schema import ColumnKind, Schema

__all__ = [
    "CATEGORICAL",
    "NUMERIC",
    "MixedEncoder",
    "as_number",
    "features",
    "for_sdmetrics",
    "hgb_classifier",
    "scored_columns",
    "sdmetrics_metadata",
    "subsample",
]

# the kinds whose distributions are compared (ids, PII and free text are not)
SDTYPES = {kind: sdtype for kind, sdtype in SCHEMA_SDTYPES.items() if kind != ColumnKind.id}
NUMERIC = (ColumnKind.numerical, ColumnKind.integer, ColumnKind.datetime)
CATEGORICAL = (ColumnKind.categorical, ColumnKind.ordinal, ColumnKind.boolean)


def scored_columns(schema: Schema) -> list[str]:
    """Columns whose distributions are compared (ids, PII and free text are not)."""
    return [name for name, col in schema.columns.items() if col.kind in SDTYPES]


# ---- sdmetrics -------------------------------------------------------------------------------
def sdmetrics_metadata(schema: Schema) -> dict[str, Any]:
    return {"columns": {c: {"sdtype": SDTYPES[schema.columns[c].kind]}
                        for c in scored_columns(schema)}}


def for_sdmetrics(df: pd.DataFrame, schema: Schema) -> pd.DataFrame:
    out = {}
    for c in scored_columns(schema):
        kind = schema.columns[c].kind
        if kind in (ColumnKind.numerical, ColumnKind.integer):
            out[c] = pd.to_numeric(df[c], errors="coerce").astype("float64")
        elif kind == ColumnKind.boolean:
            out[c] = df[c].astype(object).where(df[c].notna(), None)
        else:
            out[c] = df[c]
    return pd.DataFrame(out)


# ---- numbers ---------------------------------------------------------------------------------
def as_number(series: pd.Series) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(series):
        return series.astype("int64").where(series.notna()).astype("float64")
    return pd.to_numeric(series, errors="coerce").astype("float64")


# ---- features for the classifiers ------------------------------------------------------------
def features(frames: list[pd.DataFrame], columns: list[str], schema: Schema
             ) -> tuple[list[pd.DataFrame], list[bool]]:
    """Encode frames alike: numbers and dates as floats, categories as shared integer codes."""
    encoded: list[dict[str, np.ndarray]] = [{} for _ in frames]
    is_cat = []
    for c in columns:
        kind = schema.columns[c].kind
        if kind in NUMERIC:
            for enc, df in zip(encoded, frames, strict=True):
                enc[c] = as_number(df[c]).to_numpy()
            is_cat.append(False)
            continue
        texts = [df[c].astype(object).where(df[c].notna(), None) for df in frames]
        levels = sorted({str(v) for t in texts for v in t.dropna()})
        codes = {v: i for i, v in enumerate(levels)}
        for enc, t in zip(encoded, texts, strict=True):
            enc[c] = np.array([codes[str(v)] if v is not None else np.nan for v in t],
                              dtype="float64")
        # HistGradientBoosting takes at most 255 categories natively; beyond, codes are ordinal
        is_cat.append(len(levels) <= 250)
    return [pd.DataFrame(e, columns=columns) for e in encoded], is_cat


def hgb_classifier(is_cat: list[bool], seed: int):  # type: ignore[no-untyped-def]
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(
        categorical_features=np.array(is_cat, dtype=bool) if any(is_cat) else None,
        max_iter=100, learning_rate=0.1, random_state=seed,
    )


# ---- distances -------------------------------------------------------------------------------
@dataclass
class MixedEncoder:
    """Range-normalised numbers (+ missing indicator) and scaled one-hot categories."""

    columns: list[str]
    schema: Schema

    def fit(self, train: pd.DataFrame) -> MixedEncoder:
        self.numeric_: dict[str, tuple[float, float]] = {}
        self.levels_: dict[str, dict[str, int]] = {}
        for c in self.columns:
            if self.schema.columns[c].kind in NUMERIC:
                values = as_number(train[c]).dropna()
                low = float(values.min()) if len(values) else 0.0
                high = float(values.max()) if len(values) else 1.0
                self.numeric_[c] = (low, high - low if high > low else 1.0)
            else:
                levels = sorted(set(train[c].dropna().astype(str)))
                self.levels_[c] = {v: i for i, v in enumerate(levels)}
        return self

    def transform(self, df: pd.DataFrame) -> np.ndarray:
        blocks = []
        for c in self.columns:
            if c in self.numeric_:
                low, span = self.numeric_[c]
                values = ((as_number(df[c]) - low) / span).to_numpy(dtype="float64")
                missing = np.isnan(values)
                blocks.append(np.where(missing, 0.0, values)[:, None])
                blocks.append(missing.astype("float64")[:, None])
            else:
                levels = self.levels_[c]
                # one slot per train category, one for missing, one for anything unseen
                width = len(levels) + 2
                text = df[c].astype(object)
                index = np.array(
                    [width - 2 if v is None or (isinstance(v, float) and math.isnan(v))
                     or v is pd.NA else levels.get(str(v), width - 1) for v in text],
                    dtype=int,
                )
                block = np.zeros((len(df), width))
                block[np.arange(len(df)), index] = 1.0 / math.sqrt(2.0)
                blocks.append(block)
        if not blocks:
            return np.zeros((len(df), 1), dtype="float32")
        return np.hstack(blocks).astype("float32")


# ---- rows ------------------------------------------------------------------------------------
def subsample(df: pd.DataFrame, n: int, rng: np.random.Generator) -> pd.DataFrame:
    """``n`` rows drawn without replacement, in table order; the table itself when it is no
    larger (then ``rng`` is not used)."""
    if len(df) <= n:
        return df
    return df.iloc[np.sort(rng.choice(len(df), n, replace=False))]
