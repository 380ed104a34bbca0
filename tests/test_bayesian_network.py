"""The Bayesian network synthesizer beyond the shared contract (tests/test_synthesizers.py):
structure, exact conditional sampling, model files, and its differential privacy (ledger,
accounting, canaries, CLI and gate). Small real tables; fits take well under a second."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from test_autoregressive import _table
from typer.testing import CliRunner

from synthdata.cli import app
from synthdata.gate import check_gate
from synthdata.schema import GateConfig, schema_from_dict
from synthdata.synthesizers import _private, bayesian_network, get_synthesizer
from synthdata.synthesizers.base import Synthesizer

NAME = "bayesian_network"


@pytest.fixture(scope="module")
def table():
    return _table(n=1500)


@pytest.fixture(scope="module")
def model(table):
    df, schema = table
    return get_synthesizer(NAME, schema, seed=1).fit(df)


# ---- structure --------------------------------------------------------------------------------
def test_mutual_information_closed_forms():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 4, size=20_000)
    tokens = np.stack([x, x, rng.integers(0, 4, size=20_000)], axis=1)
    sizes = [4, 4, 4]
    p = np.bincount(x) / len(x)
    entropy = float(-(p * np.log(p)).sum())
    # I(X; X) = H(X); independent columns share (almost) nothing
    assert bayesian_network.mutual_information(tokens, 0, [1], sizes) == pytest.approx(entropy)
    assert bayesian_network.mutual_information(tokens, 0, [2], sizes) < 0.002


def test_structure_search_finds_a_chain_and_leaves_noise_alone():
    rng = np.random.default_rng(1)
    n = 5000
    a = rng.integers(0, 4, n)
    b = np.where(rng.random(n) < 0.9, a, rng.integers(0, 4, n))
    c = np.where(rng.random(n) < 0.9, b, rng.integers(0, 4, n))
    d = rng.integers(0, 4, n)  # independent of everything
    order, parents = bayesian_network.learn_structure(np.stack([a, b, c, d], axis=1),
                                                      [4, 4, 4, 4], max_parents=1)
    edges = {frozenset((j, p)) for j in range(4) for p in parents[j]}
    assert edges == {frozenset((0, 1)), frozenset((1, 2))}
    assert parents[3] == []
    assert all(order.index(p) < order.index(j) for j in range(4) for p in parents[j])


def test_rows_keep_dependences_and_the_network_is_listed(model, table):
    df, schema = table
    synth = model.sample(3000, seed=3)
    pairs = synth.groupby("colour")["size"].agg(lambda s: s.value_counts(normalize=True).iloc[0])
    assert (pairs > 0.85).all(), pairs  # a function in the real rows
    rates = synth.groupby("colour")["flag"].mean()
    assert rates["blue"] > 0.6 and rates["red"] < 0.3, rates
    amount = synth["amount"].dropna()
    assert np.allclose(amount * 100, np.round(amount * 100))  # the column's step is kept
    network = model.summary()["network"]
    columns = [n["column"] for n in network]
    assert sorted(columns) == sorted(c for c in schema.modelled_columns if c != "key")
    for i, node in enumerate(network):  # parents come earlier, never the column itself
        assert set(node["parents"]) <= set(columns[:i])
    linked = {frozenset((n["column"], p)) for n in network for p in n["parents"]}
    assert frozenset(("colour", "size")) in linked


def test_value_protection_never_reproduces_a_unique_value(model, table):
    df, _ = table
    synth = model.sample(5000, seed=0)
    assert "Unique-Town" not in set(synth["city"])
    assert synth["amount"].max() <= df["amount"].drop(1).max()


# ---- conditional sampling ---------------------------------------------------------------------
def test_sample_where_two_columns_exact_in_one_pass(model):
    rows = model.sample_where(300, {"colour": "blue", "flag": True}, seed=2)
    assert len(rows) == 300 and (rows["colour"] == "blue").all() and rows["flag"].all()
    assert model.last_conditional_draws_ == 300  # generated for the condition, none rejected
    assert (rows["size"] == "large").mean() > 0.9


def test_sample_where_draws_ancestors_from_their_exact_posterior(model, table):
    df, _ = table
    for column, value in (("flag", True), ("size", "medium")):
        rows = model.sample_where(4000, {column: value}, seed=4)
        assert model.last_conditional_draws_ == 4000
        real = df.loc[df[column] == value, "colour"].value_counts(normalize=True)
        got = rows["colour"].value_counts(normalize=True)
        for colour in real.index:  # P(colour | condition), whichever way the edges point
            assert abs(got.get(colour, 0.0) - real[colour]) < 0.06, (column, colour)


def test_too_many_ancestors_fall_back_to_reject_sampling(model, monkeypatch):
    monkeypatch.setattr(bayesian_network, "MAX_ENUMERATION", 1)
    rows = model.sample_where(200, {"size": "large"}, seed=1)
    assert len(rows) == 200 and (rows["size"] == "large").all()
    assert model.last_conditional_draws_ > 200  # rows were drawn and rejected


def test_seeded_save_load_and_no_pickle(model, tmp_path):
    path = model.save(tmp_path / "m")
    assert sorted(p.name for p in path.iterdir()) == ["model.json", "synthdata_model.json",
                                                       "tables.npz"]
    with np.load(path / "tables.npz", allow_pickle=False) as arrays:
        assert all(arrays[k].dtype != object for k in arrays.files)
    loaded = Synthesizer.load(path)  # no trusted=True needed
    pd.testing.assert_frame_equal(loaded.sample(500, seed=9), model.sample(500, seed=9))
    pd.testing.assert_frame_equal(loaded.sample_where(40, {"colour": "red"}, seed=9),
                                  model.sample_where(40, {"colour": "red"}, seed=9))
    assert loaded.summary() == model.summary()


# ---- differential privacy: accounting ---------------------------------------------------------
def test_zcdp_conversion_is_the_closed_form_and_its_inverse():
    for epsilon, delta in ((0.5, 1e-6), (1.0, 1e-5), (10.0, 1e-7)):
        rho = _private.rho_for(epsilon, delta)
        assert rho + 2 * math.sqrt(rho * math.log(1 / delta)) == pytest.approx(epsilon)
        assert _private.epsilon_for(rho, delta) == pytest.approx(epsilon)
    # Gaussian: sigma = sqrt(2) / sqrt(2 rho) for a histogram (L2 sensitivity sqrt 2)
    assert _private.gaussian_sigma(0.01) == pytest.approx(10.0)


def test_noise_has_the_stated_scale():
    rng = np.random.default_rng(0)
    zeros = np.zeros(200_000)
    # Laplace(2 / epsilon): standard deviation sqrt(2) * 2 / epsilon
    assert np.std(_private.laplace(zeros, 0.5, rng)) == pytest.approx(math.sqrt(2) * 4, rel=0.02)
    assert np.std(_private.gaussian(zeros, 0.02, rng)) == pytest.approx(
        _private.gaussian_sigma(0.02), rel=0.02)


def test_exponential_mechanism_draws_with_the_stated_probabilities():
    rng = np.random.default_rng(0)
    epsilon, sensitivity = 0.8, 0.1
    # a score gap of 2 * sensitivity * ln(3) / epsilon makes the first 3x as likely
    scores = np.array([2 * sensitivity * math.log(3) / epsilon, 0.0])
    picks = [_private.exponential(scores, epsilon, sensitivity, rng) for _ in range(20_000)]
    assert np.mean(np.array(picks) == 0) == pytest.approx(0.75, abs=0.01)


def test_mutual_information_sensitivity_bounds_one_replaced_row():
    rng = np.random.default_rng(0)
    n = 40
    bound = _private.mutual_information_sensitivity(n)
    worst = 0.0
    for _ in range(400):
        tokens = rng.integers(0, 3, size=(n, 2))
        tied = rng.integers(0, n + 1)  # from independent to identical columns
        tokens[:tied, 1] = tokens[:tied, 0]
        base = bayesian_network.mutual_information(tokens, 0, [1], [3, 3])
        other = tokens.copy()
        other[rng.integers(0, n)] = rng.integers(0, 3, size=2)
        worst = max(worst, abs(bayesian_network.mutual_information(other, 0, [1], [3, 3]) - base))
    assert 0 < worst <= bound


def test_a_value_seen_once_is_never_released_as_a_category():
    rng = np.random.default_rng(0)
    texts = ["a"] * 300 + ["b"] * 200 + ["Unique-Town"]
    kept = [_private.categories(texts, 1.0, 1e-5, rng) for _ in range(200)]
    assert all(k[:2] in (["a", "b"], ["b", "a"]) for k in kept)
    assert not any("Unique-Town" in k for k in kept)


def _declared(schema, **changes):
    """The kinds schema with colour's and city's categories declared (public: no budget)."""
    data = schema.model_dump(mode="json", exclude_none=True)
    data["columns"]["colour"]["categories"] = ["red", "green", "blue"]
    data["columns"]["city"]["categories"] = ["Oslo", "Lima", "Pune", "Kyiv", "Unique-Town"]
    return schema_from_dict({**data, **changes})


def _private_model(table, epsilon=1.0, **params):
    df, schema = table
    return get_synthesizer(NAME, schema, seed=3, epsilon=epsilon, **params).fit(df)


def test_ledger_lists_every_part_that_read_the_data_and_composes_within_budget(table):
    model = _private_model(table, epsilon=1.0, metadata_share=0.9, fairness_share=0.0)
    dp = model.privacy_guarantee()
    steps = [s["step"] for s in dp["spent"]]
    # the kinds table declares no categories for colour and city, no max for amount and count
    for part in ("categories of colour", "categories of city", "bounds of amount",
                 "bins of amount", "bounds of count", "bounds of day", "time of day of day",
                 "network structure", "conditional tables"):
        assert part in steps, (part, steps)
    assert "categories of size" not in steps  # declared in the schema: public
    # the total is the composition of the listed spends, and within the budget
    rho = sum(s["rho"] for s in dp["spent"] if s["rho"] is not None)
    plain = [s for s in dp["spent"] if s["rho"] is None]
    total = sum(s["epsilon"] for s in plain) + _private.epsilon_for(rho, dp["delta_conversion"])
    assert dp["epsilon"] == pytest.approx(total)
    assert dp["epsilon"] == pytest.approx(1.0) and dp["epsilon"] <= 1.0
    assert dp["delta"] <= dp["budget"]["delta"] < 1 / len(table[0])
    # frequent categories clear the threshold; the value seen once does not, and sample_where
    # is told only what was released
    assert model.categories_seen_["colour"] == ["blue", "green", "red"]
    assert "Unique-Town" not in model.categories_seen_["city"]
    assert len(model.categories_seen_["city"]) == 4


@pytest.mark.parametrize("epsilon", [0.5, 1.0, 4.0, 10.0, 0.3])
def test_reported_epsilon_never_exceeds_the_budget(table, epsilon):
    df, schema = table
    model = get_synthesizer(NAME, _declared(schema, sensitive=["colour"]), seed=0,
                            epsilon=epsilon).fit(df)
    dp = model.privacy_guarantee()
    assert dp["epsilon"] <= epsilon and dp["epsilon"] == pytest.approx(epsilon)
    gate = check_gate({"privacy": {"figures": {}, "dp": dp}}, GateConfig(max_epsilon=epsilon))
    assert "privacy.dp.epsilon" in gate.checked
    assert "privacy.dp.epsilon" not in [f.check for f in gate.failures]


def test_a_non_nullable_column_with_nothing_released_is_a_clear_error(table):
    from synthdata.errors import DataError

    with pytest.raises(DataError, match="declare its categories in the schema|Declare its"):
        _private_model(table, epsilon=0.5)  # colour: ~300-750 rows each, threshold ~4,000


def test_target_and_sensitive_columns_get_one_joint_release(table):
    df, schema = table
    fair = _declared(schema, sensitive=["colour"])
    model = get_synthesizer(NAME, fair, seed=3, epsilon=2.0).fit(df)
    steps = [s for s in model.privacy_guarantee()["spent"] if s["step"].startswith("target")]
    assert len(steps) == 1 and steps[0]["epsilon"] == pytest.approx(0.8)  # 0.4 of 2.0
    network = {n["column"]: n["parents"] for n in model.summary()["network"]}
    assert network["colour"] == ["flag"]
    rows = model.sample(4000, seed=0)
    for colour in ("red", "blue"):  # outcome rates per group survive the noise
        real = df.loc[df["colour"] == colour, "flag"].mean()
        assert abs(rows.loc[rows["colour"] == colour, "flag"].mean() - real) < 0.08


def test_private_model_keeps_the_shape_and_its_ledger_is_saved(table, tmp_path):
    df, schema = table
    declared = _declared(schema)
    off = []
    for seed in range(4):
        model = get_synthesizer(NAME, declared, seed=seed, epsilon=4.0).fit(df)
        rows = model.sample(3000, seed=1)
        assert set(rows["size"]) <= {"small", "medium", "large"}
        off.append(abs((rows["colour"] == "red").mean() - (df["colour"] == "red").mean()))
    assert np.mean(off) < 0.06, off  # 1,500 rows, 15 noisy tables: the marginal holds
    loaded = Synthesizer.load(model.save(tmp_path / "dp"))
    assert loaded.privacy_guarantee() == model.privacy_guarantee()


# ---- differential privacy: canaries -------------------------------------------------------
def _canary_table(n: int = 1500, canaries: int = 60, seed: int = 0):
    """Ordinary rows plus ``canaries`` planted ones, each with its own code and an extreme
    amount; half are trained on (members), half held out."""
    rng = np.random.default_rng(seed)
    group = rng.choice(["g1", "g2", "g3"], size=n)
    base = pd.DataFrame({"group": group, "code": rng.choice(["c1", "c2", "c3", "c4"], size=n),
                         "amount": np.round(rng.gamma(2.0, 50.0, n), 2)})
    planted = pd.DataFrame({"group": rng.choice(["g1", "g2", "g3"], size=canaries),
                            "code": [f"CANARY-{i:03d}" for i in range(canaries)],
                            "amount": 90_000.0 + 100.0 * np.arange(canaries)})
    schema = schema_from_dict({"name": "canaries", "columns": {
        "group": {"kind": "categorical", "nullable": False, "categories": ["g1", "g2", "g3"]},
        "code": {"kind": "categorical", "nullable": True},  # may stay empty under DP
        "amount": {"kind": "numerical", "nullable": False, "min": 0},
    }})
    chosen = rng.permutation(canaries) < canaries // 2  # members at random: exchangeable
    members, outsiders = planted[chosen], planted[~chosen]
    return pd.concat([base, members], ignore_index=True), members, outsiders, schema


def _canary_attack(model, members, outsiders):
    """(MIA AUC on the canaries, how many member canaries were reproduced: a synthetic row
    with the canary's code and its amount within 1 %). A canary's membership score is the
    number of synthetic rows carrying its code."""
    from sklearn.metrics import roc_auc_score

    synth = model.sample(20_000, seed=7)
    amounts = synth["amount"].to_numpy(dtype="float64")
    codes = synth["code"].value_counts()
    scores = [int(codes.get(r.code, 0)) for r in [*members.itertuples(),
                                                   *outsiders.itertuples()]]
    labels = [1] * len(members) + [0] * len(outsiders)
    near = [((synth["code"] == r.code) & (np.abs(amounts - r.amount) <= 0.01 * r.amount)).any()
            for r in members.itertuples()]
    return roc_auc_score(labels, scores), int(np.sum(near))


def test_canaries_leak_without_dp_and_not_at_epsilon_one():
    train, members, outsiders, schema = _canary_table()
    leaky = get_synthesizer(NAME, schema, seed=0, value_protection=False, smoothing=0.0,
                            penalty=0.0).fit(train)
    auc, reproduced = _canary_attack(leaky, members, outsiders)
    assert auc > 0.9 and reproduced > 0  # the test can fail: without DP the canaries leak
    for seed in (0, 1):
        private = get_synthesizer(NAME, schema, seed=seed, epsilon=1.0, smoothing=0.0,
                                  penalty=0.0).fit(train)
        auc, reproduced = _canary_attack(private, members, outsiders)
        assert auc <= 0.6 and reproduced == 0, (seed, auc, reproduced)


# ---- CLI and gate -----------------------------------------------------------------------------
def _invoke(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


@pytest.mark.parametrize(("extra", "message"), [
    (["--epsilon", "0"], "epsilon"),
    (["--epsilon", "-1"], "epsilon"),
    (["--epsilon", "1", "--synthesizer", "gaussian_copula"], NAME),
])
def test_bad_epsilon_is_refused_with_exit_2(tmp_path, small_csv, schema_yaml, extra, message):
    extra = extra if "--synthesizer" in extra else [*extra, "--synthesizer", NAME]
    result = _invoke("run", small_csv, "--schema", schema_yaml, "--out", tmp_path / "o", *extra)
    assert result.exit_code == 2, result.output
    assert message in result.output and "--epsilon" in result.output
    assert not (tmp_path / "o").exists()


def test_delta_of_one_over_n_or_more_is_refused_with_exit_2(tmp_path, small_csv, schema_yaml):
    schema = tmp_path / "s.yaml"
    schema.write_text(schema_yaml.read_text()
                      + f"synthesizer:\n  name: {NAME}\n  params: {{delta: 0.01}}\n")
    result = _invoke("run", small_csv, "--schema", schema, "--out", tmp_path / "o",
                     "--epsilon", "1")
    assert result.exit_code == 2, result.output
    assert "delta must be below 1 / rows" in result.output
    assert not (tmp_path / "o" / "synthetic.parquet").exists()


def test_run_with_epsilon_reports_the_ledger_and_the_gate_bounds_epsilon(
        tmp_path, small_csv, schema_yaml):
    schema = tmp_path / "s.yaml"
    schema.write_text(schema_yaml.read_text() + "gate:\n  max_epsilon: 2.0\n")
    plain = _invoke("run", small_csv, "--schema", schema, "--out", tmp_path / "plain",
                    "--synthesizer", NAME, "--quiet")
    report = json.loads((tmp_path / "plain" / "report.json").read_text())
    assert report["privacy"]["dp"] is None
    assert "privacy.dp.epsilon" in [f["check"] for f in report["gate"]["failures"]]
    assert plain.exit_code == 1 and "not differentially private" in plain.output
    private = _invoke("run", small_csv, "--schema", schema, "--out", tmp_path / "dp",
                      "--synthesizer", NAME, "--epsilon", "1.5", "--quiet", "--force")
    report = json.loads((tmp_path / "dp" / "report.json").read_text())
    dp = report["privacy"]["dp"]
    assert dp["epsilon"] <= 1.5 + 1e-9 and {"epsilon", "delta", "mechanism", "accountant",
                                            "spent"} <= set(dp)
    assert all({"step", "epsilon"} <= set(s) for s in dp["spent"])
    assert "privacy.dp.epsilon" in report["gate"]["checked"]
    assert "privacy.dp.epsilon" not in [f["check"] for f in report["gate"]["failures"]]
    manifest = json.loads((tmp_path / "dp" / "manifest.json").read_text())
    assert manifest["differential_privacy"] == dp
    assert report["model"]["network"], private.output
    html = (tmp_path / "dp" / "report.html").read_text()
    assert "Differentially private" in html and "e^ε" in html and "<svg" in html


def test_gate_max_epsilon_bounds_the_ledger():
    def report(dp):
        return {"privacy": {"figures": {}, "dp": dp}}

    def failed(dp, gate):
        result = check_gate(report(dp), gate)
        assert "privacy.dp.epsilon" in result.checked or not gate.max_epsilon
        return [f for f in result.failures if f.check == "privacy.dp.epsilon"]

    gate = GateConfig(max_epsilon=1.0)
    assert "not differentially private" in failed(None, gate)[0].message
    assert failed({"epsilon": 0.99}, gate) == []
    assert failed({"epsilon": 1.2}, gate)[0].value == 1.2
    assert failed(None, GateConfig()) == []  # off by default


def test_network_drawing_escapes_column_names():
    from synthdata.report import _network_html

    html = _network_html([{"column": "<script>x</script>", "parents": []},
                          {"column": "b", "parents": ["<script>x</script>"]}])
    assert "<script>" not in html and "&lt;script&gt;" in html
