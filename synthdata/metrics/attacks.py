"""Re-identification attacks after Giomi et al., "A Unified Framework for Quantifying Privacy
Risk in Synthetic Data" (PoPETs 2023), the definitions behind anonymeter, written here from the
paper so that synthdata needs neither anonymeter's numpy<1.27 pin nor its licence terms.

Each attack is run three times with the same budget of ``n_attacks`` guesses:

- **main**: the attacker uses the synthetic table against the training rows;
- **control**: the same guesses against the holdout rows (never seen by the generator), which
  measures what the attacker gets from population-level patterns alone;
- **baseline**: a naive attacker who ignores the synthetic rows' specifics (random guesses);
  when the main attack does no better, the result is flagged untrustworthy.

Success rates carry 95 % Wilson score intervals. The privacy risk is
``(r_main - r_control) / (1 - r_control)``: the share of successes that only the training
rows' presence in the synthetic data explains; its interval propagates both rates' errors.

- Singling out: predicates built from synthetic rows (univariate: a value seen once or an
  extreme; multivariate: a conjunction over ``n_cols`` random columns of one synthetic row,
  kept when it isolates exactly one synthetic row) succeed when exactly one row of the target
  table satisfies them.
- Linkability: the quasi-identifiers are split into two halves, as if held in two separate
  databases; a target row is linked when its nearest synthetic rows on each half coincide.
- Inference: for each sensitive column, the attacker knows the quasi-identifiers, takes the
  nearest synthetic row's value as the guess; a guess is right if equal (categories) or within
  5 % (numbers).

Train and holdout are subsampled to equal size first, so their rates are comparable.

The encodings (``features`` for the predicates' coded columns, ``MixedEncoder`` for the
nearest-neighbour distances, shared with fidelity and privacy) live in ``metrics._encoding``;
``metrics.privacy`` runs these attacks and turns their risks into figures and scores.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from synthdata.metrics._base import wilson
from synthdata.metrics._encoding import NUMERIC, MixedEncoder, as_number, features, subsample
from synthdata.schema import Schema

Z_95 = 1.959963984540054
N_ATTACKS = 2000
NUMERIC_TOLERANCE = 0.05
MAX_TRIES_FACTOR = 20
MIN_ATTACKS = 100


@dataclass(frozen=True)
class Rate:
    successes: int
    n: int

    @property
    def wilson(self) -> tuple[float, float]:
        """Wilson score centre and half-width at 95 %."""
        return wilson(self.successes, self.n, Z_95)


def risk(main: Rate, control: Rate, baseline: Rate) -> dict[str, Any]:
    """Risk with its 95 % interval, the three rates, and the trust flag."""
    r_main, e_main = main.wilson
    r_control, e_control = control.wilson
    r_base, e_base = baseline.wilson
    if r_control >= 1.0:
        value, err = 0.0, 1.0
    else:
        value = (r_main - r_control) / (1 - r_control)
        err = math.sqrt(
            (e_main / (1 - r_control)) ** 2
            + (e_control * (r_main - 1) / (1 - r_control) ** 2) ** 2
        )
    trustworthy = r_main > r_base + e_base
    return {
        "risk": float(min(1.0, max(0.0, value))),
        "risk_raw": float(value),
        "ci_low": float(max(0.0, value - err)),
        "ci_high": float(min(1.0, value + err)),
        "attack_rate": r_main,
        "control_rate": r_control,
        "baseline_rate": r_base,
        "n_attacks": main.n,
        "trustworthy": bool(trustworthy),
        "note": None if trustworthy else (
            "the attack does no better than random guessing: its risk is not evidence either "
            "way (try more attacks or other columns)"
        ),
    }


# ---- singling out --------------------------------------------------------------------------
@dataclass(frozen=True)
class Predicate:
    """A conjunction of (column, op, value) conditions on coded columns; op in ==, <=, >=."""

    terms: tuple[tuple[str, str, float], ...]

    def count(self, table: dict[str, np.ndarray]) -> int:
        out = None
        for column, op, value in self.terms:
            col = table[column]
            hit = col == value if op == "==" else (col <= value if op == "<=" else col >= value)
            out = hit if out is None else out & hit
        return 0 if out is None else int(out.sum())


def _values(df: pd.DataFrame, schema: Schema, column: str) -> np.ndarray:
    """Numbers as floats (dates as ns), everything else as text; missing as NaN / None."""
    col = df[column]
    if schema.columns[column].kind in NUMERIC:
        return as_number(col).to_numpy()
    return np.array([None if pd.isna(v) else str(v) for v in col], dtype=object)


def _univariate_predicates(synth: pd.DataFrame, schema: Schema, columns: list[str],
                           rng: np.random.Generator, n: int) -> list[Predicate]:
    pool: list[Predicate] = []
    for c in columns:  # ``synth`` is coded: every column is floats
        values = synth[c].dropna()
        if values.empty:
            continue
        counts = values.value_counts()
        pool.extend(Predicate(((c, "==", float(v)),)) for v in counts[counts == 1].index)
        if schema.columns[c].kind in NUMERIC:
            pool.append(Predicate(((c, "<=", float(values.min())),)))
            pool.append(Predicate(((c, ">=", float(values.max())),)))
    if len(pool) > n:
        pool = [pool[i] for i in rng.choice(len(pool), n, replace=False)]
    return pool


def _multivariate_predicates(synth: pd.DataFrame, schema: Schema, columns: list[str],
                             rng: np.random.Generator, n: int, n_cols: int,
                             *, random_values: bool) -> list[Predicate]:
    medians = {c: float(synth[c].median()) for c in columns
               if schema.columns[c].kind in NUMERIC and synth[c].notna().any()}
    distinct = {c: synth[c].dropna().unique() for c in columns}
    predicates = []
    for _ in range(n):
        chosen = rng.choice(len(columns), min(n_cols, len(columns)), replace=False)
        row = synth.iloc[int(rng.integers(len(synth)))]
        terms = []
        for i in chosen:
            c = columns[i]
            if random_values:
                if len(distinct[c]) == 0:
                    continue
                value = distinct[c][int(rng.integers(len(distinct[c])))]
            else:
                value = row[c]
            if math.isnan(value):
                continue
            if c in medians:
                terms.append((c, ">=" if value >= medians[c] else "<=", float(value)))
            else:
                terms.append((c, "==", float(value)))
        if terms:
            predicates.append(Predicate(tuple(terms)))
    return predicates


def _random_univariate(synth: pd.DataFrame, schema: Schema, columns: list[str],
                       rng: np.random.Generator, n: int) -> list[Predicate]:
    out = []
    for _ in range(n):
        c = columns[int(rng.integers(len(columns)))]
        values = synth[c].dropna().unique()
        if len(values) == 0:
            continue
        if schema.columns[c].kind in NUMERIC:
            low, high = float(np.min(values)), float(np.max(values))
            out.append(Predicate(((c, "<=" if rng.random() < 0.5 else ">=",
                                   float(rng.uniform(low, high))),)))
        else:
            out.append(Predicate(((c, "==", float(values[int(rng.integers(len(values)))])),)))
    return out


def _singles_out(predicates: list[Predicate], target: pd.DataFrame) -> Rate:
    table = {c: target[c].to_numpy() for c in target.columns}
    hits = sum(int(p.count(table) == 1) for p in predicates)
    return Rate(hits, len(predicates))


def singling_out(train: pd.DataFrame, synth: pd.DataFrame, holdout: pd.DataFrame,
                 schema: Schema, columns: list[str], *, mode: str, seed: int = 0,
                 n_attacks: int = N_ATTACKS, n_cols: int = 3) -> dict[str, Any]:
    """Singling-out risk, ``mode`` ``"univariate"`` or ``"multivariate"``."""
    rng = np.random.default_rng(seed)
    train, holdout = _equal_size(train, holdout, rng)
    # numbers and dates as floats, categories as shared codes: predicates compare numbers only
    (s, t, h), _ = features([synth, train, holdout], columns, schema)
    if mode == "univariate":
        attack = _univariate_predicates(s, schema, columns, rng, n_attacks)
        naive = _random_univariate(s, schema, columns, rng, max(1, len(attack)))
    else:
        # the attacker keeps the conjunctions that isolate one synthetic row (the paper's
        # attack): those are the guesses worth testing against the real rows
        synth_table = {c: s[c].to_numpy() for c in s.columns}
        attack, tries = [], 0
        while len(attack) < n_attacks and tries < MAX_TRIES_FACTOR * n_attacks:
            batch = _multivariate_predicates(s, schema, columns, rng, n_attacks, n_cols,
                                             random_values=False)
            tries += len(batch)
            attack.extend(p for p in batch if p.count(synth_table) == 1)
        attack = list(dict.fromkeys(attack))[:n_attacks]
        naive = _multivariate_predicates(s, schema, columns, rng, n_attacks, n_cols,
                                         random_values=True)
    if not attack:
        return risk(Rate(0, 0), Rate(0, 0), Rate(0, 0))
    result = risk(_singles_out(attack, t), _singles_out(attack, h), _singles_out(naive, t))
    if len(attack) < MIN_ATTACKS:
        result["trustworthy"] = False
        result["note"] = (
            f"only {len(attack)} of {n_attacks} singling-out guesses could be built from the "
            "synthetic rows: too few for a rate to mean much"
        )
    return result


# ---- nearest-neighbour attacks -----------------------------------------------------------
def _equal_size(train: pd.DataFrame, holdout: pd.DataFrame, rng: np.random.Generator
                ) -> tuple[pd.DataFrame, pd.DataFrame]:
    n = min(len(train), len(holdout))
    return (subsample(train, n, rng).reset_index(drop=True),
            subsample(holdout, n, rng).reset_index(drop=True))


def _neighbours(schema: Schema, columns: list[str], reference: pd.DataFrame,
                queries: pd.DataFrame, fit_on: pd.DataFrame, k: int) -> np.ndarray:
    from sklearn.neighbors import NearestNeighbors

    encoder = MixedEncoder(columns, schema).fit(fit_on)
    model = NearestNeighbors(n_neighbors=min(k, len(reference)), algorithm="brute")
    model.fit(encoder.transform(reference))
    return model.kneighbors(encoder.transform(queries), return_distance=False)


def linkability(train: pd.DataFrame, synth: pd.DataFrame, holdout: pd.DataFrame,
                schema: Schema, columns: list[str], *, seed: int = 0,
                n_attacks: int = N_ATTACKS, n_neighbors: int = 1) -> dict[str, Any]:
    """Link each target's two halves of ``columns`` through the synthetic rows."""
    rng = np.random.default_rng(seed)
    train, holdout = _equal_size(train, holdout, rng)
    half = len(columns) // 2
    left, right = columns[:half], columns[half:]
    n = min(n_attacks, len(train))
    targets = train.iloc[rng.choice(len(train), n, replace=False)]
    controls = holdout.iloc[rng.choice(len(holdout), n, replace=False)]

    def linked(rows: pd.DataFrame) -> Rate:
        a = _neighbours(schema, left, synth, rows, train, n_neighbors)
        b = _neighbours(schema, right, synth, rows, train, n_neighbors)
        return Rate(sum(bool(set(x) & set(y)) for x, y in zip(a, b, strict=True)), len(rows))

    k = min(n_neighbors, len(synth))
    guesses_a = rng.integers(0, len(synth), (n, k))
    guesses_b = rng.integers(0, len(synth), (n, k))
    naive = Rate(sum(bool(set(x) & set(y)) for x, y in zip(guesses_a, guesses_b, strict=True)),
                 n)
    result = risk(linked(targets), linked(controls), naive)
    result["columns_a"], result["columns_b"] = left, right
    return result


