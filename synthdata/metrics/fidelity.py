"""Fidelity: can the synthetic table stand in for the real one, and where can it not?

Every metric has the signature ``(train, synth, holdout, schema) -> Result``: raw figures, scores
in [0, 1] (higher is better) and tidy detail rows ``{columns, metric, value, error}``. Each
figure that has one also gets a *reference*: the same figure for holdout vs train, i.e. what a
perfect generator (fresh rows from the same population) would score.

- Column shapes / column pair trends: sdmetrics' QualityReport properties (KSComplement /
  TVComplement; CorrelationSimilarity / ContingencySimilarity), subsampling off: deterministic.
- Coverage: share of real categories present in synth (mode collapse), share of the real
  distribution's quantile bins that synth reaches per numeric/date column, and similarity of
  missing-value rates.
- Detection: a HistGradientBoosting classifier (native categorical support) separating holdout
  rows from synth rows, 5-fold cross-validated; its ROC AUC (0.5 = indistinguishable) and the
  columns whose permutation hurts it most (what gives the synthetic rows away).
- ML efficacy (with a target): the same model trained on synth and on train, both tested on the
  holdout (TSTR vs TRTR): ROC AUC for a binary target, macro-F1 for multiclass, R² for numbers.

``Result``, detail rows and the runner that merges the metrics live in ``metrics._base``; the
column kinds, ``scored_columns``, the sdmetrics inputs and the classifiers' encoding and model
(shared with privacy, attacks and bias) in ``metrics._encoding``.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from synthdata.metrics._base import (
    CONFIDENCE,
    Gated,
    Result,
    bootstrap_weights,
    clean,
    mean,
    row,
    run_metrics,
)
from synthdata.metrics._encoding import (
    CATEGORICAL,
    NUMERIC,
    as_number,
    features,
    for_sdmetrics,
    hgb_classifier,
    scored_columns,
    sdmetrics_metadata,
)
from synthdata.schema import ColumnKind, Schema, category_text

__all__ = [
    "category_coverage",
    "column_quality",
    "constraint_violations",
    "detection",
    "evaluate_fidelity",
    "ml_efficacy",
    "missing_rate_similarity",
    "range_coverage",
]

RANGE_BINS = 20
CV_FOLDS = 5
MAX_DETECTION_ROWS = 20_000  # per side; enough for a stable AUC, bounded time
TOP_FEATURES = 5
SKILL_BOOTSTRAP_ROUNDS = 500  # the upper bound is the 95th percentile: 25 rounds above it


# ---- column shapes and pair trends (sdmetrics) -----------------------------------------------
def _quality(real: pd.DataFrame, synth: pd.DataFrame, schema: Schema) -> tuple[dict, list]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # the single-table report (a deprecated alias in sdmetrics, same properties)
        from sdmetrics.reports.single_table import QualityReport

        report = QualityReport()
        report.num_rows_subsample = None  # deterministic figures: score every row
        report.generate(
            for_sdmetrics(real, schema),
            for_sdmetrics(synth, schema),
            sdmetrics_metadata(schema),
            verbose=False,
        )
    props = report.get_properties().set_index("Property")["Score"]
    figures = {
        "column_shapes": clean(float(props.get("Column Shapes", np.nan))),
        "column_pair_trends": clean(float(props.get("Column Pair Trends", np.nan))),
    }
    details = []
    for rec in report.get_details("Column Shapes").to_dict("records"):
        details.append(row([rec["Column"]], rec["Metric"], float(rec["Score"]),
                           rec.get("Error") if isinstance(rec.get("Error"), str) else None))
    for rec in report.get_details("Column Pair Trends").to_dict("records"):
        details.append(row([rec["Column 1"], rec["Column 2"]], rec["Metric"],
                           float(rec["Score"]),
                           rec.get("Error") if isinstance(rec.get("Error"), str) else None))
    return figures, details


def column_quality(train: pd.DataFrame, synth: pd.DataFrame, holdout: pd.DataFrame,
                   schema: Schema) -> Result:
    """sdmetrics QualityReport of synth vs train; the holdout's report is the reference."""
    figures, details = _quality(train, synth, schema)
    reference, _ = _quality(train, holdout, schema)
    return Result(figures=figures, scores=dict(figures), details=details, reference=reference)


