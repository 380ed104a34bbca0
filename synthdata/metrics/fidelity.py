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
"""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from synthdata.schema import ColumnKind, Schema, category_text

logger = logging.getLogger(__name__)

__all__ = [
    "Result",
    "category_coverage",
    "column_quality",
    "detection",
    "evaluate_fidelity",
    "ml_efficacy",
    "missing_rate_similarity",
    "range_coverage",
]

_SDTYPES = {
    ColumnKind.numerical: "numerical",
    ColumnKind.integer: "numerical",
    ColumnKind.categorical: "categorical",
    ColumnKind.ordinal: "categorical",
    ColumnKind.boolean: "boolean",
    ColumnKind.datetime: "datetime",
}
_NUMERIC = (ColumnKind.numerical, ColumnKind.integer, ColumnKind.datetime)
_CATEGORICAL = (ColumnKind.categorical, ColumnKind.ordinal, ColumnKind.boolean)
RANGE_BINS = 20
CV_FOLDS = 5
MAX_DETECTION_ROWS = 20_000  # per side; enough for a stable AUC, bounded time
TOP_FEATURES = 5


@dataclass
class Result:
    """One metric's output; merged into the report's fidelity section."""

    figures: dict[str, Any] = field(default_factory=dict)
    scores: dict[str, float | None] = field(default_factory=dict)
    details: list[dict[str, Any]] = field(default_factory=list)
    reference: dict[str, Any] = field(default_factory=dict)


def _row(columns: list[str], metric: str, value: float | None, error: str | None = None,
         **extra: Any) -> dict[str, Any]:
    return {"columns": columns, "metric": metric, "value": _clean(value), "error": error, **extra}


def _clean(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(value) else None
    return value


def _mean(values: Sequence[float | None]) -> float | None:
    kept = [v for v in values if v is not None and math.isfinite(v)]
    return float(np.mean(kept)) if kept else None


def scored_columns(schema: Schema) -> list[str]:
    """Columns whose distributions are compared (ids, PII and free text are not)."""
    return [name for name, col in schema.columns.items() if col.kind in _SDTYPES]


# ---- column shapes and pair trends (sdmetrics) -----------------------------------------------
def sdmetrics_metadata(schema: Schema) -> dict[str, Any]:
    return {"columns": {c: {"sdtype": _SDTYPES[schema.columns[c].kind]}
                        for c in scored_columns(schema)}}


def _for_sdmetrics(df: pd.DataFrame, schema: Schema) -> pd.DataFrame:
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


def _quality(real: pd.DataFrame, synth: pd.DataFrame, schema: Schema) -> tuple[dict, list]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # the single-table report (a deprecated alias in sdmetrics, same properties)
        from sdmetrics.reports.single_table import QualityReport

        report = QualityReport()
        report.num_rows_subsample = None  # deterministic figures: score every row
        report.generate(
            _for_sdmetrics(real, schema),
            _for_sdmetrics(synth, schema),
            sdmetrics_metadata(schema),
            verbose=False,
        )
    props = report.get_properties().set_index("Property")["Score"]
    figures = {
        "column_shapes": _clean(float(props.get("Column Shapes", np.nan))),
        "column_pair_trends": _clean(float(props.get("Column Pair Trends", np.nan))),
    }
    details = []
    for row in report.get_details("Column Shapes").to_dict("records"):
        details.append(_row([row["Column"]], row["Metric"], float(row["Score"]),
                            row.get("Error") if isinstance(row.get("Error"), str) else None))
    for row in report.get_details("Column Pair Trends").to_dict("records"):
        details.append(_row([row["Column 1"], row["Column 2"]], row["Metric"],
                            float(row["Score"]),
                            row.get("Error") if isinstance(row.get("Error"), str) else None))
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
    result = Result()
    values, ref = [], []
    for c in scored_columns(schema):
        if schema.columns[c].kind not in _CATEGORICAL:
            continue
        value = _category_coverage(train[c], synth[c])
        missing = sorted(set(train[c].dropna().astype(str)) - set(synth[c].dropna().astype(str)))
        result.details.append(_row([c], "CategoryCoverage", value,
                                   missing_categories=missing[:20]))
        values.append(value)
        ref.append(_category_coverage(train[c], holdout[c]))
    result.figures["category_coverage"] = _mean(values)
    result.scores["category_coverage"] = result.figures["category_coverage"]
    result.reference["category_coverage"] = _mean(ref)
    return result


def _as_number(series: pd.Series) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(series):
        return series.astype("int64").where(series.notna()).astype("float64")
    return pd.to_numeric(series, errors="coerce").astype("float64")


def _range_coverage(real: pd.Series, other: pd.Series) -> float | None:
    """Share of the real distribution's quantile bins (with real rows) that ``other`` reaches."""
    r = _as_number(real).dropna().to_numpy()
    o = _as_number(other).dropna().to_numpy()
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
    result = Result()
    values, ref = [], []
    for c in scored_columns(schema):
        if schema.columns[c].kind not in _NUMERIC:
            continue
        value = _range_coverage(train[c], synth[c])
        result.details.append(_row([c], "RangeCoverage", value))
        values.append(value)
        ref.append(_range_coverage(train[c], holdout[c]))
    result.figures["range_coverage"] = _mean(values)
    result.scores["range_coverage"] = result.figures["range_coverage"]
    result.reference["range_coverage"] = _mean(ref)
    return result


