"""Privacy leakage: how much does the synthetic table reveal about the people in train?

Always measured against the holdout, which the synthesizer never saw: a synthetic row is a
leak only when it is closer to the training rows than fresh rows from the same population are.

Distances use one mixed-type encoding (``MixedEncoder``, in ``metrics._encoding``): numbers and
dates are range-normalised with train's min and max (a missing value adds 1 through an
indicator), and categories are one-hot vectors scaled by 1/sqrt(2), so two rows that differ in
one category are exactly 1 apart in that column, like two numbers at opposite ends of the range.
The distance is Euclidean over all columns. Nearest neighbours come from scikit-learn's
brute-force search, which works through the rows in chunks (``working_memory``), so memory stays
bounded whatever the row count; the search is cut into blocks of query x reference rows that an
execution engine (``synthdata.execution``: here, or Ray workers) runs, with the same figures
either way. Exact copies are a hash join (linear in the rows) and stay in this process.

Figures (``privacy.figures``):

- ``dcr_share``: share of synth rows closer to train than to holdout, with train and holdout
  subsampled to equal size and ties counted half. 0.5 is ideal; published calibration: copying
  10 % of cells perturbed gives 0.84, 30 % 0.64, 50 % 0.53; good generators 0.495-0.51.
- ``dcr_p5_synth`` / ``dcr_p5_holdout``: 5th percentile of the distance to the closest train row,
  for synth rows and for holdout rows (a synth far below the holdout's own value sits on top of
  training rows).
- ``nndr_ratio``: median nearest/second-nearest distance ratio of synth rows to train divided by
  the same to holdout (1 ideal; near 0 when synth rows copy individual train rows).
- ``exact_copy_rate``: share of synth rows identical to some train row (``exact_copy_rate_qi``:
  on the quasi-identifiers alone), each beside the holdout's own rate, because real tables hold
  natural duplicates: only the excess over that baseline is leakage.
- ``mia_auc`` / ``mia_tpr_at_1pct_fpr``: a distance-based membership-inference attacker scores
  each train member and holdout non-member by its distance to the closest synth row; the ROC
  AUC (0.5 = no leakage) and the true-positive rate at 1 % false positives, which catches leaks
  of a few outliers that an average hides.
- ``dcr_share_se`` / ``dcr_share_lower``, ``mia_auc_se`` / ``mia_auc_lower``,
  ``exact_copy_excess_se`` / ``exact_copy_excess_lower``: each gated figure's standard error and
  one-sided 95 % lower confidence bound, which is what the gate compares with its maximum, so a
  small table is not failed by sampling noise. The DCR share's and the AUC's errors are those of
  "no leak" (train and holdout rows exchangeable: the permutation variance of the share, the
  Mann-Whitney variance of the AUC); the copy excess's bound is Newcombe's hybrid score interval.

Scores (``privacy.scores``, in [0, 1], higher = more private): ``dcr_protection`` =
1 - 2*max(0, dcr_share - 0.5); ``exact_copy_protection`` = 1 - excess copy rate;
``nndr_protection`` = min(1, nndr_ratio); ``mia_protection`` = 1 - 2*max(0, mia_auc - 0.5).

The re-identification attacks are in ``metrics.attacks``; ``Result``, detail rows and the runner
that merges the metrics in ``metrics._base``; ``MixedEncoder``, ``scored_columns`` and the other
encodings shared with fidelity, attacks and bias in ``metrics._encoding``.
"""

from __future__ import annotations

import math
from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from synthdata.metrics import attacks
from synthdata.metrics._base import Z_ONE_SIDED, Gated, Result, row, run_metrics, wilson
from synthdata.metrics._encoding import MixedEncoder, scored_columns, subsample
from synthdata.schema import Schema

__all__ = [
    "distances",
    "evaluate_privacy",
    "exact_copies",
    "membership_inference",
    "quasi_identifiers",
    "reidentification",
]

_DEMOGRAPHIC = (
    "age", "sex", "gender", "race", "ethnic", "marital", "education", "zip", "postcode",
    "postal", "country", "nationality", "birth", "region", "city", "state", "occupation",
    "religion",
)
WORKING_MEMORY_MB = 256
NNDR_RATIO_CAP = 10.0
MAX_MIA_ROWS = 50_000  # per side