# ---- coverage --------------------------------------------------------------------------------
def _category_coverage(real: pd.Series, other: pd.Series) -> float | None:
    seen = set(real.dropna().astype(str))
    if not seen:
        return None
    return len(seen & set(other.dropna().astype(str))) / len(seen)


def category_coverage(train: pd.DataFrame, synth: pd.DataFrame, holdout: pd.DataFrame,
                      schema: Schema) -> Result:
    """Share of each column's real categories that appear in synth (mode collapse shows here)."""
    def missing(c: str) -> dict[str, Any]:
        lost = sorted(set(train[c].dropna().astype(str)) - set(synth[c].dropna().astype(str)))
        return {"missing_categories": lost[:20]}

    columns = [c for c in scored_columns(schema) if schema.columns[c].kind in CATEGORICAL]
    return _per_column("category_coverage", "CategoryCoverage", _category_coverage, columns,
                       train, synth, holdout, extra=missing)


def _range_coverage(real: pd.Series, other: pd.Series) -> float | None:
    """Share of the real distribution's quantile bins (with real rows) that ``other`` reaches."""
    r = as_number(real).dropna().to_numpy()
    o = as_number(other).dropna().to_numpy()
    if len(r) == 0:
        return None
    if len(o) == 0:
        return 0.0
    edges = np.unique(np.quantile(r, np.linspace(0, 1, RANGE_BINS + 1)))
    if len(edges) == 1:
        return float(np.any(o == edges[0]))
    inner = edges[1:-1]
    real_bins = set(np.searchsorted(inner, r, side="right"))
    inside = o[(o >= edges[0]) & (o <= edges[-1])]
    other_bins = set(np.searchsorted(inner, inside, side="right"))
    return len(real_bins & other_bins) / len(real_bins)


def range_coverage(train: pd.DataFrame, synth: pd.DataFrame, holdout: pd.DataFrame,
                   schema: Schema) -> Result:
    """Per numeric/date column: share of train's 20 quantile bins that synth values fall in."""
    columns = [c for c in scored_columns(schema) if schema.columns[c].kind in NUMERIC]
    return _per_column("range_coverage", "RangeCoverage", _range_coverage, columns,
                       train, synth, holdout)


def _missing_rate_similarity(real: pd.Series, other: pd.Series) -> float:
    return 1.0 - abs(float(real.isna().mean()) - float(other.isna().mean()))


def missing_rate_similarity(train: pd.DataFrame, synth: pd.DataFrame, holdout: pd.DataFrame,
                            schema: Schema) -> Result:
    """1 - |missing rate in train - missing rate in synth|, per column."""
    def rates(c: str) -> dict[str, Any]:
        return {"real_missing_rate": float(train[c].isna().mean()),
                "synth_missing_rate": float(synth[c].isna().mean())}

    return _per_column("missing_rate_similarity", "MissingRateSimilarity",
                       _missing_rate_similarity, scored_columns(schema), train, synth, holdout,
                       extra=rates)


def _per_column(name: str, metric: str, compare: Callable[[pd.Series, pd.Series], float | None],
                columns: list[str], train: pd.DataFrame, synth: pd.DataFrame,
                holdout: pd.DataFrame, *, extra: Callable[[str], dict[str, Any]] | None = None
                ) -> Result:
    """``compare(train[c], synth[c])`` per column as detail rows ``metric`` (with ``extra(c)``);
    their mean is the figure ``name`` and its score, the mean of ``compare(train[c],
    holdout[c])`` its reference."""
    result = Result()
    values, ref = [], []
    for c in columns:
        value = compare(train[c], synth[c])
        result.details.append(row([c], metric, value, **(extra(c) if extra else {})))
        values.append(value)
        ref.append(compare(train[c], holdout[c]))
    result.figures[name] = mean(values)
    result.scores[name] = result.figures[name]
    result.reference[name] = mean(ref)
    return result


