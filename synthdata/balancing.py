"""Imbalanced-class balancing with conditional generation, proven against SMOTE on the holdout.

``balance(table, schema, out_dir=..., ratio=1.0)`` splits off the holdout, fits a synthesizer
on train, generates rows of each under-represented target class until every class reaches
``ratio`` × the majority class's count (or the explicit ``counts``), and writes
``balanced.parquet`` = the real train rows + the synthetic rows (column ``synthetic`` marks
which). Generation is conditional (:meth:`Synthesizer.sample_where`): the Gaussian copula
conditions analytically, CTGAN feeds its conditional vector; TVAE falls back to reject
sampling (said in the report). Throughput (rows/s) per class is reported.

The proof (``balance.comparison``): on the real holdout, HistGradientBoosting and
LogisticRegression trained on (1) real train only, (2) real + synthetic, (3) real + SMOTE-NC
(imbalanced-learn; SMOTE when every feature is numeric, SMOTEN when none is) to the same
class counts, (4) real with balanced class weights. Resampling touches training rows only.
Metrics for the minority class: recall, precision and F1 at the default threshold, PR-AUC and
ROC-AUC, each as mean and standard deviation over ``n_seeds`` seeds (model seed, SMOTE seed and
a fresh synthetic draw per seed).

Privacy, bias and fidelity are scored on the synthetic part against the train and holdout
rows *of the same classes*, and the export gate applies as for ``run``.
"""

from __future__ import annotations

import logging
import math
import time
from typing import Any

import numpy as np
import pandas as pd

from synthdata.errors import ParameterError, SchemaError
from synthdata.schema import ColumnKind, Schema, category_text

logger = logging.getLogger(__name__)

__all__ = ["compare_options", "parse_counts", "plan_counts"]

OPTIONS = ("real", "real+synthetic", "real+smote", "class_weights")
MODELS = ("hgb", "logreg")
METRICS = ("recall", "precision", "f1", "pr_auc", "roc_auc")
INDICATOR = "synthetic"


def check_target(schema: Schema) -> str:
    target = schema.target
    if target is None:
        raise SchemaError(["balance needs a target: set 'target:' in the schema to the class "
                           "column to balance"])
    kind = schema.columns[target].kind
    if kind not in (ColumnKind.categorical, ColumnKind.boolean, ColumnKind.ordinal,
                    ColumnKind.integer):
        raise SchemaError([f"target: balance needs a class column (categorical, boolean, "
                           f"ordinal or integer); '{target}' has kind {kind.value}; pick a "
                           "class column or use 'synthdata augment'"])
    return target


def parse_counts(text: str) -> dict[str, int]:
    """``"yes=500,no=800"`` -> ``{"yes": 500, "no": 800}`` (class names compared as text)."""
    out: dict[str, int] = {}
    for part in [p.strip() for p in text.split(",") if p.strip()]:
        name, sep, number = part.rpartition("=")
        if not sep or not name:
            raise ParameterError(f"--counts: expected class=n pairs separated by commas, found "
                                 f"{part!r}; e.g. --counts yes=500,no=800")
        try:
            n = int(number)
        except ValueError:
            raise ParameterError(f"--counts: the count of {name!r} must be a whole number, "
                                 f"found {number!r}") from None
        if n < 0:
            raise ParameterError(f"--counts: the count of {name!r} must be >= 0, found {n}")
        out[name.strip()] = n
    if not out:
        raise ParameterError("--counts: expected class=n pairs, found nothing; "
                             "e.g. --counts yes=500")
    return out


def plan_counts(train: pd.DataFrame, target: str, *, ratio: float | None,
                counts: dict[str, int] | None) -> dict[str, int]:
    """Synthetic rows to add per class: up to ``ratio`` x the majority count, or to ``counts``."""
    have = train[target].dropna().map(category_text).value_counts()
    if counts is not None:
        unknown = sorted(set(counts) - set(have.index))
        if unknown:
            raise ParameterError(
                f"counts names class(es) {', '.join(map(repr, unknown))} that train does not "
                f"hold; expected some of {', '.join(map(repr, sorted(have.index)))}",
                param="counts")
        lower = {c: n for c, n in counts.items() if n < have[c]}
        if lower:
            raise ParameterError(
                "counts asks for fewer rows than train already holds for "
                + ", ".join(f"{c!r} ({n} < {have[c]})" for c, n in lower.items())
                + "; balancing only adds rows: ask for at least the current counts",
                param="counts")
        return {c: n - int(have[c]) for c, n in counts.items() if n > have[c]}
    ratio = 1.0 if ratio is None else ratio
    goal = math.ceil(ratio * int(have.max()))
    return {str(c): goal - int(n) for c, n in have.items() if n < goal}


