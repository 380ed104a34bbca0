"""Score synthetic rows independently of synthdata's own metrics (same code for every generator).

    python -m benchmarks.independent SYNTH.csv --table adult [--train TRAIN.csv]

Given the training table, the synthetic rows and a real test table the generator never saw
(``<table>_test.csv`` when it exists, else the rows of ``<table>.csv`` the caller held out):

* ``quality``: sdmetrics QualityReport (column shapes and pair trends) against the training
  rows, with the schema's sdtypes;
* ``detection_auc``: a HistGradientBoosting classifier (native categorical support) telling
  synthetic from test rows, 5-fold cross-validated ROC AUC on equal numbers of each (0.5 =
  indistinguishable);
* ``tstr`` / ``trtr``: ROC AUC on the test rows of a HistGradientBoosting classifier of the
  target trained on the synthetic / the training rows (binary targets);
* ``dcr_share``: the share of synthetic rows closer to the training rows than to the test
  rows (equal numbers of each; 0.5 ideal), on min-max scaled numbers and one-hot categories;
* ``exact_copies`` beside ``holdout_copies``: the share of synthetic rows equal to a training
  row, and the test rows' own share (the rate of chance coincidences).
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "datasets"


def _frame(df: pd.DataFrame, columns: list[str], kinds: dict[str, str],
           categories: dict[str, list[str]]) -> pd.DataFrame:
    out = {}
    for c in columns:
        if kinds[c] in ("numerical", "integer"):
            out[c] = pd.to_numeric(df[c], errors="coerce").astype("float64")
        elif kinds[c] == "datetime":
            out[c] = pd.to_datetime(df[c], errors="coerce").astype("int64").astype("float64")
        else:
            text = df[c].astype(object).where(df[c].notna(), None).map(
                lambda v: None if v is None else str(v).removesuffix(".0"))
            out[c] = pd.Categorical(text, categories=categories[c])
    return pd.DataFrame(out)


def _hgb(categorical: list[bool], seed: int) -> Any:
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(categorical_features=np.array(categorical),
                                          random_state=seed, max_iter=200)


def score(train: pd.DataFrame, synth: pd.DataFrame, test: pd.DataFrame, schema: Any, *,
          seed: int = 0, max_rows: int = 20_000) -> dict[str, Any]:
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    from synthdata.metrics._encoding import for_sdmetrics, sdmetrics_metadata

    rng = np.random.default_rng(seed)
    columns = [c for c, spec in schema.columns.items()
               if spec.kind.value not in ("id", "pii", "text")]
    kinds = {c: schema.columns[c].kind.value for c in columns}
    categorical = [kinds[c] not in ("numerical", "integer", "datetime") for c in columns]
    cats: dict[str, list[str]] = {}
    for c, is_cat in zip(columns, categorical, strict=True):
        if is_cat:
            seen = pd.concat([train[c], synth[c], test[c]]).dropna().astype(object)
            cats[c] = sorted({str(v).removesuffix(".0") for v in seen})
    tr, sy, te = (_frame(d, columns, kinds, cats) for d in (train, synth, test))
    out: dict[str, Any] = {"rows": {"train": len(tr), "synth": len(sy), "test": len(te)}}

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from sdmetrics.reports.single_table import QualityReport

        report = QualityReport()
        report.generate(for_sdmetrics(train, schema), for_sdmetrics(synth, schema),
                        sdmetrics_metadata(schema), verbose=False)
        props = report.get_properties().set_index("Property")["Score"]
        out["column_shapes"] = round(float(props["Column Shapes"]), 4)
        out["column_pair_trends"] = round(float(props["Column Pair Trends"]), 4)
        out["quality"] = round(float(report.get_score()), 4)
        shapes = report.get_details("Column Shapes")
        out["shape_by_column"] = {str(r["Column"]): round(float(r["Score"]), 4)
                                  for _, r in shapes.iterrows()}

    # detection: synthetic vs test rows, equal numbers
    n = min(len(sy), len(te), max_rows // 2)
    a = sy.iloc[rng.choice(len(sy), n, replace=False)]
    b = te.iloc[rng.choice(len(te), n, replace=False)]
    x = pd.concat([a, b], ignore_index=True)
    y = np.r_[np.ones(n), np.zeros(n)]
    for c, is_cat in zip(columns, categorical, strict=True):
        if is_cat:
            x[c] = x[c].cat.codes.replace(-1, np.nan).astype("float64")
    proba = cross_val_predict(_hgb(categorical, seed), x, y, cv=StratifiedKFold(
        5, shuffle=True, random_state=seed), method="predict_proba")[:, 1]
    out["detection_auc"] = round(float(roc_auc_score(y, proba)), 4)

    target = schema.target
    if target is not None and kinds.get(target) in ("categorical", "boolean", "ordinal"):
        features = [c for c in columns if c != target]
        is_cat = [categorical[columns.index(c)] for c in features]

        def codes(frame: pd.DataFrame) -> pd.DataFrame:
            f = frame[features].copy()
            for c, cat in zip(features, is_cat, strict=True):
                if cat:
                    f[c] = f[c].cat.codes.replace(-1, np.nan).astype("float64")
            return f

        positive = te[target].value_counts().idxmin()  # the minority class of the test rows
        auc = {}
        for name, frame in (("tstr", sy), ("trtr", tr)):
            yy = (frame[target] == positive).to_numpy()
            if yy.all() or not yy.any():
                auc[name] = None
                continue
            model = _hgb(is_cat, seed).fit(codes(frame), yy)
            auc[name] = round(float(roc_auc_score(te[target] == positive,
                                                  model.predict_proba(codes(te))[:, 1])), 4)
        out.update(auc)

    # DCR share and exact copies
    from sklearn.neighbors import NearestNeighbors

    m = min(len(tr), len(te))
    tr_s = tr.iloc[rng.choice(len(tr), m, replace=False)]
    te_s = te.iloc[rng.choice(len(te), m, replace=False)]
    sy_s = sy.iloc[rng.choice(len(sy), min(len(sy), 5000), replace=False)]

    def matrix(frame: pd.DataFrame) -> np.ndarray:
        blocks = []
        for c, is_cat in zip(columns, categorical, strict=True):
            if is_cat:
                codes_ = frame[c].cat.codes.to_numpy()
                onehot = np.zeros((len(frame), len(cats[c]) + 1))
                onehot[np.arange(len(frame)), codes_ + 1] = 1.0
                blocks.append(onehot / np.sqrt(2))
            else:
                ref = tr[c].to_numpy()
                lo, hi = np.nanmin(ref), np.nanmax(ref)
                v = (frame[c].to_numpy() - lo) / (hi - lo if hi > lo else 1.0)
                blocks.append(np.c_[np.nan_to_num(v, nan=-1.0)])
        return np.hstack(blocks)

    mt, me, ms = matrix(tr_s), matrix(te_s), matrix(sy_s)
    d_train = NearestNeighbors(n_neighbors=1).fit(mt).kneighbors(ms)[0][:, 0]
    d_test = NearestNeighbors(n_neighbors=1).fit(me).kneighbors(ms)[0][:, 0]
    out["dcr_share"] = round(float(np.mean(d_train < d_test) + 0.5 * np.mean(
        d_train == d_test)), 4)

    def keys(frame: pd.DataFrame) -> pd.Series:
        return pd.util.hash_pandas_object(frame.astype(object).astype(str), index=False)

    train_keys = set(keys(tr))
    out["exact_copies"] = round(float(keys(sy).isin(train_keys).mean()), 5)
    out["holdout_copies"] = round(float(keys(te).isin(train_keys).mean()), 5)
    return out


def main(argv: list[str] | None = None) -> int:
    from synthdata import load_schema
    from synthdata.io import read_table

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("synth")
    ap.add_argument("--table", required=True)
    ap.add_argument("--train", help="training rows (default: the table's csv)")
    args = ap.parse_args(argv)
    schema = load_schema(ROOT / "schemas" / f"{args.table}.yaml")
    train = read_table(args.train or DATA / f"{args.table}.csv", schema)
    test = read_table(DATA / f"{args.table}_test.csv", schema)
    synth = read_table(args.synth, schema)
    json.dump(score(train, synth, test, schema), sys.stdout, indent=1)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