# ---- detection -------------------------------------------------------------------------------
def _detection_auc(real: pd.DataFrame, other: pd.DataFrame, schema: Schema, seed: int,
                   *, importances: bool) -> tuple[float, list[dict[str, Any]]]:
    from sklearn.inspection import permutation_importance
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedGroupKFold

    rng = np.random.default_rng(seed)
    n = min(len(real), len(other), MAX_DETECTION_ROWS)
    real = real.iloc[np.sort(rng.choice(len(real), n, replace=False))]
    other = other.iloc[np.sort(rng.choice(len(other), n, replace=False))]
    columns = scored_columns(schema)
    (x_real, x_other), is_cat = features([real, other], columns, schema)
    x = pd.concat([x_real, x_other], ignore_index=True)
    y = np.r_[np.zeros(n, dtype=int), np.ones(n, dtype=int)]
    proba = np.zeros(len(y))
    # identical rows stay in one fold: otherwise a test row's twin with the other label sits
    # in the training fold and the classifier "learns" to predict the opposite (AUC << 0.5)
    groups = pd.util.hash_pandas_object(x, index=False).to_numpy()
    folds = StratifiedGroupKFold(n_splits=CV_FOLDS, shuffle=True, random_state=seed)
    importance = np.zeros(len(columns))
    for train_idx, test_idx in folds.split(x, y, groups):
        model = hgb_classifier(is_cat, seed).fit(x.iloc[train_idx], y[train_idx])
        proba[test_idx] = model.predict_proba(x.iloc[test_idx])[:, 1]
        if importances:
            imp = permutation_importance(
                model, x.iloc[test_idx], y[test_idx], scoring="roc_auc", n_repeats=3,
                random_state=seed,
            )
            importance += imp.importances_mean / CV_FOLDS
    auc = float(roc_auc_score(y, proba))
    order = np.argsort(-importance, kind="stable")
    top = [{"column": columns[i], "auc_drop": float(importance[i])} for i in order
           if importance[i] > 0][:TOP_FEATURES]
    return auc, top


def detection(train: pd.DataFrame, synth: pd.DataFrame, holdout: pd.DataFrame,
              schema: Schema, *, seed: int = 0) -> Result:
    """Cross-validated AUC of a classifier telling holdout rows from synth rows.

    Score ``detection = 1 - 2 * max(0, auc - 0.5)``: 1 when indistinguishable, 0 when the
    classifier separates them perfectly. The reference separates holdout from train rows.
    """
    result = Result()
    auc, top = _detection_auc(holdout, synth, schema, seed, importances=True)
    ref_auc, _ = _detection_auc(holdout, train, schema, seed, importances=False)
    result.figures["detection_auc"] = auc
    result.figures["detection_top_features"] = top
    result.scores["detection"] = 1.0 - 2.0 * max(0.0, auc - 0.5)
    result.reference["detection_auc"] = ref_auc
    result.details.append(row(scored_columns(schema), "DetectionAUC", auc))
    for item in top:
        result.details.append(row([item["column"]], "DetectionPermutationImportance",
                                  item["auc_drop"]))
    return result


# ---- ML efficacy -----------------------------------------------------------------------------
def _task(schema: Schema, train: pd.DataFrame) -> str:
    target = schema.target
    assert target is not None
    kind = schema.columns[target].kind
    if kind in (ColumnKind.numerical, ColumnKind.integer) and train[target].nunique() > 10:
        return "regression"
    return "binary" if train[target].nunique(dropna=True) == 2 else "multiclass"


@dataclass
class _Fitted:
    """One model's result on the holdout: its metric, and its outputs for the skill bootstrap.

    ``y``: the holdout's target (numbers for regression, class labels as text otherwise);
    ``outputs``: predictions (regression) or class -> predicted probability of each class the
    model knows (a class it never saw scores 0 for every row).
    """

    value: float | None
    error: str | None
    y: np.ndarray
    outputs: np.ndarray | dict[str, np.ndarray]


def _positive(reference: pd.DataFrame, target: str) -> str:
    """The positive class of a binary target: ``True``, else the rarer class of ``reference``."""
    counts = reference[target].astype(str).value_counts()
    return "True" if "True" in counts.index else str(counts.idxmin())


