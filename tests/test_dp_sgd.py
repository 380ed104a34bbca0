"""DP-SGD of the autoregressive synthesizer: the clipping (ghost norms against per-row
gradients), the accounting (closed form and Opacus' accountant), the ledger, canaries, and the
CLI. Small real tables; a few hundred DP-SGD steps at most."""

from __future__ import annotations

import copy
import json

import numpy as np
import pandas as pd
import pytest
import torch
from test_autoregressive import _table
from typer.testing import CliRunner

from synthdata.cli import app
from synthdata.errors import ParameterError
from synthdata.synthesizers import _private, _torch, get_synthesizer
from synthdata.synthesizers.base import Synthesizer

NAME = "autoregressive"
pytest.importorskip("opacus")


@pytest.fixture(scope="module")
def table():
    return _table(n=1200)


@pytest.fixture(scope="module")
def private(table):
    df, schema = table
    return get_synthesizer(NAME, schema, seed=3, epsilon=8.0,
                          metadata_share=0.3).fit(df)


# ---- clipping -------------------------------------------------------------------------------
def _net_and_batch(table, rows=96):
    df, schema = table
    model = get_synthesizer(NAME, schema, seed=0, epochs=1).fit(df)
    net = copy.deepcopy(model.net_)
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():  # trained weights plus noise: no gradient is trivially small
        for p in net.parameters():
            p.add_(0.05 * torch.randn(p.shape, generator=gen))
    tokens = torch.as_tensor(model.tokenizer_.encode(df, np.random.default_rng(0)))[:rows]
    return model, net, tokens, model._ranks(0.5)(tokens, gen)


def test_ghost_norms_equal_the_norms_of_per_row_gradients(table):
    _, net, tokens, rank = _net_and_batch(table)
    params = dict(net.named_parameters())
    buffers = dict(net.named_buffers())
    norms = []
    for i in range(len(tokens)):  # one backward per row: the definition
        loss = torch.func.functional_call(net, (params, buffers), (tokens[i:i + 1],
                                                                   rank[i:i + 1]))
        grads = torch.autograd.grad(loss, list(params.values()))
        norms.append(torch.sqrt(sum(g.pow(2).sum() for g in grads)))
    losses, ghost = net.row_grad_norms(tokens, rank)
    assert torch.allclose(ghost, torch.stack(norms), rtol=1e-4)
    assert torch.allclose(losses.sum() / len(tokens), net.loss(tokens, rank), rtol=1e-5)


def test_one_dp_sgd_step_is_the_same_with_ghost_norms_and_per_row_gradients(table):
    model, net, tokens, _ = _net_and_batch(table)
    other = copy.deepcopy(net)
    other.row_grad_norms = None  # no ghost norms: torch.func's per-row gradients
    after = []
    for candidate in (net, other):
        _torch.train_private(candidate, model._ranks(0.5), tokens, sample_rate=0.5, steps=1,
                             noise_multiplier=0.7, max_grad_norm=0.5, lr=1e-2,
                             weight_decay=0.0, max_seconds=None,
                             gen=torch.Generator().manual_seed(5))
        after.append({k: v.detach().clone() for k, v in candidate.named_parameters()})
    for k in after[0]:
        assert torch.allclose(after[0][k], after[1][k], atol=1e-5), k
    moved = [not torch.equal(after[0][k], p) for k, p in _net_and_batch(table)[1]
             .named_parameters()]
    assert all(moved)  # the step changed every weight (noise reaches every one)


# ---- accounting -----------------------------------------------------------------------------
def _balle(curve, delta):
    """Opacus' RDP -> (epsilon, delta) conversion (Balle et al. 2020), written out."""
    a = np.asarray(_private.ORDERS)
    eps = np.asarray(curve) - (np.log(delta) + np.log(a)) / (a - 1) + np.log((a - 1) / a)
    return float(np.nanmin(eps))


@pytest.mark.parametrize(("sigma", "steps"), [(1.0, 1), (2.0, 10), (5.0, 100)])
def test_full_batch_sgd_spend_is_the_gaussian_closed_form(sigma, steps):
    """Without subsampling (q = 1) each step is the Gaussian mechanism: RDP alpha / 2 sigma^2."""
    curve = _private.sgd_rdp(1.0, sigma, steps)
    closed = steps * np.asarray(_private.ORDERS) / (2 * sigma ** 2)
    assert np.allclose(curve, closed, rtol=1e-9)
    ledger = _private.Ledger(100.0, 1e-5, delta_conversion=1e-5)
    ledger.spend("sgd", rdp=curve, mechanism="test")
    assert ledger.epsilon_spent == pytest.approx(_balle(closed, 1e-5), rel=1e-9)


