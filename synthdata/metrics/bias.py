"""Bias: does the synthetic table keep, widen or hide the unfairness in the real one?

Measured for each column in the schema's ``sensitive`` list and, when ``bias.intersections`` is
on, for each pair of them (key ``"sex*race"``, groups ``"Female & White"``). Numeric sensitive
columns are cut into quartile bins of train. Groups with fewer than ``bias.min_group_size`` rows
are skipped and listed with their sizes (``bias.skipped``); they never fail the report.

Three checks, train vs synth:

- **Representation**: each group's share of the rows; total variation distance (TVD) over the
  groups; groups that vanished from synth or appeared in it.
- **Outcome parity** (needs a target): each group's positive rate (the target's positive class:
  ``True``, else the rarest class; for a numeric target, above train's median). The
  demographic-parity difference (largest minus smallest group rate) and ratio (smallest / largest)
  in each table.
- **Downstream fairness** (needs a target): a HistGradientBoosting classifier trained on synth and
  one trained on train, both tested on the holdout. Each flags as positive the same share of the
  holdout as train's positive rate (at the default 0.5 threshold a rare outcome is predicted for
  almost nobody and every gap reads 0). Per group TPR, FPR and selection rate, the
  equalized-odds difference and demographic-parity difference of each model, from ``fairlearn``.

Flags (``bias.flags``): a flag needs a change larger than its tolerance (``bias:`` block of the
schema) **and** one that sampling noise does not explain: a two-proportion z-test for shares and
rates, a bootstrap over holdout rows for the models; all tests of one report share a
family-wise error rate ``bias.alpha`` (Bonferroni). A fresh sample from the same population
therefore raises no flag, whatever the number of groups. Each flag says whether synth
*widens* a group's gap to the other groups, *narrows* it (also a distortion: it hides a
disparity researchers need to see), *reverses* it, or *loses* the group, with a severity:
``block`` (lost group, widened or reversed outcome gap) or ``warn`` (everything else).

Scores (``bias.scores``, in [0, 1], higher = bias kept as it is): ``representation`` =
1 - largest TVD; ``outcome_parity`` = 1 - largest change of a parity difference;
``downstream_fairness`` = 1 - largest change of a model's equalized-odds difference.

The downstream models' encoding and classifier (shared with fidelity's detection and ML
efficacy), ``as_number`` and ``scored_columns`` live in ``metrics._encoding``; ``clean`` in
``metrics._base``.
"""

from __future__ import annotations

import itertools
import logging
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from synthdata.metrics._base import Gated, bootstrap_weights, clean
from synthdata.metrics._encoding import (
    NUMERIC,
    as_number,
    features,
    hgb_classifier,
    scored_columns,
)
from synthdata.schema import BiasConfig, ColumnKind, Schema, category_text

logger = logging.getLogger(__name__)

__all__ = ["evaluate_bias", "group_labels", "positive_outcome"]

MISSING = "(missing)"
NUMERIC_BINS = 4
BOOTSTRAP_ROUNDS = 200
MIN_CLASS_ROWS = 10  # positives and negatives a group needs in the holdout for TPR/FPR
MAX_HOLDOUT_ROWS = 50_000


# ---- groups and outcomes ---------------------------------------------------------------------
def _edges(train: pd.Series) -> np.ndarray:
    values = as_number(train).dropna().to_numpy()
    if len(values) == 0:
        return np.array([])
    return np.unique(np.quantile(values, np.linspace(0, 1, NUMERIC_BINS + 1)[1:-1]))


def _fmt(x: float) -> str:
    return f"{x:g}"


def _single_labels(df: pd.DataFrame, column: str, schema: Schema, edges: np.ndarray | None
                   ) -> pd.Series:
    values = df[column]
    if edges is None:
        out = values.astype(object).map(
            lambda v: MISSING if v is None or (isinstance(v, float) and math.isnan(v))
            or v is pd.NA or v is pd.NaT else category_text(v))
        return out.astype(str)
    numbers = as_number(values).to_numpy()
    bins = np.searchsorted(edges, numbers, side="right")
    bounds = ["-inf", *[_fmt(e) for e in edges], "inf"]
    names = np.array([f"[{bounds[i]}, {bounds[i + 1]})" for i in range(len(bounds) - 1)],
                     dtype=object)
    labels = names[bins]
    labels[np.isnan(numbers)] = MISSING
    return pd.Series(labels, index=df.index, dtype=object).astype(str)