def _efficacy(fit_on: pd.DataFrame, test_on: pd.DataFrame, reference: pd.DataFrame,
              schema: Schema, task: str, seed: int) -> _Fitted:
    from sklearn.ensemble import HistGradientBoostingRegressor
    from sklearn.metrics import f1_score, r2_score, roc_auc_score

    target = schema.target
    assert target is not None
    fit_on = fit_on[fit_on[target].notna()]
    test_on = test_on[test_on[target].notna()]
    columns = [c for c in scored_columns(schema) if c != target]
    (x_fit, x_test), is_cat = features([fit_on, test_on], columns, schema)
    if task == "regression":
        y_fit = as_number(fit_on[target]).to_numpy()
        y_test = as_number(test_on[target]).to_numpy()
        model = HistGradientBoostingRegressor(
            categorical_features=np.array(is_cat) if any(is_cat) else None, random_state=seed)
        model.fit(x_fit, y_fit)
        predicted = model.predict(x_test)
        return _Fitted(float(r2_score(y_test, predicted)), None, y_test, predicted)
    y_fit = fit_on[target].astype(str).to_numpy()
    y_test = test_on[target].astype(str).to_numpy()
    if len(set(y_fit)) < 2:
        only = next(iter(set(y_fit)), "nothing")
        # a model that has seen one class predicts it everywhere: chance-level ranking
        constant = {only: np.ones(len(y_test))}
        if task == "binary":
            return _Fitted(0.5, f"training table has one class ({only!r}); scored as chance "
                           "(AUC 0.5)", y_test, constant)
        pred = np.full(len(y_test), only)
        return _Fitted(float(f1_score(y_test, pred, average="macro")),
                       f"one class ({only!r}) only", y_test, constant)
    model = hgb_classifier(is_cat, seed).fit(x_fit, y_fit)
    proba = model.predict_proba(x_test)
    outputs = {str(c): proba[:, i] for i, c in enumerate(model.classes_)}
    if task == "binary":
        positive = _positive(reference, target)
        if positive not in outputs:
            return _Fitted(0.5, f"positive class {positive!r} absent from the training table",
                           y_test, outputs)
        return _Fitted(float(roc_auc_score(y_test == positive, outputs[positive])), None,
                       y_test, outputs)
    return _Fitted(float(f1_score(y_test, model.predict(x_test), average="macro")), None,
                   y_test, outputs)


def _weighted_auc(positive: np.ndarray, score: np.ndarray, weights: np.ndarray) -> float:
    """ROC AUC of ``score`` for the ``positive`` rows, each row counted ``weights`` times
    (ties count half; NaN without both kinds of rows)."""
    _, level = np.unique(score, return_inverse=True)
    size = int(level.max()) + 1 if len(level) else 0
    pos = np.bincount(level, weights=weights * positive, minlength=size)
    neg = np.bincount(level, weights=weights * ~positive, minlength=size)
    total = pos.sum() * neg.sum()
    if total <= 0:
        return float("nan")
    below = np.cumsum(neg) - neg
    return float(np.sum(pos * (below + 0.5 * neg)) / total)


def _weighted_r2(y: np.ndarray, predicted: np.ndarray, weights: np.ndarray) -> float:
    centre = np.sum(weights * y) / np.sum(weights)
    total = np.sum(weights * (y - centre) ** 2)
    return float(1 - np.sum(weights * (y - predicted) ** 2) / total) if total > 0 else np.nan


def _skill_metric(fitted: _Fitted, task: str, classes: list[str], weights: np.ndarray
                  ) -> float:
    """R² (regression) or the mean one-vs-rest ROC AUC over ``classes``, under row weights."""
    if task == "regression":
        assert isinstance(fitted.outputs, np.ndarray)
        return _weighted_r2(fitted.y, fitted.outputs, weights)
    assert isinstance(fitted.outputs, dict)
    zeros = np.zeros(len(fitted.y))
    aucs = [_weighted_auc(fitted.y == c, fitted.outputs.get(c, zeros), weights)
            for c in classes]
    aucs = [a for a in aucs if not math.isnan(a)]
    return float(np.mean(aucs)) if aucs else float("nan")