@pytest.mark.parametrize(("q", "sigma", "steps"), [(0.01, 1.1, 6000), (0.05, 0.9, 600),
                                                   (0.2, 3.0, 50)])
def test_subsampled_sgd_spend_matches_opacus_accountant(q, sigma, steps):
    from opacus.accountants import RDPAccountant

    accountant = RDPAccountant()
    accountant.history = [(sigma, q, steps)]
    expected = accountant.get_epsilon(1e-5, alphas=list(_private.ORDERS))
    ledger = _private.Ledger(1000.0, 1e-5, delta_conversion=1e-5)
    ledger.spend("sgd", rdp=_private.sgd_rdp(q, sigma, steps), mechanism="test")
    assert ledger.epsilon_spent == pytest.approx(expected, rel=1e-9)
    # Opacus' own default orders give a bound at least as large (ours add larger orders)
    assert ledger.epsilon_spent <= accountant.get_epsilon(1e-5) + 1e-12


def test_zcdp_and_sgd_spends_compose_in_rdp():
    rho, delta = 0.02, 1e-5
    curve = _private.sgd_rdp(0.03, 1.0, 900)
    both = _private.Ledger(100.0, delta, delta_conversion=delta)
    both.spend("bins", rho=rho, mechanism="Laplace histogram")
    both.spend("sgd", rdp=curve, mechanism="DP-SGD")
    expected = _balle(curve + rho * np.asarray(_private.ORDERS), delta)
    assert both.epsilon_spent == pytest.approx(expected, rel=1e-9)
    alone = [_private.epsilon_for(rho, delta), _balle(curve, delta)]
    assert max(alone) < both.epsilon_spent < sum(alone)  # tighter than adding epsilons
    assert both.delta_spent == pytest.approx(delta)


@pytest.mark.parametrize("budget", [0.5, 1.0, 10.0])
def test_noise_multiplier_is_the_smallest_that_fits_the_budget(budget):
    ledger = _private.Ledger(budget, 1e-5, delta_conversion=1e-5)
    ledger.spend("bins", rho=_private.rho_for(0.05 * budget, 1e-5), mechanism="test")
    sigma = _private.sgd_noise(ledger, 0.02, 1500)
    assert ledger.epsilon_with(_private.sgd_rdp(0.02, sigma, 1500)) <= budget
    assert ledger.epsilon_with(_private.sgd_rdp(0.02, sigma / 1.01, 1500)) > budget


# ---- the private model ----------------------------------------------------------------------
def test_private_model_spends_within_budget_and_lists_every_part(private, table):
    dp = private.privacy_guarantee()
    assert 7.9 < dp["epsilon"] <= 8.0 and dp["delta"] <= 1e-5 + 1e-18
    steps = [s["step"] for s in dp["spent"]]
    # undeclared: colour and city categories, amount bounds and bins, day bounds / time
    assert {"categories of colour", "categories of city", "bounds of amount",
            "bins of amount", "bounds of day", "training (DP-SGD)"} <= set(steps)
    assert "added or removed" in dp["neighbours"] and "Opacus" in dp["accountant"]
    t = private.training_
    assert t["dp_sgd"] and t["steps"] == t["planned_steps"] and t["validation_rows"] == 0
    assert not {"train_loss", "val_loss", "best_epoch"} & set(t)  # nothing read without noise
    expected = _private.sgd_rdp(t["sample_rate"], t["noise_multiplier"], t["steps"])
    ledger = _private.Ledger(8.0, dp["budget"]["delta"], delta_conversion=dp["delta_conversion"])
    for s in dp["spent"]:
        if s["step"] == "training (DP-SGD)":
            ledger.spend(s["step"], rdp=expected, mechanism="")
        elif s["rho"] is not None:
            ledger.spend(s["step"], rho=s["rho"], mechanism="")
        else:
            ledger.spend(s["step"], epsilon=s["epsilon"], delta=s["delta"], mechanism="")
    assert ledger.epsilon_spent == pytest.approx(dp["epsilon"], rel=1e-12)
    df, _ = table
    assert "Unique-Town" not in set(private.sample(3000, seed=1)["city"])