def group_labels(frames: list[pd.DataFrame], columns: list[str], schema: Schema
                 ) -> list[pd.Series]:
    """Group label of every row of each frame; numeric columns binned on the first frame."""
    parts: list[list[pd.Series]] = [[] for _ in frames]
    for c in columns:
        edges = _edges(frames[0][c]) if schema.columns[c].kind in NUMERIC else None
        for part, df in zip(parts, frames, strict=True):
            part.append(_single_labels(df, c, schema, edges))
    out = []
    for part in parts:
        label = part[0]
        for more in part[1:]:
            label = label + " & " + more
        out.append(label)
    return out


def positive_outcome(schema: Schema, train: pd.DataFrame) -> tuple[Any, str]:
    """``(positive, description)``: how a target value counts as the positive outcome."""
    target = schema.target
    assert target is not None
    kind = schema.columns[target].kind
    values = train[target].dropna()
    if kind in (ColumnKind.numerical, ColumnKind.integer) and values.nunique() > 10:
        median = float(as_number(values).median())
        return ("median", median), f"{target} > {median:g} (train median)"
    counts = values.map(category_text).value_counts()
    positive = "True" if "True" in counts.index else str(counts.sort_index().idxmin())
    return ("class", positive), f"{target} = {positive}"


def _indicator(df: pd.DataFrame, schema: Schema, rule: tuple[str, Any]) -> pd.Series:
    """1/0 positive outcome, NaN where the target is missing."""
    target = schema.target
    assert target is not None
    values = df[target]
    if rule[0] == "median":
        hit = as_number(values) > rule[1]
    else:
        hit = values.map(lambda v: category_text(v) == rule[1] if pd.notna(v) else False)
    return hit.astype("float64").where(values.notna())


# ---- tests -----------------------------------------------------------------------------------
def _two_proportion_p(k1: float, n1: float, k2: float, n2: float) -> float:
    """Two-sided p-value of a pooled two-proportion z-test (1.0 when undefined)."""
    if n1 <= 0 or n2 <= 0:
        return 1.0
    pooled = (k1 + k2) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if se == 0:
        return 1.0
    z = abs(k1 / n1 - k2 / n2) / se
    return math.erfc(z / math.sqrt(2))


def _z_p(diff: float, se: float) -> float:
    if not math.isfinite(se) or se <= 0:
        return 0.0 if diff != 0 else 1.0
    return math.erfc(abs(diff) / se / math.sqrt(2))


@dataclass
class _Candidate:
    """A change that becomes a flag if it beats its tolerance and survives the test."""

    column: str
    group: str
    check: str
    real: float | None
    synth: float | None
    tolerance: float
    p_value: float
    beyond_tolerance: bool
    change: str
    severity: str
    message: str
    extra: dict[str, Any] = field(default_factory=dict)


def _gap_change(gap_real: float, gap_synth: float, tolerance: float) -> str:
    """widens | narrows | reverses (the other side, by more than the tolerance)."""
    if gap_real * gap_synth < 0 and abs(gap_synth) > tolerance:
        return "reverses"
    return "widens" if abs(gap_synth) > abs(gap_real) else "narrows"


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.1f} %"


# ---- one column (or intersection) ------------------------------------------------------------
@dataclass
class _Column:
    key: str
    figures: dict[str, Any] = field(default_factory=dict)
    details: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[dict[str, Any]] = field(default_factory=list)
    candidates: list[_Candidate] = field(default_factory=list)