# ---- the comparison --------------------------------------------------------------------------
def _encode(frames: list[pd.DataFrame], schema: Schema, target: str
            ) -> tuple[list[np.ndarray], list[int], list[int]]:
    """Numbers (median-imputed on the first frame) then category codes (missing = a code)."""
    from synthdata.metrics._encoding import as_number, scored_columns

    features = [c for c in scored_columns(schema) if c != target]
    nums = [c for c in features if schema.columns[c].kind in (
        ColumnKind.numerical, ColumnKind.integer, ColumnKind.datetime)]
    cats = [c for c in features if c not in nums]
    blocks: list[list[np.ndarray]] = [[] for _ in frames]
    for c in nums:
        first = as_number(frames[0][c])
        fill = float(first.median()) if first.notna().any() else 0.0
        for block, df in zip(blocks, frames, strict=True):
            block.append(as_number(df[c]).fillna(fill).to_numpy())
    for c in cats:
        texts = [df[c].map(lambda v: "(missing)" if pd.isna(v) else category_text(v))
                 for df in frames]
        levels = {v: i for i, v in enumerate(sorted(set().union(*[set(t) for t in texts])))}
        for block, t in zip(blocks, texts, strict=True):
            block.append(t.map(levels).to_numpy(dtype="float64"))
    arrays = [np.column_stack(b) if b else np.zeros((len(df), 0))
              for b, df in zip(blocks, frames, strict=True)]
    return arrays, list(range(len(nums))), list(range(len(nums), len(nums) + len(cats)))


def _model(kind: str, num_idx: list[int], cat_idx: list[int], seed: int, weighted: bool):  # type: ignore[no-untyped-def]
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    weight = "balanced" if weighted else None
    if kind == "hgb":
        mask = np.zeros(len(num_idx) + len(cat_idx), dtype=bool)
        mask[cat_idx] = True
        return HistGradientBoostingClassifier(
            categorical_features=mask if mask.any() else None, max_iter=100,
            random_state=seed, class_weight=weight)
    prep = ColumnTransformer([("num", StandardScaler(), num_idx),
                              ("cat", OneHotEncoder(handle_unknown="ignore"), cat_idx)])
    return make_pipeline(prep, LogisticRegression(max_iter=2000, class_weight=weight))


def _smote(x: np.ndarray, y: np.ndarray, num_idx: list[int], cat_idx: list[int],
           strategy: dict[Any, int], seed: int) -> tuple[np.ndarray, np.ndarray]:
    from imblearn.over_sampling import SMOTE, SMOTEN, SMOTENC

    k = max(1, min(5, min(int((y == c).sum()) for c in strategy) - 1))
    if not cat_idx:
        sampler = SMOTE(sampling_strategy=strategy, k_neighbors=k, random_state=seed)
    elif not num_idx:
        sampler = SMOTEN(sampling_strategy=strategy, k_neighbors=k, random_state=seed)
    else:
        sampler = SMOTENC(categorical_features=cat_idx, sampling_strategy=strategy,
                          k_neighbors=k, random_state=seed)
    return sampler.fit_resample(x, y)


def _scores(model: Any, x: np.ndarray, y: np.ndarray, minority: str) -> dict[str, float]:
    from sklearn.metrics import (
        average_precision_score,
        f1_score,
        precision_score,
        recall_score,
        roc_auc_score,
    )

    classes = list(model.classes_)
    proba = model.predict_proba(x)[:, classes.index(minority)]
    hit = y == minority
    pred = model.predict(x) == minority
    return {
        "recall": float(recall_score(hit, pred, zero_division=0)),
        "precision": float(precision_score(hit, pred, zero_division=0)),
        "f1": float(f1_score(hit, pred, zero_division=0)),
        "pr_auc": float(average_precision_score(hit, proba)),
        "roc_auc": float(roc_auc_score(hit, proba)) if 0 < hit.sum() < len(hit) else math.nan,
    }