def test_private_model_keeps_dependences_and_is_saved_with_its_ledger(private, table, tmp_path):
    df, _ = table
    rows = private.sample(4000, seed=2)
    real = df.groupby("colour")["flag"].mean()
    synth = rows.groupby("colour")["flag"].mean()
    assert synth["blue"] > synth["red"] + 0.3 and real["blue"] > real["red"] + 0.3
    where = private.sample_where(200, {"colour": "blue"}, seed=4)
    assert len(where) == 200 and set(where["colour"]) == {"blue"}
    loaded = Synthesizer.load(private.save(tmp_path / "m"))
    assert loaded.privacy_guarantee() == private.privacy_guarantee()
    pd.testing.assert_frame_equal(loaded.sample(300, seed=9), private.sample(300, seed=9))


def test_time_budget_stops_training_and_the_ledger_counts_the_steps_taken(table):
    df, schema = table
    model = get_synthesizer(NAME, schema, seed=0, epsilon=8.0, metadata_share=0.3, epochs=200,
                            max_training_seconds=0.3).fit(df)
    t, dp = model.training_, model.privacy_guarantee()
    assert t["stopped"] == "time budget" and 0 < t["steps"] < t["planned_steps"]
    sgd = next(s for s in dp["spent"] if s["step"] == "training (DP-SGD)")
    assert f"{t['steps']} steps" in sgd["mechanism"] and dp["epsilon"] < 7.0


def test_epsilon_too_small_for_the_planned_steps_is_a_clear_error(table):
    df, schema = table
    model = get_synthesizer(NAME, schema, seed=0, epsilon=1e-4, epochs=5000)
    with pytest.raises(ParameterError, match="too little budget"):
        model.fit(df)


def _fair_table(n=4000, seed=0):
    """A small group whose outcome rate differs from the majority's; group before target."""
    rng = np.random.default_rng(seed)
    group = rng.choice(["A", "B"], size=n, p=[0.96, 0.04])
    x = np.round(rng.normal(50, 10, n), 1)
    outcome = rng.random(n) < np.where(group == "A", 0.5, 0.1)
    from synthdata.schema import schema_from_dict

    schema = schema_from_dict({
        "name": "fair", "target": "outcome", "sensitive": ["group"],
        "columns": {"group": {"kind": "categorical", "categories": ["A", "B"],
                              "nullable": False},
                    "x": {"kind": "numerical", "min": 0, "max": 100, "nullable": False},
                    "outcome": {"kind": "boolean", "nullable": False}}})
    return schema.validate_table(pd.DataFrame({"group": group, "x": x, "outcome": outcome})), \
        schema


def test_group_outcome_rates_come_from_the_released_joint(tmp_path):
    """DP-SGD alone pulls a 4 % group's outcome rate towards the majority's (0.07 -> 0.2 here);
    the released joint puts it back."""
    df, schema = _fair_table()
    model = get_synthesizer(NAME, schema, seed=0, epsilon=4.0, epochs=10).fit(df)
    dp = model.privacy_guarantee()
    joint = next(s for s in dp["spent"] if s["step"].startswith("sensitive columns"))
    assert "group, outcome" in joint["step"] and joint["rho"] > 0 and dp["epsilon"] <= 4.0
    real = df.groupby("group")["outcome"].mean()
    synth = model.sample(20_000, seed=1).groupby("group")["outcome"].mean()
    assert abs(synth["B"] - real["B"]) < 0.05 and abs(synth["A"] - real["A"]) < 0.03
    plain = get_synthesizer(NAME, schema, seed=0, epsilon=4.0, epochs=10,
                            fairness_share=0.0).fit(df)
    assert not any(s["step"].startswith("sensitive columns")
                   for s in plain.privacy_guarantee()["spent"])
    alone = plain.sample(20_000, seed=1).groupby("group")["outcome"].mean()
    assert abs(alone["B"] - real["B"]) > abs(synth["B"] - real["B"]) + 0.05
    loaded = Synthesizer.load(model.save(tmp_path / "m"))
    pd.testing.assert_frame_equal(loaded.sample(500, seed=3), model.sample(500, seed=3))


