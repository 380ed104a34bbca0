"""Seeded, target-stratified train/holdout split (done before any fitting)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from synthdata.schema import ColumnKind, Schema

__all__ = ["split"]


def split(
    df: pd.DataFrame, schema: Schema, *, holdout: float | None = None, seed: int = 0
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split ``df`` into ``(train, holdout)``; the holdout is never shown to a synthesizer.

    Stratified on the schema's target when it is categorical-like and ``split.stratify`` is on:
    each class keeps its share in both parts (missing target values form their own stratum).
    Both parts keep a fresh ``RangeIndex``; row order within each part follows the input.
    """
    fraction = schema.split.holdout if holdout is None else holdout
    rng = np.random.default_rng(seed)
    n = len(df)
    target = schema.target
    stratify = (
        schema.split.stratify
        and target is not None
        and schema.columns[target].kind != ColumnKind.numerical
        and df[target].nunique(dropna=False) <= max(50, n // 20)
    )
    if stratify:
        keys = df[target].astype(object).where(df[target].notna(), "__missing__").astype(str)
        groups = sorted(pd.Series(np.arange(n)).groupby(keys.to_numpy()).groups.items())
        sizes = np.array([len(positions) for _, positions in groups])
        quotas = _allocate(sizes, _share(n, fraction))
        picked = [
            rng.choice(np.asarray(positions), size=k, replace=False)
            for (_, positions), k in zip(groups, quotas, strict=True)
        ]
        holdout_pos = np.sort(np.concatenate(picked)) if picked else np.array([], dtype=int)
    else:
        holdout_pos = np.sort(rng.choice(n, size=_share(n, fraction), replace=False))
    mask = np.zeros(n, dtype=bool)
    mask[holdout_pos] = True
    train = df.iloc[~mask].reset_index(drop=True)
    held = df.iloc[mask].reset_index(drop=True)
    return train, held


def _share(n: int, fraction: float) -> int:
    """Holdout rows out of ``n``: at least one, and at least one left to train."""
    if n < 2:
        return 0
    return min(max(1, math.floor(n * fraction + 0.5)), n - 1)


def _allocate(sizes: np.ndarray, total: int) -> np.ndarray:
    """Split ``total`` holdout rows over strata in proportion to their sizes.

    Largest remainders, so the holdout is exactly ``total`` rows and the fraction asked for
    holds even with many small classes; every stratum keeps at least one training row.
    """
    exact = sizes * (total / sizes.sum())
    quotas = np.minimum(np.floor(exact).astype(int), np.maximum(sizes - 1, 0))
    order = np.argsort(-(exact - quotas), kind="stable")
    for i in order:
        if quotas.sum() >= total:
            break
        if quotas[i] < sizes[i] - 1:
            quotas[i] += 1
    return quotas