def _skill(real: _Fitted, synth: _Fitted, task: str, classes: list[str], seed: int
           ) -> dict[str, Any]:
    """``(TSTR - chance) / (TRTR - chance)`` with its bootstrap spread and upper bound.

    Both models are scored on the same bootstrap resamples of the holdout (paired). A resample
    on which the real-trained model does no better than chance leaves the ratio unbounded
    (+inf: no evidence that the synthetic rows lost anything), so a holdout too small to show
    the real rows' signal cannot fail the check.
    """
    chance = 0.0 if task == "regression" else 0.5
    ones = np.ones(len(real.y))
    tstr = _skill_metric(synth, task, classes, ones)
    trtr = _skill_metric(real, task, classes, ones)
    rng = np.random.default_rng([seed, 11])
    ratios = []
    for w in bootstrap_weights(len(ones), rounds=SKILL_BOOTSTRAP_ROUNDS, rng=rng):
        s, r = _skill_metric(synth, task, classes, w), _skill_metric(real, task, classes, w)
        ratios.append((s - chance) / (r - chance) if r - chance > 0 else math.inf)
    ratios_array = np.array(ratios, dtype="float64")
    ratios_array[np.isnan(ratios_array)] = math.inf  # a resample without both classes
    upper = float(np.quantile(ratios_array, CONFIDENCE, method="higher"))
    finite = np.isfinite(ratios_array).all()
    skill = (tstr - chance) / (trtr - chance) if trtr - chance > 0 else None
    return {
        "ml_efficacy_skill": skill,
        "ml_efficacy_skill_se": float(np.std(ratios_array, ddof=1)) if finite else None,
        "ml_efficacy_skill_upper": upper if skill is not None else None,
        "ml_efficacy_skill_metric": "r2" if task == "regression" else (
            "roc_auc" if task == "binary" else "macro_roc_auc_ovr"),
        "ml_efficacy_skill_tstr": tstr,
        "ml_efficacy_skill_trtr": trtr,
    }


def ml_efficacy(train: pd.DataFrame, synth: pd.DataFrame, holdout: pd.DataFrame,
                schema: Schema, *, seed: int = 0) -> Result:
    """Train on synth, test on holdout (TSTR) vs train on train, test on holdout (TRTR).

    ``tstr``, ``trtr``: ROC AUC (binary), macro-F1 (multiclass) or R² (numbers);
    ``ml_efficacy_ratio`` = max(0, TSTR) / TRTR. ``ml_efficacy_skill`` (what the gate bounds):
    the share of the real-trained model's skill above chance that the synth-trained one keeps,
    ``(TSTR - chance) / (TRTR - chance)`` on a metric with a fixed chance level (ROC AUC 0.5,
    one-vs-rest for multiclass; R² 0): 1 = as useful as the real rows, 0 = a coin toss (e.g.
    a target with no relation to the other columns). ``ml_efficacy_skill_upper`` is its
    one-sided 95 % upper confidence bound from a paired bootstrap over holdout rows;
    ``ml_efficacy_skill`` is None when the real-trained model itself does no better than
    chance (nothing to keep).
    """
    result = Result()
    if schema.target is None:
        return result
    task = _task(schema, train)
    metric = {"binary": "roc_auc", "multiclass": "macro_f1", "regression": "r2"}[task]
    synth_fit = _efficacy(synth, holdout, train, schema, task, seed)
    real_fit = _efficacy(train, holdout, train, schema, task, seed)
    tstr, error, trtr = synth_fit.value, synth_fit.error, real_fit.value
    ratio = None
    if tstr is not None and trtr is not None and trtr > 0:
        ratio = max(0.0, tstr) / trtr
    result.figures.update({"tstr": tstr, "trtr": trtr, "ml_efficacy_ratio": ratio,
                           "ml_efficacy_metric": metric, "ml_task": task})
    if task == "binary":
        classes = [_positive(train, schema.target)]
    else:
        classes = sorted(set(real_fit.y)) if task == "multiclass" else []
    skill = _skill(real_fit, synth_fit, task, classes, seed)
    result.figures.update({k: clean(v) for k, v in skill.items()})
    result.scores["ml_efficacy"] = None if ratio is None else min(1.0, ratio)
    result.details.append(row([schema.target], f"TSTR_{metric}", tstr, error))
    result.details.append(row([schema.target], f"TRTR_{metric}", trtr))
    result.details.append(row([schema.target], "MLEfficacySkill", skill["ml_efficacy_skill"],
                              se=clean(skill["ml_efficacy_skill_se"]),
                              upper=clean(skill["ml_efficacy_skill_upper"]),
                              metric_used=skill["ml_efficacy_skill_metric"]))
    result.reference["tstr"] = trtr  # a perfect generator trains as well as the real rows
    return result