def compare_options(train: pd.DataFrame, holdout: pd.DataFrame, schema: Schema,
                    synth_for_seed: Any, plan: dict[str, int], *, n_seeds: int = 3
                    ) -> tuple[list[dict[str, Any]], str]:
    """One row per option with mean/std of each metric per model; plus the verdict in words.

    ``synth_for_seed(k)`` returns the synthetic rows of draw ``k`` (same counts as ``plan``).
    """
    target = check_target(schema)
    train = train[train[target].notna()]
    holdout = holdout[holdout[target].notna()]
    y_train = train[target].map(category_text).to_numpy(dtype=object)
    y_hold = holdout[target].map(category_text).to_numpy(dtype=object)
    counts = pd.Series(y_train).value_counts()
    minority = str(counts.sort_index().idxmin())
    results: dict[str, dict[str, dict[str, list[float]]]] = {
        o: {m: {k: [] for k in METRICS} for m in MODELS} for o in OPTIONS}
    sizes: dict[str, int] = {}
    goal = {c: int(counts.get(c, 0)) + n for c, n in plan.items()}
    for k in range(n_seeds):
        synth = synth_for_seed(k)
        synth = synth[synth[target].notna()]
        (x_tr, x_ho, x_sy), num_idx, cat_idx = _encode([train, holdout, synth], schema, target)
        y_sy = synth[target].map(category_text).to_numpy(dtype=object)
        sets = {
            "real": (x_tr, y_train, False),
            "real+synthetic": (np.vstack([x_tr, x_sy]), np.concatenate([y_train, y_sy]), False),
            "class_weights": (x_tr, y_train, True),
        }
        try:
            x_sm, y_sm = _smote(x_tr, y_train, num_idx, cat_idx, goal, seed=k)
            sets["real+smote"] = (x_sm, y_sm, False)
        except ValueError as exc:  # e.g. a class with a single row
            logger.warning("SMOTE failed: %s", exc)
        for option, (x, y, weighted) in sets.items():
            sizes[option] = len(y)
            for model_kind in MODELS:
                model = _model(model_kind, num_idx, cat_idx, k, weighted).fit(x, y)
                for metric, value in _scores(model, x_ho, y_hold, minority).items():
                    results[option][model_kind][metric].append(value)
    rows = []
    for option in OPTIONS:
        row: dict[str, Any] = {"option": option, "n_train_rows": sizes.get(option)}
        for model_kind in MODELS:
            row[model_kind] = {
                metric: {"mean": float(np.nanmean(v)) if v else None,
                         "std": float(np.nanstd(v, ddof=1)) if len(v) > 1 else None}
                for metric, v in results[option][model_kind].items()}
        rows.append(row)
    return rows, _verdict(rows, minority)


def _verdict(rows: list[dict[str, Any]], minority: str) -> str:
    names = {"hgb": "HistGradientBoosting", "logreg": "LogisticRegression"}
    words = []
    for model_kind in MODELS:
        for metric, label in (("pr_auc", "PR-AUC"), ("recall", "minority recall at the "
                                                               "default threshold")):
            scored = [(r[model_kind][metric]["mean"], r[model_kind][metric]["std"] or 0.0,
                       r["option"]) for r in rows if r[model_kind][metric]["mean"] is not None]
            if not scored:
                continue
            best = max(scored)
            base = next(s for s in scored if s[2] == "real")
            tie = best[0] - base[0] <= max(best[1], base[1])
            words.append(
                f"{names[model_kind]}: best {label} with {best[2]} ({best[0]:.3f} ± "
                f"{best[1]:.3f}) vs real only {base[0]:.3f} ± {base[1]:.3f}"
                + (" — within the seed spread, so no real gain" if tie and best[2] != "real"
                   else ""))
    return f"Minority class {minority!r}. " + "; ".join(words) + "."


def timed_generation(model: Any, target: str, plan: dict[str, int], seed: int,
                     values: dict[str, Any]) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Generate the planned rows per class; returns them and the throughput per class."""
    parts, info = [], {}
    for k, (cls, n) in enumerate(sorted(plan.items())):
        if n <= 0:
            continue
        start = time.perf_counter()
        rows = model.sample_where(n, {target: values[cls]}, seed=seed + 1000 * (k + 1))
        seconds = time.perf_counter() - start
        parts.append(rows)
        info[cls] = {"rows": n, "seconds": round(seconds, 4),
                     "rows_per_second": round(n / seconds, 1) if seconds > 0 else None,
                     "drawn": int(getattr(model, "last_conditional_draws_", n)),
                     "method": model.conditional_method}
    synth = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(
        columns=list(model.schema.modelled_columns))
    return synth, info