# ---- canaries -------------------------------------------------------------------------------
def _canaries(n=600, canaries=40, seed=0, declared=False):
    """Ordinary rows plus planted ones with their own codes; half trained on (members).
    With ``declared`` the codes are in the schema (public), so the category list leaks
    nothing and only training could."""
    rng = np.random.default_rng(seed)
    base = pd.DataFrame({"group": rng.choice(["g1", "g2", "g3"], size=n),
                         "code": rng.choice(["c1", "c2", "c3", "c4"], size=n),
                         "amount": np.round(rng.gamma(2.0, 50.0, n), 2)})
    codes = [f"CANARY-{i:03d}" for i in range(canaries)]
    planted = pd.DataFrame({"group": rng.choice(["g1", "g2", "g3"], size=canaries),
                            "code": codes, "amount": 900.0 + 10.0 * np.arange(canaries)})
    code = {"kind": "categorical", "nullable": True}
    if declared:
        code["categories"] = ["c1", "c2", "c3", "c4", *codes]
    from synthdata.schema import schema_from_dict

    schema = schema_from_dict({"name": "canaries", "columns": {
        "group": {"kind": "categorical", "nullable": False, "categories": ["g1", "g2", "g3"]},
        "code": code, "amount": {"kind": "numerical", "nullable": False, "min": 0,
                                 "max": 2000}}})
    chosen = rng.permutation(canaries) < canaries // 2
    members, outsiders = planted[chosen], planted[~chosen]
    return pd.concat([base, members], ignore_index=True), members, outsiders, schema


def _attack(model, members, outsiders):
    """(MIA AUC on the canaries: a canary's score is how many synthetic rows carry its code;
    member canaries reproduced; outsider canaries "reproduced"). Reproduced: a synthetic row
    with the canary's code and its amount within 0.1 %. Outsiders were never trained on, so
    their count is what chance gives (codes the schema declares are generated by design)."""
    from sklearn.metrics import roc_auc_score

    synth = model.sample(20_000, seed=7)
    codes = synth["code"].astype(str)
    counts = codes.value_counts()
    amounts = synth["amount"].to_numpy(dtype="float64")
    scores = [int(counts.get(c, 0)) for c in [*members["code"], *outsiders["code"]]]
    labels = [1] * len(members) + [0] * len(outsiders)

    def reproduced(planted):
        return int(sum(((codes == r.code) & (np.abs(amounts - r.amount) <= 1e-3 * r.amount))
                       .any() for r in planted.itertuples()))

    return roc_auc_score(labels, scores), reproduced(members), reproduced(outsiders)


@pytest.mark.slow
@pytest.mark.parametrize("declared", [False, True])
def test_canaries_leak_without_dp_and_not_at_epsilon_one(declared):
    """Undeclared codes: the private category list never releases a canary's code. Declared
    codes (public): only DP-SGD stands between the canaries and the rows."""
    train, members, outsiders, schema = _canaries(declared=declared)
    leaky = get_synthesizer(NAME, schema, seed=0, value_protection=False, epochs=60,
                            validation_share=0.0, patience=60, calibrate=False).fit(train)
    auc, kept, chance = _attack(leaky, members, outsiders)
    assert auc > 0.9 and kept > chance + 3, (auc, kept, chance)  # without DP they leak
    for seed in (0, 1):
        model = get_synthesizer(NAME, schema, seed=seed, epsilon=1.0, epochs=60).fit(train)
        auc, kept, chance = _attack(model, members, outsiders)
        assert auc <= 0.6 and kept <= chance + 1, (declared, seed, auc, kept, chance)
        if not declared:
            assert kept == 0


# ---- CLI ------------------------------------------------------------------------------------
def _invoke(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def test_run_with_epsilon_reports_the_ledger(tmp_path, small_csv, schema_yaml):
    schema = tmp_path / "s.yaml"
    schema.write_text(schema_yaml.read_text() + "gate:\n  max_epsilon: 3.0\n")
    result = _invoke("run", small_csv, "--schema", schema, "--out", tmp_path / "dp",
                     "--synthesizer", NAME, "--epsilon", "3", "--epochs", "3", "--quiet")
    report = json.loads((tmp_path / "dp" / "report.json").read_text())
    dp = report["privacy"]["dp"]
    assert dp["epsilon"] <= 3.0 and dp["spent"][-1]["step"] == "training (DP-SGD)"
    assert "privacy.dp.epsilon" in report["gate"]["checked"]
    assert "privacy.dp.epsilon" not in [f["check"] for f in report["gate"]["failures"]]
    manifest = json.loads((tmp_path / "dp" / "manifest.json").read_text())
    assert manifest["differential_privacy"] == dp, result.output


def test_missing_opacus_is_refused_with_exit_2_and_the_install_command(
        tmp_path, small_csv, schema_yaml, monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "opacus" else real(name, *a))
    result = _invoke("run", small_csv, "--schema", schema_yaml, "--out", tmp_path / "o",
                     "--synthesizer", NAME, "--epsilon", "1")
    assert result.exit_code == 2, result.output
    assert "pip install 'synthdata[dp]'" in result.output and "Opacus" in result.output
    assert not (tmp_path / "o").exists()