# ---- distributions (for the report's plots) --------------------------------------------------
DISTRIBUTION_BINS = 20
TOP_CATEGORIES = 20


def distributions(train: pd.DataFrame, synth: pd.DataFrame, holdout: pd.DataFrame,
                  schema: Schema) -> Result:
    """Binned shares of each column, real vs synth: what the report plots.

    Numbers and dates: 20 equal-width bins over train's range (synth values outside it go to
    the end bins); categories: the 20 most common in train, the rest as "(other)". Missing
    values are their own bin. ``value`` = 1 - total variation distance of the binned shares.
    """
    result = Result()
    for c in scored_columns(schema):
        real, other = train[c], synth[c]
        if schema.columns[c].kind in NUMERIC:
            r, o = as_number(real), as_number(other)
            lo, hi = (float(r.min()), float(r.max())) if r.notna().any() else (0.0, 1.0)
            edges = np.linspace(lo, hi if hi > lo else lo + 1, DISTRIBUTION_BINS + 1)
            labels = [f"{edges[i]:.4g}" for i in range(DISTRIBUTION_BINS)]
            if schema.columns[c].kind == ColumnKind.datetime:
                labels = [str(pd.Timestamp(int(edges[i])).date()) for i in range(DISTRIBUTION_BINS)]

            def shares(x: pd.Series, edges: np.ndarray = edges) -> list[float]:
                v = x.dropna().to_numpy()
                counts = np.histogram(np.clip(v, edges[0], edges[-1]), edges)[0]
                return (counts / max(1, len(x))).tolist()
            real_shares, synth_shares = shares(r), shares(o)
        else:
            text_r = real.dropna().map(category_text)
            text_o = other.dropna().map(category_text)
            top = text_r.value_counts().index[:TOP_CATEGORIES].tolist()
            labels = [str(v) for v in top]
            real_shares = [float((text_r == v).sum() / max(1, len(real))) for v in top]
            synth_shares = [float((text_o == v).sum() / max(1, len(other))) for v in top]
            if text_r.nunique() > TOP_CATEGORIES or (~text_o.isin(top)).any():
                labels.append("(other)")
                real_shares.append(float((~text_r.isin(top)).sum() / max(1, len(real))))
                synth_shares.append(float((~text_o.isin(top)).sum() / max(1, len(other))))
        if real.isna().any() or other.isna().any():
            labels.append("(missing)")
            real_shares.append(float(real.isna().mean()))
            synth_shares.append(float(other.isna().mean()) if len(other) else 0.0)
        similarity = 1.0 - 0.5 * float(np.abs(np.subtract(real_shares, synth_shares)).sum())
        result.details.append(row([c], "Distribution", similarity, bins=labels,
                                  real=real_shares, synth=synth_shares))
    return result


# ---- constraints the schema declares ---------------------------------------------------------
def _violations(df: pd.DataFrame, schema: Schema) -> dict[str, dict[str, pd.Series]]:
    """Per column, per constraint (``range``, ``category``, ``nullable``), the rows of ``df``
    that break a constraint a person declared (``inferred`` columns declare none)."""
    out: dict[str, dict[str, pd.Series]] = {}
    for name in schema.modelled_columns:
        col = schema.columns[name]
        if col.inferred or name not in df.columns:
            continue
        values = df[name].reset_index(drop=True)
        broken: dict[str, pd.Series] = {}
        if not col.nullable:
            broken["nullable"] = values.isna()
        if col.kind in NUMERIC and (col.min is not None or col.max is not None):
            if col.kind == ColumnKind.datetime:
                numbers = pd.to_datetime(values, errors="coerce")
                low, high = (None if b is None else pd.Timestamp(str(b))
                             for b in (col.min, col.max))
            else:
                numbers = as_number(values)
                low, high = (None if b is None else float(b) for b in (col.min, col.max))
            outside = pd.Series(False, index=values.index)
            if low is not None:
                outside |= (numbers < low).fillna(False).astype(bool)
            if high is not None:
                outside |= (numbers > high).fillna(False).astype(bool)
            broken["range"] = outside
        if col.kind in CATEGORICAL and col.categories:
            allowed = {category_text(c) for c in col.categories}
            broken["category"] = values.map(
                lambda v, allowed=allowed: pd.notna(v) and category_text(v) not in allowed
            ).astype(bool)
        if broken:
            out[name] = broken
    return out


