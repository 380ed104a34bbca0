"""Generation-side checks that a deliberately broken synthdata would fail (issue 15, item 5):
the balance comparison, the copula's analytic conditioning, the dependence between sampled
columns (over every registered synthesizer) and PII filling when real values are at hand.
``benchmarks/mutation.py`` runs these tests against such mutants.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from synthdata.balancing import OPTIONS, compare_options
from synthdata.pii import fill_pii
from synthdata.schema import Schema, schema_from_dict
from synthdata.synthesizers import backend_class, get_synthesizer, names


def _schema(columns: dict, **extra) -> Schema:
    return schema_from_dict({"name": "t", "columns": columns, **extra}, source="test schema")


# ---- balance: the comparison is measured, and class weights are used ------------------------
CLASSES = _schema({"x": {"kind": "numerical"},
                   "y": {"kind": "categorical", "categories": ["no", "yes"]}}, target="y")


def _classes(n_no: int, n_yes: int, seed: int) -> pd.DataFrame:
    """One feature: x ~ N(0, 1) for "no", N(1.5, 1) for "yes" (overlapping classes)."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"x": np.r_[rng.normal(0, 1, n_no), rng.normal(1.5, 1, n_yes)],
                         "y": ["no"] * n_no + ["yes"] * n_yes})


@pytest.fixture(scope="module")
def comparison():
    train, holdout = _classes(900, 100, 1), _classes(900, 100, 2)
    plan = {"yes": 800}

    def synth_for_seed(k: int) -> pd.DataFrame:  # fresh minority rows of the same population
        return _classes(0, 800, 100 + k)

    rows, verdict = compare_options(train, holdout, CLASSES, synth_for_seed, plan, n_seeds=2)
    return {row["option"]: row for row in rows}, verdict, holdout


def test_balance_comparison_is_measured_on_the_holdout(comparison):
    from sklearn.metrics import average_precision_score, roc_auc_score

    rows, verdict, holdout = comparison
    assert list(rows) == list(OPTIONS)
    assert {o: rows[o]["n_train_rows"] for o in OPTIONS} == {
        "real": 1000, "real+synthetic": 1800, "real+smote": 1800, "class_weights": 1000}
    # one feature: a logistic regression ranks the holdout by x whatever it was trained on,
    # so each option's ROC-AUC and PR-AUC are those of x itself
    hit = holdout["y"].to_numpy() == "yes"
    auc = roc_auc_score(hit, holdout["x"])
    ap = average_precision_score(hit, holdout["x"])
    for option in OPTIONS:
        logreg = rows[option]["logreg"]
        assert logreg["roc_auc"]["mean"] == pytest.approx(auc, abs=1e-9), option
        assert logreg["pr_auc"]["mean"] == pytest.approx(ap, abs=1e-9), option
        assert logreg["roc_auc"]["std"] == pytest.approx(0.0, abs=1e-9), option
        assert abs(rows[option]["hgb"]["roc_auc"]["mean"] - auc) < 0.1, option  # HGB overfits a bit
    # real-only, deterministic models: the same figures for both seeds
    assert rows["real"]["logreg"]["recall"]["std"] == 0.0
    assert "Minority class 'yes'" in verdict


def test_class_weights_and_added_rows_raise_minority_recall(comparison):
    rows, _, _ = comparison
    for model in ("hgb", "logreg"):
        base = rows["real"][model]["recall"]["mean"]
        assert base < 0.4, model  # 10 % minority: the default threshold misses most of it
        for option in ("class_weights", "real+synthetic", "real+smote"):
            assert rows[option][model]["recall"]["mean"] > base + 0.25, (model, option)
            # more positives predicted: precision pays for the recall
            assert rows[option][model]["precision"]["mean"] < \
                rows["real"][model]["precision"]["mean"], (model, option)


# ---- Gaussian copula: analytic conditioning, not reject sampling ------------------------------
RARE = _schema({"kind": {"kind": "categorical", "categories": ["common", "other", "rare"]},
                "x": {"kind": "numerical"}})