def quasi_identifiers(schema: Schema) -> list[str]:
    """The schema's quasi-identifiers, or sensitive + demographic-looking columns."""
    if schema.quasi_identifiers:
        return list(schema.quasi_identifiers)
    scored = scored_columns(schema)
    found = [c for c in scored if c in schema.sensitive or any(
        word in c.lower().replace("-", "_") for word in _DEMOGRAPHIC)]
    return found


# rows per task of the nearest-neighbour search: query rows, and reference rows once the
# reference is larger than one block; both engines run the same tasks, so the same figures
QUERY_BLOCK_ROWS = 20_000
REFERENCE_BLOCK_ROWS = 500_000


def _nearest(reference: np.ndarray, query: np.ndarray, k: int = 1, engine: Any = None
             ) -> np.ndarray:
    """Distances from each query row to its ``k`` nearest reference rows."""
    return _neighbours(reference, query, k, engine)[0]


def _neighbours(reference: np.ndarray, query: np.ndarray, k: int = 1, engine: Any = None
                ) -> tuple[np.ndarray, np.ndarray]:
    """Distances and row numbers of each query row's ``k`` nearest reference rows.

    The search is cut into tasks of ``QUERY_BLOCK_ROWS`` query rows x ``REFERENCE_BLOCK_ROWS``
    reference rows, run by ``engine`` (default: here, one after another): a Ray engine spreads
    them over workers. Each query block's candidates from the reference blocks are merged by
    (distance, row number), so every engine and worker count gives the same figures.
    """
    if engine is None:
        from synthdata.execution.local import LocalEngine

        engine = LocalEngine(workers=1)
    n_query, n_ref = len(query), len(reference)
    q_blocks = [(b, min(b + QUERY_BLOCK_ROWS, n_query))
                for b in range(0, max(n_query, 1), QUERY_BLOCK_ROWS)]
    r_blocks = [(b, min(b + REFERENCE_BLOCK_ROWS, n_ref))
                for b in range(0, max(n_ref, 1), REFERENCE_BLOCK_ROWS)]
    tasks = [(q, r, k) for q in q_blocks for r in r_blocks]
    found = iter(engine.map(_knn_block, tasks, shared=(reference, query)))
    distances, index = [], []
    for _ in q_blocks:
        parts = [next(found) for _ in r_blocks]
        if len(parts) == 1:
            d, i = parts[0]
        else:
            d = np.concatenate([p[0] for p in parts], axis=1)
            i = np.concatenate([p[1] for p in parts], axis=1)
            order = np.lexsort((i, d), axis=-1)[:, :k]
            d, i = np.take_along_axis(d, order, 1), np.take_along_axis(i, order, 1)
        distances.append(d)
        index.append(i)
    return np.concatenate(distances), np.concatenate(index)