def inference(train: pd.DataFrame, synth: pd.DataFrame, holdout: pd.DataFrame,
              schema: Schema, aux: list[str], secret: str, *, seed: int = 0,
              n_attacks: int = N_ATTACKS) -> dict[str, Any]:
    """Guess ``secret`` of each target from the nearest synthetic row on ``aux``."""
    rng = np.random.default_rng(seed)
    train, holdout = _equal_size(train, holdout, rng)
    n = min(n_attacks, len(train))
    targets = train.iloc[rng.choice(len(train), n, replace=False)]
    controls = holdout.iloc[rng.choice(len(holdout), n, replace=False)]
    numeric = schema.columns[secret].kind in NUMERIC
    secret_synth = _values(synth, schema, secret)

    def right(guess: np.ndarray, truth: np.ndarray) -> int:
        if numeric:
            guess, truth = guess.astype(float), truth.astype(float)
            ok = np.abs(guess - truth) <= NUMERIC_TOLERANCE * np.abs(truth)
            return int(np.nansum(ok & ~np.isnan(truth)))
        return int(np.sum((guess == truth) & pd.notna(truth).astype(bool)))

    def attack(rows: pd.DataFrame) -> Rate:
        idx = _neighbours(schema, aux, synth, rows, train, 1)[:, 0]
        return Rate(right(secret_synth[idx], _values(rows, schema, secret)),
                    len(rows))

    naive_guess = secret_synth[rng.integers(0, len(synth), n)]
    naive = Rate(right(naive_guess, _values(targets, schema, secret)), n)
    result = risk(attack(targets), attack(controls), naive)
    result["aux_columns"] = aux
    return result