def _representation(col: _Column, g_train: pd.Series, g_synth: pd.Series, cfg: BiasConfig
                    ) -> set[str]:
    """Shares per group; returns the groups big enough in train and synth for rate checks."""
    n_t, n_s = len(g_train), len(g_synth)
    c_t, c_s = g_train.value_counts(), g_synth.value_counts()
    groups = sorted(set(c_t.index) | set(c_s.index))
    shares_t = {g: c_t.get(g, 0) / n_t for g in groups}
    shares_s = {g: c_s.get(g, 0) / n_s for g in groups} if n_s else dict.fromkeys(groups, 0.0)
    col.figures["representation_tvd"] = 0.5 * sum(abs(shares_t[g] - shares_s[g]) for g in groups)
    lost, new, both = [], [], set()
    for g in groups:
        k_t, k_s = int(c_t.get(g, 0)), int(c_s.get(g, 0))
        col.details.append({"columns": [col.key], "metric": "GroupShare", "group": g,
                            "real": shares_t[g], "synth": shares_s[g], "n_real": k_t,
                            "n_synth": k_s})
        if k_t < cfg.min_group_size:
            if k_t == 0 and k_s >= cfg.min_group_size:
                new.append(g)
                col.candidates.append(_Candidate(
                    col.key, g, "representation", 0.0, shares_s[g], 0.0,
                    p_value=0.0, beyond_tolerance=True, change="appeared", severity="warn",
                    message=f"group {g!r} does not occur in the real rows but makes up "
                            f"{_pct(shares_s[g])} of the synthetic ones ({k_s} rows)"))
            else:
                col.skipped.append({"column": col.key, "group": g, "n_real": k_t,
                                    "n_synth": k_s, "min_group_size": cfg.min_group_size,
                                    "reason": "fewer real rows than min_group_size"})
            continue
        if k_s == 0:
            lost.append(g)
            # chance that a fresh sample of n_s rows holds none of a group this common
            p = (1 - shares_t[g]) ** n_s
            col.candidates.append(_Candidate(
                col.key, g, "representation", shares_t[g], 0.0, cfg.representation_tolerance,
                p_value=p, beyond_tolerance=True, change="lost", severity="block",
                message=f"group {g!r} ({_pct(shares_t[g])} of the real rows, {k_t} rows) is "
                        "missing from the synthetic table"))
            continue
        diff = shares_s[g] - shares_t[g]
        ratio = shares_s[g] / shares_t[g]
        beyond = abs(diff) > cfg.representation_tolerance or not (
            1 / cfg.representation_ratio <= ratio <= cfg.representation_ratio)
        col.candidates.append(_Candidate(
            col.key, g, "representation", shares_t[g], shares_s[g],
            cfg.representation_tolerance, p_value=_two_proportion_p(k_t, n_t, k_s, n_s),
            beyond_tolerance=beyond, change="shrinks" if diff < 0 else "grows", severity="warn",
            message=f"group {g!r} makes up {_pct(shares_s[g])} of the synthetic rows vs "
                    f"{_pct(shares_t[g])} of the real ones"))
        if k_s >= cfg.min_group_size:
            both.add(g)
        else:
            col.skipped.append({"column": col.key, "group": g, "n_real": k_t, "n_synth": k_s,
                                "min_group_size": cfg.min_group_size,
                                "reason": "fewer synthetic rows than min_group_size; "
                                          "outcome checks skipped"})
    col.figures["groups_lost"] = lost
    col.figures["groups_new"] = new
    return both


def _rates(groups: pd.Series, y: pd.Series, keep: set[str]) -> dict[str, tuple[float, int, int]]:
    """group -> (rate, positives, rows) over rows with a known outcome."""
    known = y.notna()
    frame = pd.DataFrame({"g": groups[known].to_numpy(), "y": y[known].to_numpy()})
    out = {}
    for g, part in frame.groupby("g"):
        if g in keep:
            out[str(g)] = (float(part["y"].mean()), int(part["y"].sum()), len(part))
    return out


def _parity(rates: dict[str, tuple[float, int, int]]) -> tuple[float | None, float | None]:
    values = [r for r, _, _ in rates.values()]
    if len(values) < 2:
        return None, None
    hi, lo = max(values), min(values)
    return hi - lo, (lo / hi if hi > 0 else 1.0)