def missing_rate_similarity(train: pd.DataFrame, synth: pd.DataFrame, holdout: pd.DataFrame,
                            schema: Schema) -> Result:
    """1 - |missing rate in train - missing rate in synth|, per column."""
    result = Result()
    values, ref = [], []
    for c in scored_columns(schema):
        rate_train = float(train[c].isna().mean())
        value = 1.0 - abs(rate_train - float(synth[c].isna().mean()))
        result.details.append(_row([c], "MissingRateSimilarity", value,
                                   real_missing_rate=rate_train,
                                   synth_missing_rate=float(synth[c].isna().mean())))
        values.append(value)
        ref.append(1.0 - abs(rate_train - float(holdout[c].isna().mean())))
    result.figures["missing_rate_similarity"] = _mean(values)
    result.scores["missing_rate_similarity"] = result.figures["missing_rate_similarity"]
    result.reference["missing_rate_similarity"] = _mean(ref)
    return result


# ---- features for the classifiers ------------------------------------------------------------
def _features(frames: list[pd.DataFrame], columns: list[str], schema: Schema
              ) -> tuple[list[pd.DataFrame], list[bool]]:
    """Encode frames alike: numbers and dates as floats, categories as shared integer codes."""
    encoded: list[dict[str, np.ndarray]] = [{} for _ in frames]
    is_cat = []
    for c in columns:
        kind = schema.columns[c].kind
        if kind in _NUMERIC:
            for enc, df in zip(encoded, frames, strict=True):
                enc[c] = _as_number(df[c]).to_numpy()
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