def constraint_violations(train: pd.DataFrame, synth: pd.DataFrame, holdout: pd.DataFrame,
                          schema: Schema) -> Result:
    """Share of synthetic rows that break a declared range, category or nullability.

    A table made by synthdata keeps to the schema by construction; one from another tool may
    not (ages of 200, a category the schema does not list). The holdout's own share, 0 as it
    was refused otherwise, is the reference.
    """
    result = Result()
    found = _violations(synth, schema)
    any_row = pd.Series(False, index=pd.RangeIndex(len(synth)))
    for name, broken in found.items():
        for constraint, mask in broken.items():
            any_row |= mask.to_numpy()
            n = int(mask.sum())
            if n:
                first = mask[mask].index[0]
                result.details.append(row(
                    [name], "constraint_violations", n / max(len(synth), 1), constraint=constraint,
                    rows=n, example=str(synth[name].iloc[int(first)])[:60]))
    share = float(any_row.mean()) if len(synth) else 0.0
    result.figures["constraint_violations"] = share
    result.figures["constraint_violation_rows"] = int(any_row.sum())
    result.figures["constraints_checked"] = sum(len(b) for b in found.values())
    result.scores["constraint_conformance"] = 1.0 - share
    held = _violations(holdout, schema)
    held_any = np.zeros(len(holdout), dtype=bool)
    for broken in held.values():
        for mask in broken.values():
            held_any |= mask.to_numpy()
    result.reference["constraint_violations"] = float(held_any.mean()) if len(holdout) else 0.0
    return result


# ---- all of it -------------------------------------------------------------------------------
def evaluate_fidelity(train: pd.DataFrame, synth: pd.DataFrame, holdout: pd.DataFrame,
                      schema: Schema, *, seed: int = 0) -> dict[str, Any]:
    """Every fidelity metric; a metric that fails records its error instead of sinking the rest.

    Returns the report's ``fidelity`` section: ``figures``, ``scores``, ``details``,
    ``reference``.
    """
    out = run_metrics("fidelity", [
        ("column_quality", lambda: column_quality(train, synth, holdout, schema)),
        ("category_coverage", lambda: category_coverage(train, synth, holdout, schema)),
        ("range_coverage", lambda: range_coverage(train, synth, holdout, schema)),
        ("missing_rate_similarity",
         lambda: missing_rate_similarity(train, synth, holdout, schema)),
        ("detection", lambda: detection(train, synth, holdout, schema, seed=seed)),
        ("ml_efficacy", lambda: ml_efficacy(train, synth, holdout, schema, seed=seed)),
        ("distributions", lambda: distributions(train, synth, holdout, schema)),
        ("constraint_violations",
         lambda: constraint_violations(train, synth, holdout, schema)),
    ])
    return {"figures": out.figures, "scores": out.scores, "details": out.details,
            "reference": out.reference}


# what the export gate checks in this section (see synthdata/gate.py)
GATED = (
    Gated("column_shapes", "min_column_shapes", "column shapes (how well each synthetic "
          "column's distribution matches the real one)", upper=False),
    Gated("column_pair_trends", "min_column_pair_trends", "column pair trends (how well "
          "correlations between columns are kept)", upper=False),
    Gated("detection_auc", "max_detection_auc",
          "the AUC of a classifier telling synthetic rows from real ones"),
    # None without a target, or when a model trained on the real rows does no better than
    # chance (nothing to keep): skipped
    Gated("ml_efficacy_skill", "min_ml_efficacy", "the share of a real-trained model's skill "
          "above chance that a model trained on the synthetic rows keeps (0 = a coin toss, "
          "1 = as useful as the real rows)", upper=False, confidence="ml_efficacy_skill_upper"),
    Gated("constraint_violations", "max_constraint_violations", "the share of synthetic rows "
          "that break a range, category or nullability the schema declares"),
)