@pytest.fixture(scope="module")
def copula():
    rng = np.random.default_rng(0)
    n = 1000
    kind = rng.choice(["common", "other"], n, p=[0.7, 0.3]).astype(object)
    kind[:15] = "rare"  # 1.5 % of the rows
    x = np.where(kind == "rare", 5.0, 0.0) + rng.normal(size=n)
    table = RARE.validate_table(pd.DataFrame({"kind": kind, "x": x}))
    return get_synthesizer("gaussian_copula", RARE, seed=0).fit(table)


def test_copula_generates_a_rare_category_without_throwing_rows_away(copula):
    rows = copula.sample_where(300, {"kind": "rare"}, seed=3)
    assert len(rows) == 300 and (rows["kind"] == "rare").all()
    # conditioned analytically: every generated row is kept (reject sampling at a 1.5 % match
    # rate would have drawn thousands)
    assert copula.last_conditional_draws_ == 300
    assert copula.conditional and "analytic" in copula.conditional_method


def test_copula_conditioning_carries_the_dependence(copula):
    """The other columns follow the condition through the copula (x is 5 higher for "rare" in
    the training rows; the copula's linear dependence keeps part of it), rather than the
    conditioned column being overwritten in unconditional rows."""
    rare = copula.sample_where(200, {"kind": "rare"}, seed=4)
    common = copula.sample_where(200, {"kind": "common"}, seed=4)
    assert copula.last_conditional_draws_ == 200
    assert rare["x"].mean() > common["x"].mean() + 0.2


# ---- every registered synthesizer keeps a dependence between columns -------------------------
DEPENDENT = _schema({
    "x": {"kind": "categorical", "categories": list("abcd")},
    "y": {"kind": "categorical", "categories": list("pqrs")},
    "u": {"kind": "numerical"}, "v": {"kind": "numerical"}})
MAPPING = dict(zip("abcd", "pqrs", strict=True))

# What each backend reliably keeps at the contract test's tiny budget (2 epochs, batch 20,
# fixed seed; checked over fit seeds 0-3): the copula keeps both dependences (Spearman u~v
# 0.999, y = f(x) in 56 % of rows vs 25 % under independence); TVAE keeps the numeric one
# (Spearman 0.34-0.39) but its categories collapse; CTGAN at 2-10 epochs keeps neither (its
# Spearman changes sign with the seed), so nothing is asserted for it at this budget: the
# copula and TVAE are what notice a sampler that breaks rows apart.
# The autoregressive model trains for 10 epochs here (well under a second on these 800 rows):
# Spearman u~v 0.83-0.88 and mapping excess 0.66-0.72 over fit seeds 0-3 (at 2 epochs it is
# still near its marginals: 0.06-0.12).
# The diffusion model at the contract's 2 epochs: Spearman 0.87-0.95, mapping excess 0.57-0.66
# over fit seeds 0-3 (at 10 epochs 0.98 and 0.69-0.71).
MIN_RANK_CORRELATION = {"gaussian_copula": 0.9, "tvae": 0.2, "autoregressive": 0.6,
                        "diffusion": 0.7}
MIN_MAPPING_EXCESS = {"gaussian_copula": 0.2, "autoregressive": 0.4, "diffusion": 0.4}
EPOCHS = {"autoregressive": 10}
NO_DEPENDENCE_AT_TINY_BUDGET = {"ctgan"}


def _dependent(n: int = 800) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    x = rng.choice(list("abcd"), n)
    u = rng.normal(size=n)
    return DEPENDENT.validate_table(pd.DataFrame({
        "x": x, "y": [MAPPING[v] for v in x], "u": u, "v": 3 * u + 0.1 * rng.normal(size=n)}))


def _mapping_excess(rows: pd.DataFrame) -> float:
    """Share of rows with y = f(x), minus that share if x and y were independent."""
    agree = float((rows["x"].map(MAPPING) == rows["y"]).mean())
    px = rows["x"].value_counts(normalize=True)
    py = rows["y"].value_counts(normalize=True)
    return agree - sum(px.get(k, 0.0) * py.get(MAPPING[k], 0.0) for k in MAPPING)