def _outcome_parity(col: _Column, g_train: pd.Series, g_synth: pd.Series, y_train: pd.Series,
                    y_synth: pd.Series, keep: set[str], cfg: BiasConfig) -> None:
    rates_t = _rates(g_train, y_train, keep)
    rates_s = _rates(g_synth, y_synth, keep)
    groups = sorted(set(rates_t) & set(rates_s))
    rates_t = {g: rates_t[g] for g in groups}
    rates_s = {g: rates_s[g] for g in groups}
    gap_t, ratio_t = _parity(rates_t)
    gap_s, ratio_s = _parity(rates_s)
    col.figures.update({
        "parity_gap_real": gap_t, "parity_gap_synth": gap_s,
        "parity_ratio_real": ratio_t, "parity_ratio_synth": ratio_s,
    })
    for g in groups:
        (r_t, k_t, n_t), (r_s, k_s, n_s) = rates_t[g], rates_s[g]
        col.details.append({"columns": [col.key], "metric": "PositiveRate", "group": g,
                            "real": r_t, "synth": r_s, "n_real": n_t, "n_synth": n_s})
        if len(groups) < 2:
            continue
        others_t = [(k, n) for h, (_, k, n) in rates_t.items() if h != g]
        others_s = [(k, n) for h, (_, k, n) in rates_s.items() if h != g]
        o_t = sum(k for k, _ in others_t) / sum(n for _, n in others_t)
        o_s = sum(k for k, _ in others_s) / sum(n for _, n in others_s)
        change = _gap_change(r_t - o_t, r_s - o_s, cfg.outcome_rate_tolerance)
        col.candidates.append(_Candidate(
            col.key, g, "outcome_parity", r_t, r_s, cfg.outcome_rate_tolerance,
            p_value=_two_proportion_p(k_t, n_t, k_s, n_s),
            beyond_tolerance=abs(r_s - r_t) > cfg.outcome_rate_tolerance,
            change=change, severity="warn" if change == "narrows" else "block",
            message=f"positive rate of group {g!r} is {_pct(r_s)} in the synthetic rows vs "
                    f"{_pct(r_t)} in the real ones (other groups: {_pct(o_s)} vs {_pct(o_t)}): "
                    f"the synthetic table {change} its gap to the other groups",
            extra={"gap_real": r_t - o_t, "gap_synth": r_s - o_s}))


# ---- downstream models -----------------------------------------------------------------------
def _scores(fit_on: pd.DataFrame, y_fit: pd.Series, test_on: pd.DataFrame, schema: Schema,
            seed: int) -> np.ndarray | None:
    target = schema.target
    columns = [c for c in scored_columns(schema) if c != target]
    known = y_fit.notna().to_numpy()
    y = y_fit.to_numpy()[known].astype(int)
    if len(set(y)) < 2:
        return None
    (x_fit, x_test), is_cat = features([fit_on[known], test_on], columns, schema)
    model = hgb_classifier(is_cat, seed).fit(x_fit, y)
    return model.predict_proba(x_test)[:, list(model.classes_).index(1)]


def _top_share(scores: np.ndarray, share: float, rng: np.random.Generator) -> np.ndarray:
    """1 for the ``share`` of rows with the highest scores (ties broken at random)."""
    k = int(round(share * len(scores)))
    order = np.lexsort((rng.random(len(scores)), -scores))
    pred = np.zeros(len(scores), dtype=int)
    pred[order[:k]] = 1
    return pred