def _knn_block(task: tuple[tuple[int, int], tuple[int, int], int],
               shared: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """One task: the ``k`` nearest rows of reference block ``r`` to query block ``q``
    (scikit-learn's brute-force search, itself chunked by ``working_memory``)."""
    import contextlib
    import os

    import sklearn
    from sklearn.neighbors import NearestNeighbors
    from threadpoolctl import threadpool_limits

    (q0, q1), (r0, r1), k = task
    reference, query = shared
    # Which of several equally near rows is returned must not depend on the thread count (a
    # Ray task has one thread, this process several): scikit-learn splits the query rows over
    # its threads when there are at least 4 x 256 per thread, and then each row is searched by
    # one thread in row order; below that it may split the reference rows over threads and
    # merge, which reorders ties. So a smaller block runs on one thread (it is small).
    few = (q1 - q0) < 4 * 256 * (os.cpu_count() or 1)
    with sklearn.config_context(working_memory=WORKING_MEMORY_MB), (
            threadpool_limits(limits=1, user_api="openmp") if few else contextlib.nullcontext()):
        model = NearestNeighbors(n_neighbors=min(k, r1 - r0), algorithm="brute",
                                 metric="euclidean")
        distances, index = model.fit(reference[r0:r1]).kneighbors(query[q0:q1])
    return distances.astype("float64"), index + r0


def _dcr_share_se(closest_train: np.ndarray, closest_holdout: np.ndarray, nearer: np.ndarray,
                  tie: np.ndarray, n_train: int, n_holdout: int) -> float:
    """Standard error of the DCR share when train and holdout rows are exchangeable (no leak).

    Each synth row is charged to its closest reference row (half to each side on a tie). If
    nothing tells train rows from holdout rows, which ``n_train`` of the pooled reference rows
    are "train" is a random draw, and the share's variance is the finite-population variance
    of the charged counts. Unlike the binomial ``sqrt(0.25 / n_synth)`` it counts synth rows
    that share a closest reference row, which move together: on 300 draws of 333-row demo
    tables the share spread 0.0300 around 0.5, this gave 0.0307, the binomial 0.0274.
    """
    n_pool = n_train + n_holdout
    charged = np.zeros(n_pool)
    np.add.at(charged, closest_train, np.where(tie, 0.5, nearer.astype("float64")))
    np.add.at(charged, n_train + closest_holdout,
              np.where(tie, 0.5, (~nearer & ~tie).astype("float64")))
    if n_pool < 2 or len(nearer) == 0:
        return float("nan")
    variance = n_train * n_holdout / (n_pool * (n_pool - 1)) * float(
        np.sum((charged - charged.mean()) ** 2))
    return math.sqrt(variance) / len(nearer)


def distances(train: pd.DataFrame, synth: pd.DataFrame, holdout: pd.DataFrame,
              schema: Schema, *, seed: int = 0, engine: Any = None) -> Result:
    """DCR share, 5th-percentile DCRs and NNDR of synth against train and holdout (the
    nearest-neighbour searches run on ``engine``, default here)."""
    rng = np.random.default_rng(seed)
    columns = scored_columns(schema)
    n = min(len(train), len(holdout))
    train_eq = subsample(train, n, rng)
    holdout_eq = subsample(holdout, n, rng)
    encoder = MixedEncoder(columns, schema).fit(train)
    x_train, x_holdout = encoder.transform(train_eq), encoder.transform(holdout_eq)
    x_synth = encoder.transform(synth)

    to_train, train_index = _neighbours(x_train, x_synth, k=2, engine=engine)
    to_holdout, holdout_index = _neighbours(x_holdout, x_synth, k=2, engine=engine)
    d_train, d_holdout = to_train[:, 0], to_holdout[:, 0]
    # float32 encodings: treat differences below rounding as ties
    tie = np.isclose(d_train, d_holdout, rtol=1e-5, atol=1e-6)
    nearer = (d_train < d_holdout) & ~tie
    share = float(np.mean(nearer) + 0.5 * np.mean(tie))
    share_se = _dcr_share_se(train_index[:, 0], holdout_index[:, 0], nearer, tie,
                             len(x_train), len(x_holdout))

    holdout_to_train = _nearest(x_train, encoder.transform(holdout), k=1, engine=engine)[:, 0]
    p5_synth = float(np.percentile(d_train, 5))
    p5_holdout = float(np.percentile(holdout_to_train, 5))

    def nndr(d: np.ndarray) -> np.ndarray:
        return np.where(d[:, 1] > 0, d[:, 0] / np.where(d[:, 1] > 0, d[:, 1], 1.0), 1.0)

    nndr_train = float(np.median(nndr(to_train)))
    nndr_holdout = float(np.median(nndr(to_holdout)))
    if nndr_holdout > 0:
        ratio = nndr_train / nndr_holdout
    else:  # synth rows sit on holdout rows: nothing points at train
        ratio = 1.0 if nndr_train == 0 else NNDR_RATIO_CAP
    ratio = min(ratio, NNDR_RATIO_CAP)

    result = Result()
    result.figures.update({
        "dcr_share": share,
        "dcr_share_se": share_se,
        "dcr_share_lower": share - Z_ONE_SIDED * share_se,
        "dcr_p5_synth": p5_synth,
        "dcr_p5_holdout": p5_holdout,
        "nndr_ratio": ratio,
        "nndr_synth_train": nndr_train,
        "nndr_synth_holdout": nndr_holdout,
    })
    result.scores["dcr_protection"] = 1.0 - 2.0 * max(0.0, share - 0.5)
    result.scores["nndr_protection"] = min(1.0, ratio)
    result.details.extend([
        row(columns, "DCRShare", share, n_reference_rows=n, n_synth_rows=len(synth),
            se=share_se),
        row(columns, "DCR5thPercentile_synth_to_train", p5_synth),
        row(columns, "DCR5thPercentile_holdout_to_train", p5_holdout),
        row(columns, "NNDRMedian_synth_to_train", nndr_train),
        row(columns, "NNDRMedian_synth_to_holdout", nndr_holdout),
        row(columns, "DCRHistogram", None, **_histogram(d_train, d_holdout)),
    ])
    return result


def _histogram(to_train: np.ndarray, to_holdout: np.ndarray, bins: int = 30) -> dict[str, Any]:
    """Counts of synth rows by distance to the closest train / holdout row (for the plot)."""
    both = np.concatenate([to_train, to_holdout])
    top = float(np.percentile(both, 99)) if len(both) else 1.0
    edges = np.linspace(0.0, top if top > 0 else 1.0, bins + 1)
    clipped = [np.clip(d, 0, edges[-1]) for d in (to_train, to_holdout)]
    return {"edges": [float(e) for e in edges],
            "synth_to_train": np.histogram(clipped[0], edges)[0].tolist(),
            "synth_to_holdout": np.histogram(clipped[1], edges)[0].tolist()}


def _row_keys(df: pd.DataFrame, columns: list[str]) -> np.ndarray:
    frame = df[columns].astype(object).where(df[columns].notna(), None).astype(str)
    return pd.util.hash_pandas_object(frame, index=False).to_numpy()


def _excess_bound(synth_rate: float, n_synth: int, holdout_rate: float, n_holdout: int,
                  z: float = Z_ONE_SIDED) -> tuple[float, float]:
    """One-sided lower confidence bound of ``synth_rate - holdout_rate`` (floored at 0, like
    the excess) and its standard error.

    The bound is Newcombe's hybrid score interval (1998, method 10) built from each rate's
    Wilson interval, which stays honest for the rates near 0 that copies usually have, where
    ``rate +- z * se`` does not; the standard error is the usual unpooled one, for reading.
    """
    centre, half = wilson(synth_rate * n_synth, n_synth, z)
    below_synth = synth_rate - (centre - half)  # how far the synth rate may be too high
    centre, half = wilson(holdout_rate * n_holdout, n_holdout, z)
    above_holdout = centre + half - holdout_rate  # how far the baseline may be too low
    lower = synth_rate - holdout_rate - math.sqrt(below_synth**2 + above_holdout**2)
    se = math.sqrt(synth_rate * (1 - synth_rate) / max(1, n_synth)
                   + holdout_rate * (1 - holdout_rate) / max(1, n_holdout))
    return max(0.0, lower), se


def exact_copies(train: pd.DataFrame, synth: pd.DataFrame, holdout: pd.DataFrame,
                 schema: Schema, *, seed: int = 0) -> Result:
    """Share of synth rows equal to a train row, beside the holdout's natural rate."""
    result = Result()
    for suffix, columns in (("", scored_columns(schema)), ("_qi", quasi_identifiers(schema))):
        if not columns:
            continue
        train_keys = set(_row_keys(train, columns))
        synth_rate = float(np.isin(_row_keys(synth, columns), list(train_keys)).mean())
        holdout_rate = float(np.isin(_row_keys(holdout, columns), list(train_keys)).mean())
        excess = max(0.0, synth_rate - holdout_rate)
        lower, se = _excess_bound(synth_rate, len(synth), holdout_rate, len(holdout))
        result.figures[f"exact_copy_rate{suffix}"] = synth_rate
        result.figures[f"exact_copy_rate{suffix}_holdout"] = holdout_rate
        result.figures[f"exact_copy_excess{suffix}"] = excess
        result.figures[f"exact_copy_excess{suffix}_se"] = se
        result.figures[f"exact_copy_excess{suffix}_lower"] = lower
        if not suffix:
            result.scores["exact_copy_protection"] = 1.0 - excess
        result.details.append(row(columns, f"ExactCopyRate{suffix.upper()}", synth_rate,
                                  holdout_rate=holdout_rate, excess=excess))
    return result


def _auc_null_se(scores: np.ndarray, n_members: int, n_non_members: int) -> float:
    """Standard error of the attack's AUC when members and non-members are exchangeable (no
    leak): the Mann-Whitney null variance ``(N + 1) / (12 n1 n2)``, corrected for tied scores.

    It holds whatever the synthetic rows are, since given them every split of the real rows
    into members and non-members is equally likely: on 300 draws of 333-row demo tables the
    AUC spread 0.0219 around 0.5, this gave 0.0224.
    """
    n = n_members + n_non_members
    if n_members == 0 or n_non_members == 0 or n < 2:
        return float("nan")
    _, counts = np.unique(scores, return_counts=True)
    ties = 1.0 - float(np.sum(counts.astype("float64") ** 3 - counts)) / (n**3 - n)
    return math.sqrt((n + 1) / (12 * n_members * n_non_members) * max(0.0, ties))


def membership_inference(train: pd.DataFrame, synth: pd.DataFrame, holdout: pd.DataFrame,
                         schema: Schema, *, seed: int = 0, engine: Any = None) -> Result:
    """A distance attacker: the closer a real row is to some synth row, the likelier a member."""
    from sklearn.metrics import roc_auc_score, roc_curve

    rng = np.random.default_rng(seed + 1)
    columns = scored_columns(schema)
    n = min(len(train), len(holdout), MAX_MIA_ROWS)
    members = subsample(train, n, rng)
    non_members = subsample(holdout, n, rng)
    encoder = MixedEncoder(columns, schema).fit(train)
    x_synth = encoder.transform(synth)
    d_members = _nearest(x_synth, encoder.transform(members), engine=engine)[:, 0]
    d_non = _nearest(x_synth, encoder.transform(non_members), engine=engine)[:, 0]
    labels = np.r_[np.ones(len(d_members)), np.zeros(len(d_non))]
    scores = -np.r_[d_members, d_non]
    auc = float(roc_auc_score(labels, scores))
    auc_se = _auc_null_se(scores, len(d_members), len(d_non))
    fpr, tpr, _ = roc_curve(labels, scores)
    tpr_at = float(np.max(tpr[fpr <= 0.01])) if np.any(fpr <= 0.01) else 0.0
    result = Result()
    result.figures.update({"mia_auc": auc, "mia_auc_se": auc_se,
                           "mia_auc_lower": auc - Z_ONE_SIDED * auc_se,
                           "mia_tpr_at_1pct_fpr": tpr_at})
    result.scores["mia_protection"] = 1.0 - 2.0 * max(0.0, auc - 0.5)
    result.details.append(row(columns, "MembershipInferenceAUC", auc, attacker="distance",
                              n_members=len(d_members), n_non_members=len(d_non)))
    result.details.append(row(columns, "MembershipInferenceTPRat1pctFPR", tpr_at))
    return result


def reidentification(train: pd.DataFrame, synth: pd.DataFrame, holdout: pd.DataFrame,
                     schema: Schema, *, seed: int = 0) -> Result:
    """Singling-out, linkability and inference risks (Giomi et al. 2023; see ``attacks``).

    Each risk comes with its 95 % interval, the attack/control/baseline rates and a
    ``trustworthy`` flag (False when the attack does no better than random guessing, or too few
    guesses could be built). ``reidentification_protection`` = 1 - the largest trustworthy risk.
    """
    result = Result()
    columns = scored_columns(schema)
    qi = [c for c in quasi_identifiers(schema) if c in columns]
    risks: dict[str, dict[str, Any]] = {}
    for mode in ("univariate", "multivariate"):
        risks[f"singling_out_{mode}"] = attacks.singling_out(
            train, synth, holdout, schema, columns, mode=mode, seed=seed)
    if len(qi) >= 2:
        risks["linkability"] = attacks.linkability(train, synth, holdout, schema, qi, seed=seed)
    inference: dict[str, float] = {}
    for secret in schema.sensitive:
        if secret not in columns:
            continue
        aux = [c for c in (qi or columns) if c != secret]
        if not aux:
            continue
        risks[f"inference:{secret}"] = attacks.inference(
            train, synth, holdout, schema, aux, secret, seed=seed)
        inference[secret] = risks[f"inference:{secret}"]["risk"]
    single = [risks[f"singling_out_{m}"]["risk"] for m in ("univariate", "multivariate")]
    result.figures["singling_out_risk"] = max(single)
    result.figures["singling_out_risk_univariate"] = single[0]
    result.figures["singling_out_risk_multivariate"] = single[1]
    # None when fewer than two quasi-identifiers leave nothing to link
    result.figures["linkability_risk"] = risks["linkability"]["risk"] \
        if "linkability" in risks else None
    result.figures["inference_risk"] = inference
    # an attack no better than guessing is no evidence either way: it does not move the score
    evidence = [r["risk"] for r in risks.values() if r["trustworthy"]]
    result.scores["reidentification_protection"] = 1.0 - max(evidence, default=0.0)
    result.figures["untrustworthy_attacks"] = sorted(
        k for k, r in risks.items() if not r["trustworthy"])
    for name, info in risks.items():
        used = info.get("aux_columns") or (info.get("columns_a", []) + info.get("columns_b", [])
                                           ) or columns
        target_column = name.split(":", 1)[1] if ":" in name else None
        result.details.append(row(
            used if target_column is None else [*used, target_column],
            "".join(w.capitalize() for w in name.split(":")[0].split("_")) + "Risk",
            info["risk"], None, **{k: v for k, v in info.items() if k != "risk"}))
    return result


def evaluate_privacy(train: pd.DataFrame, synth: pd.DataFrame, holdout: pd.DataFrame,
                     schema: Schema, *, seed: int = 0, engine: Any = None) -> dict[str, Any]:
    """Every privacy metric; a metric that fails records its error instead of sinking the rest.

    The nearest-neighbour searches (DCR, NNDR, the membership attack) run on ``engine``
    (``synthdata.execution``; default: here). Returns the report's ``privacy`` section:
    ``figures``, ``scores``, ``details``.
    """
    sharded = {"engine": engine}
    out = run_metrics("privacy", [
        (name, partial(metric, train, synth, holdout, schema, seed=seed, **extra))
        for name, metric, extra in (
            ("distances", distances, sharded), ("exact_copies", exact_copies, {}),
            ("membership_inference", membership_inference, sharded),
            ("reidentification", reidentification, {}))
    ], clean_figures=True)
    return {"figures": out.figures, "scores": out.scores, "details": out.details}


# what the export gate checks in this section (see synthdata/gate.py): every figure is
# required, since a privacy figure that could not be measured shows nothing is safe
GATED = (
    Gated("dcr_share", "max_dcr_share", "the share of synthetic rows closer to a training row "
          "than to a holdout row (0.5 = no leak)", required=True, confidence="dcr_share_lower"),
    Gated("exact_copy_excess", "max_exact_copy_excess", "the rate of synthetic rows that copy "
          "a training row, above the holdout's own rate of natural duplicates", required=True,
          confidence="exact_copy_excess_lower"),
    Gated("mia_auc", "max_mia_auc", "the AUC of a membership-inference attacker (0.5 = it "
          "cannot tell who was in the training data)", required=True,
          confidence="mia_auc_lower"),
    Gated("singling_out_risk_univariate", "max_reidentification_risk", "the risk of singling "
          "out one person from a single column's value", required=True,
          check="privacy.singling_out_univariate_risk", attack="singling_out_univariate"),
    Gated("singling_out_risk_multivariate", "max_reidentification_risk", "the risk of "
          "singling out one person from a combination of values", required=True,
          check="privacy.singling_out_multivariate_risk", attack="singling_out_multivariate"),
    # None when fewer than two quasi-identifiers leave nothing to link: not required
    Gated("linkability_risk", "max_reidentification_risk",
          "the risk of linking two halves of a person's record", attack="linkability"),
    Gated("inference_risk", "max_reidentification_risk", "the risk of inferring {key} from "
          "the quasi-identifiers", required=True, check="privacy.inference_risk.{key}",
          attack="inference:{key}"),
)