def _hgb_classifier(is_cat: list[bool], seed: int):  # type: ignore[no-untyped-def]
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(
        categorical_features=np.array(is_cat, dtype=bool) if any(is_cat) else None,
        max_iter=100, learning_rate=0.1, random_state=seed,
    )


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
    (x_real, x_other), is_cat = _features([real, other], columns, schema)
    x = pd.concat([x_real, x_other], ignore_index=True)
    y = np.r_[np.zeros(n, dtype=int), np.ones(n, dtype=int)]
    proba = np.zeros(len(y))
    # identical rows stay in one fold: otherwise a test row's twin with the other label sits
    # in the training fold and the classifier "learns" to predict the opposite (AUC << 0.5)
    groups = pd.util.hash_pandas_object(x, index=False).to_numpy()
    folds = StratifiedGroupKFold(n_splits=CV_FOLDS, shuffle=True, random_state=seed)
    importance = np.zeros(len(columns))
    for train_idx, test_idx in folds.split(x, y, groups):
        model = _hgb_classifier(is_cat, seed).fit(x.iloc[train_idx], y[train_idx])
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
    result.details.append(_row(scored_columns(schema), "DetectionAUC", auc))
    for item in top:
        result.details.append(_row([item["column"]], "DetectionPermutationImportance",
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


def _efficacy(fit_on: pd.DataFrame, test_on: pd.DataFrame, reference: pd.DataFrame,
              schema: Schema, task: str, seed: int) -> tuple[float | None, str | None]:
    from sklearn.ensemble import HistGradientBoostingRegressor
    from sklearn.metrics import f1_score, r2_score, roc_auc_score

    target = schema.target
    assert target is not None
    fit_on = fit_on[fit_on[target].notna()]
    test_on = test_on[test_on[target].notna()]
    features = [c for c in scored_columns(schema) if c != target]
    (x_fit, x_test), is_cat = _features([fit_on, test_on], features, schema)
    if task == "regression":
        y_fit = _as_number(fit_on[target]).to_numpy()
        y_test = _as_number(test_on[target]).to_numpy()
        model = HistGradientBoostingRegressor(
            categorical_features=np.array(is_cat) if any(is_cat) else None, random_state=seed)
        model.fit(x_fit, y_fit)
        return float(r2_score(y_test, model.predict(x_test))), None
    y_fit = fit_on[target].astype(str).to_numpy()
    y_test = test_on[target].astype(str).to_numpy()
    if len(set(y_fit)) < 2:
        only = next(iter(set(y_fit)), "nothing")
        # a model that has seen one class predicts it everywhere: chance-level ranking
        if task == "binary":
            return 0.5, f"training table has one class ({only!r}); scored as chance (AUC 0.5)"
        pred = np.full(len(y_test), only)
        return float(f1_score(y_test, pred, average="macro")), f"one class ({only!r}) only"
    model = _hgb_classifier(is_cat, seed).fit(x_fit, y_fit)
    if task == "binary":
        counts = reference[target].astype(str).value_counts()
        positive = "True" if "True" in counts.index else counts.idxmin()  # the rarer class
        column = list(model.classes_).index(positive) if positive in model.classes_ else None
        if column is None:
            return 0.5, f"positive class {positive!r} absent from the training table"
        return float(roc_auc_score(y_test == positive, model.predict_proba(x_test)[:, column])), \
            None
    return float(f1_score(y_test, model.predict(x_test), average="macro")), None


def ml_efficacy(train: pd.DataFrame, synth: pd.DataFrame, holdout: pd.DataFrame,
                schema: Schema, *, seed: int = 0) -> Result:
    """Train on synth, test on holdout (TSTR) vs train on train, test on holdout (TRTR)."""
    result = Result()
    if schema.target is None:
        return result
    task = _task(schema, train)
    metric = {"binary": "roc_auc", "multiclass": "macro_f1", "regression": "r2"}[task]
    tstr, error = _efficacy(synth, holdout, train, schema, task, seed)
    trtr, _ = _efficacy(train, holdout, train, schema, task, seed)
    ratio = None
    if tstr is not None and trtr is not None and trtr > 0:
        ratio = max(0.0, tstr) / trtr
    result.figures.update({"tstr": tstr, "trtr": trtr, "ml_efficacy_ratio": ratio,
                           "ml_efficacy_metric": metric, "ml_task": task})
    result.scores["ml_efficacy"] = None if ratio is None else min(1.0, ratio)
    result.details.append(_row([schema.target], f"TSTR_{metric}", tstr, error))
    result.details.append(_row([schema.target], f"TRTR_{metric}", trtr))
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
        if schema.columns[c].kind in _NUMERIC:
            r, o = _as_number(real), _as_number(other)
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
        result.details.append(_row([c], "Distribution", similarity, bins=labels,
                                   real=real_shares, synth=synth_shares))
    return result


# ---- all of it -------------------------------------------------------------------------------
def evaluate_fidelity(train: pd.DataFrame, synth: pd.DataFrame, holdout: pd.DataFrame,
                      schema: Schema, *, seed: int = 0) -> dict[str, Any]:
    """Every fidelity metric; a metric that fails records its error instead of sinking the rest.

    Returns the report's ``fidelity`` section: ``figures``, ``scores``, ``details``,
    ``reference``.
    """
    out = Result()
    metrics = [
        ("column_quality", lambda: column_quality(train, synth, holdout, schema)),
        ("category_coverage", lambda: category_coverage(train, synth, holdout, schema)),
        ("range_coverage", lambda: range_coverage(train, synth, holdout, schema)),
        ("missing_rate_similarity",
         lambda: missing_rate_similarity(train, synth, holdout, schema)),
        ("detection", lambda: detection(train, synth, holdout, schema, seed=seed)),
        ("ml_efficacy", lambda: ml_efficacy(train, synth, holdout, schema, seed=seed)),
        ("distributions", lambda: distributions(train, synth, holdout, schema)),
    ]
    for name, compute in metrics:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                part = compute()
        except Exception as exc:  # one failed metric is reported, not fatal
            logger.warning("fidelity metric %s failed: %s", name, exc)
            out.details.append(_row([], name, None, f"{type(exc).__name__}: {exc}"))
            continue
        out.figures.update(part.figures)
        out.scores.update(part.scores)
        out.details.extend(part.details)
        out.reference.update(part.reference)
    return {"figures": out.figures, "scores": out.scores, "details": out.details,
            "reference": out.reference}