def _rates_from_counts(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """counts[..., group, y, pred] -> TPR, FPR, selection rate per group (NaN when undefined)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        tpr = counts[..., 1, 1] / counts[..., 1, :].sum(-1)
        fpr = counts[..., 0, 1] / counts[..., 0, :].sum(-1)
        sel = counts[..., :, 1].sum(-1) / counts.sum((-1, -2))
    return tpr, fpr, sel


def _spread(x: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return np.nanmax(x, -1) - np.nanmin(x, -1)


def _eo(counts: np.ndarray) -> np.ndarray:
    tpr, fpr, _ = _rates_from_counts(counts)
    return np.maximum(_spread(tpr), _spread(fpr))


def _counts(codes: np.ndarray, y: np.ndarray, pred: np.ndarray, n_groups: int,
            weights: np.ndarray | None = None) -> np.ndarray:
    flat = np.bincount(codes * 4 + y * 2 + pred, weights=weights, minlength=4 * n_groups)
    return flat.reshape(n_groups, 2, 2)


@dataclass
class _Models:
    """Holdout predictions of the two downstream models."""

    y: np.ndarray  # holdout outcome, rows with a known outcome
    pred_real: np.ndarray
    pred_synth: np.ndarray
    known: np.ndarray  # mask over the holdout rows
    threshold_share: float


def _fit_models(train: pd.DataFrame, synth: pd.DataFrame, holdout: pd.DataFrame,
                y_train: pd.Series, y_synth: pd.Series, y_holdout: pd.Series, schema: Schema,
                seed: int) -> tuple[_Models | None, str | None]:
    known = y_holdout.notna().to_numpy()
    score_real = _scores(train, y_train, holdout, schema, seed)
    score_synth = _scores(synth, y_synth, holdout, schema, seed)
    if score_real is None or score_synth is None:
        which = "train" if score_real is None else "synth"
        return None, f"{which} holds one outcome class only: no downstream model"
    share = float(y_train.mean())
    rng = np.random.default_rng(seed)
    return _Models(
        y=y_holdout.to_numpy()[known].astype(int),
        pred_real=_top_share(score_real[known], share, rng),
        pred_synth=_top_share(score_synth[known], share, rng),
        known=known,
        threshold_share=share,
    ), None


def _downstream(col: _Column, g_holdout: pd.Series, models: _Models, cfg: BiasConfig,
                seed: int) -> None:
    from fairlearn.metrics import (
        MetricFrame,
        demographic_parity_difference,
        equalized_odds_difference,
        false_positive_rate,
        selection_rate,
        true_positive_rate,
    )

    labels = g_holdout.to_numpy()[models.known]
    y = models.y
    eligible = []
    for g in sorted(set(labels)):
        in_g = labels == g
        n_pos, n_neg = int(y[in_g].sum()), int((1 - y[in_g]).sum())
        if in_g.sum() < cfg.min_group_size or min(n_pos, n_neg) < MIN_CLASS_ROWS:
            col.skipped.append({
                "column": col.key, "group": str(g), "n_holdout": int(in_g.sum()),
                "n_holdout_positive": n_pos, "n_holdout_negative": n_neg,
                "min_group_size": cfg.min_group_size,
                "reason": f"downstream fairness needs {cfg.min_group_size} holdout rows with "
                          f"at least {MIN_CLASS_ROWS} of each outcome"})
        else:
            eligible.append(str(g))
    if len(eligible) < 2:
        col.figures.update({"eo_gap_real_model": None, "eo_gap_synth_model": None,
                            "dp_gap_real_model": None, "dp_gap_synth_model": None})
        return
    mask = np.isin(labels, eligible)
    lab, yy = labels[mask], y[mask]
    codes = np.searchsorted(np.array(eligible), lab)
    point: dict[str, dict[str, Any]] = {}
    for name, pred in (("real", models.pred_real[mask]), ("synth", models.pred_synth[mask])):
        frame = MetricFrame(
            metrics={"tpr": true_positive_rate, "fpr": false_positive_rate,
                     "selection_rate": selection_rate},
            y_true=yy, y_pred=pred, sensitive_features=lab)
        point[name] = {
            "eo": float(equalized_odds_difference(yy, pred, sensitive_features=lab)),
            "dp": float(demographic_parity_difference(yy, pred, sensitive_features=lab)),
            "by_group": frame.by_group,
            "counts": _counts(codes, yy, pred, len(eligible)),
        }
    col.figures.update({
        "eo_gap_real_model": point["real"]["eo"], "eo_gap_synth_model": point["synth"]["eo"],
        "dp_gap_real_model": point["real"]["dp"], "dp_gap_synth_model": point["synth"]["dp"],
    })
    for g in eligible:
        row = {"columns": [col.key], "group": g}
        for metric in ("tpr", "fpr", "selection_rate"):
            col.details.append({**row, "metric": f"Model{metric.upper()}",
                                "real": float(point["real"]["by_group"].loc[g, metric]),
                                "synth": float(point["synth"]["by_group"].loc[g, metric])})
    # bootstrap over holdout rows: both models are scored on the same resample (paired)
    rng = np.random.default_rng([seed, 5])
    n = len(yy)
    diffs = np.empty(BOOTSTRAP_ROUNDS)
    flat_r = codes * 4 + yy * 2 + models.pred_real[mask]
    flat_s = codes * 4 + yy * 2 + models.pred_synth[mask]
    for b, w in enumerate(bootstrap_weights(n, rounds=BOOTSTRAP_ROUNDS, rng=rng)):
        c_r = np.bincount(flat_r, weights=w, minlength=4 * len(eligible)).reshape(-1, 2, 2)
        c_s = np.bincount(flat_s, weights=w, minlength=4 * len(eligible)).reshape(-1, 2, 2)
        diffs[b] = _eo(c_s) - _eo(c_r)
    diff = point["synth"]["eo"] - point["real"]["eo"]
    p = _z_p(diff, float(np.nanstd(diffs, ddof=1)))
    # the group whose error rates moved most between the two models
    t_r, f_r, _ = _rates_from_counts(point["real"]["counts"])
    t_s, f_s, _ = _rates_from_counts(point["synth"]["counts"])
    moved = np.nan_to_num(np.maximum(np.abs(t_s - t_r), np.abs(f_s - f_r)), nan=0.0)
    group = eligible[int(np.argmax(moved))]
    change = "widens" if diff > 0 else "narrows"
    col.candidates.append(_Candidate(
        col.key, group, "equalized_odds", point["real"]["eo"], point["synth"]["eo"],
        cfg.eo_gap_tolerance, p_value=p, beyond_tolerance=abs(diff) > cfg.eo_gap_tolerance,
        change=change, severity="warn",
        message=f"a model trained on the synthetic rows has an equalized-odds difference of "
                f"{point['synth']['eo']:.3f} on the holdout vs {point['real']['eo']:.3f} for one "
                f"trained on the real rows (group {group!r} moved most): synthetic training data "
                f"{change} the model's error-rate gap"))


# ---- all of it -------------------------------------------------------------------------------
def _keys(schema: Schema, cfg: BiasConfig) -> list[list[str]]:
    sensitive = [c for c in schema.sensitive if c in scored_columns(schema)]
    keys = [[c] for c in sensitive]
    if cfg.intersections:
        keys.extend([list(pair) for pair in itertools.combinations(sensitive, 2)])
    return keys


def evaluate_bias(train: pd.DataFrame, synth: pd.DataFrame, holdout: pd.DataFrame,
                  schema: Schema, *, seed: int = 0) -> dict[str, Any]:
    """Representation, outcome parity and downstream fairness per sensitive column.

    Returns the report's ``bias`` section: ``figures`` (per column key), ``scores``,
    ``details``, ``flags``, ``skipped`` and ``settings``.
    """
    cfg = schema.bias
    keys = _keys(schema, cfg)
    settings: dict[str, Any] = {**cfg.model_dump(mode="json"), "columns": ["*".join(k)
                                                                          for k in keys]}
    out: dict[str, Any] = {"figures": {}, "scores": {}, "details": [], "flags": [],
                           "skipped": [], "settings": settings, "notes": []}
    if not keys:
        out["notes"].append("no sensitive columns in the schema: bias not scored "
                            "(list them under 'sensitive:')")
        return out
    if len(holdout) > MAX_HOLDOUT_ROWS:
        holdout = holdout.sample(MAX_HOLDOUT_ROWS, random_state=seed)
    has_target = schema.target is not None
    models: _Models | None = None
    if has_target:
        rule, described = positive_outcome(schema, train)
        settings["positive_outcome"] = described
        y_t, y_s, y_h = (_indicator(df, schema, rule) for df in (train, synth, holdout))
        try:
            models, why = _fit_models(train, synth, holdout, y_t, y_s, y_h, schema, seed)
        except Exception as exc:  # reported, not fatal: the table checks still stand
            logger.warning("downstream bias models failed: %s", exc)
            models, why = None, f"{type(exc).__name__}: {exc}"
        if why:
            out["notes"].append(f"downstream fairness not scored: {why}")
        if models is not None:
            settings["model_threshold"] = (
                f"each model flags the top {100 * models.threshold_share:.1f} % of holdout "
                "rows (train's positive rate) as positive")
    else:
        out["notes"].append("no target in the schema: outcome parity and downstream "
                            "fairness not scored")
    columns: list[_Column] = []
    for key_cols in keys:
        col = _Column("*".join(key_cols))
        g_t, g_s, g_h = group_labels([train, synth, holdout], key_cols, schema)
        both = _representation(col, g_t, g_s, cfg)
        if has_target:
            _outcome_parity(col, g_t, g_s, y_t, y_s, both, cfg)
            if models is not None:
                _downstream(col, g_h, models, cfg, seed)
            else:
                col.figures.update({"eo_gap_real_model": None, "eo_gap_synth_model": None})
        else:
            col.figures.update({"parity_gap_real": None, "parity_gap_synth": None,
                                "eo_gap_real_model": None, "eo_gap_synth_model": None})
        columns.append(col)
    # one family-wise error rate over every test in the report (Bonferroni)
    n_tests = sum(len(c.candidates) for c in columns)
    level = cfg.alpha / max(1, n_tests)
    settings["n_tests"] = n_tests
    settings["per_test_alpha"] = level
    for col in columns:
        out["figures"][col.key] = {k: clean(v) if not isinstance(v, list) else v
                                   for k, v in col.figures.items()}
        out["details"].extend(col.details)
        out["skipped"].extend(col.skipped)
        for cand in col.candidates:
            if cand.beyond_tolerance and cand.p_value < level:
                out["flags"].append({
                    "column": cand.column, "group": cand.group, "check": cand.check,
                    "real": clean(cand.real), "synth": clean(cand.synth),
                    "tolerance": cand.tolerance, "message": cand.message,
                    "change": cand.change, "severity": cand.severity,
                    "p_value": cand.p_value, **{k: clean(v) for k, v in cand.extra.items()},
                })
    if out["skipped"]:
        sizes = ", ".join(f"{s['column']}={s['group']!r}" for s in out["skipped"][:6])
        more = len(out["skipped"]) - 6
        out["notes"].append(
            f"{len(out['skipped'])} group(s) skipped as too small for some checks "
            f"(min_group_size {cfg.min_group_size}): {sizes}"
            + (f" and {more} more" if more > 0 else "") + "; sizes in bias.skipped")
    figs = out["figures"].values()

    def worst(values: list[float]) -> float | None:
        return 1.0 - min(1.0, max(values)) if values else None

    out["scores"] = {
        "representation": worst([f["representation_tvd"] for f in figs
                                 if f.get("representation_tvd") is not None]),
        "outcome_parity": worst([abs(f["parity_gap_synth"] - f["parity_gap_real"]) for f in figs
                                 if f.get("parity_gap_synth") is not None
                                 and f.get("parity_gap_real") is not None]),
        "downstream_fairness": worst([abs(f["eo_gap_synth_model"] - f["eo_gap_real_model"])
                                      for f in figs if f.get("eo_gap_synth_model") is not None
                                      and f.get("eo_gap_real_model") is not None]),
    }
    return out


# what the export gate checks in this section (see synthdata/gate.py)
GATED = (Gated("flags", "block_on_bias_flags", kind="flags"),)