def _shuffled(rows: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({c: rows[c].to_numpy()[rng.permutation(len(rows))] for c in rows})


@pytest.mark.parametrize("name", names())
def test_sampled_rows_keep_the_dependence_between_columns(name):
    cls = backend_class(name)
    if not cls.__module__.startswith("synthdata."):
        pytest.skip(f"{name} is a test backend; it models no dependence by design")
    if name in NO_DEPENDENCE_AT_TINY_BUDGET:
        pytest.skip(f"{name} learns no dependence in a couple of epochs (see the comment above)")
    params = {"epochs": EPOCHS.get(name, 2), "batch_size": 20} if cls.trains_in_epochs() else {}
    model = get_synthesizer(name, DEPENDENT, seed=0, **params).fit(_dependent())
    rows = model.sample(2000, seed=1)
    broken = _shuffled(rows)
    rho = rows["u"].corr(rows["v"], method="spearman")
    # the same rows with each column shuffled on its own: the marginals stay, dependence goes
    assert abs(broken["u"].corr(broken["v"], method="spearman")) < 0.1
    assert abs(_mapping_excess(broken)) < 0.05
    assert rho > MIN_RANK_CORRELATION.get(name, 0.2), rho
    if name in MIN_MAPPING_EXCESS:
        assert _mapping_excess(rows) > MIN_MAPPING_EXCESS[name]


# ---- PII: real values handed to fill_pii never come out ------------------------------------
PEOPLE = _schema({
    "id": {"kind": "id", "nullable": False},
    "name": {"kind": "pii", "pii_type": "name"},
    "email": {"kind": "pii", "pii_type": "email"},
    "phone": {"kind": "pii", "pii_type": "phone"},
    "ssn": {"kind": "pii", "pii_type": "national_id"},
    "device": {"kind": "pii", "pii_type": "other"},
    "token": {"kind": "pii", "pii_type": "email", "pii_strategy": "hash"},
    "secret": {"kind": "pii", "pii_type": "phone", "pii_strategy": "drop"},
    "note": {"kind": "text"},
    "age": {"kind": "integer", "min": 0, "max": 120},
})


def test_fill_pii_ignores_real_values_it_is_handed():
    n = 80
    real = pd.DataFrame({
        "id": [f"R{i:04d}" for i in range(n)],
        "name": [f"Realname Person{i}" for i in range(n)],
        "email": [f"real.person{i}@pii-canary.invalid" for i in range(n)],
        "phone": [f"+1-555-01{i:02d}-canary" for i in range(n)],
        "ssn": [f"999-{i:02d}-canary" for i in range(n)],
        "device": [f"device-canary-{i}" for i in range(n)],
        "token": [f"token-canary-{i}" for i in range(n)],
        "secret": [f"secret-canary-{i}" for i in range(n)],
        "note": [f"note canary {i}" for i in range(n)],
        "age": pd.array(np.arange(n) % 90, dtype="Int64"),
    })
    key = b"fixed key for the test"
    handed_real = fill_pii(real, PEOPLE, seed=7, key=key)
    modelled_only = fill_pii(real[PEOPLE.modelled_columns], PEOPLE, seed=7, key=key)
    assert "secret" not in handed_real.columns
    # the real PII columns changed nothing: same values as when they were not there
    pd.testing.assert_frame_equal(handed_real, modelled_only)
    filled = [c for c in handed_real.columns if c not in PEOPLE.modelled_columns]
    assert sorted(filled) == ["device", "email", "name", "note", "phone", "ssn", "token"]
    every_value = set(handed_real[filled].astype(str).to_numpy().ravel())
    assert not any("canary" in v for v in every_value)
    for column in filled:
        assert not set(real[column]) & set(handed_real[column]), column
    pd.testing.assert_series_equal(handed_real["age"], real["age"])
