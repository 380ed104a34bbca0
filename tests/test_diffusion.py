"""The diffusion synthesizer beyond the shared contract (tests/test_synthesizers.py): its
quantile-normal numbers, the masked and Gaussian processes, inpainting for ``sample_where``,
the sampler's steps, early stopping and the time budget, and its model files. Small real
tables, a few epochs."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from test_autoregressive import _table

from synthdata.synthesizers import get_synthesizer
from synthdata.synthesizers._tokens import MISSING, Tokenizer
from synthdata.synthesizers.base import Synthesizer
from synthdata.synthesizers.diffusion import TRAIN_STEPS, Layout, alpha_bar

NAME = "diffusion"


@pytest.fixture(scope="module")
def table():
    return _table()


@pytest.fixture(scope="module")
def model(table):
    df, schema = table
    return get_synthesizer(NAME, schema, seed=1, epochs=100, device="cpu").fit(df)


def test_layout_round_trip_keeps_every_token(table):
    """Numbers become standard normals and come back to the same quantile cell; a missing
    number's presence code brings back its missing code; other codes pass unchanged."""
    df, schema = table
    rng = np.random.default_rng(0)
    tok = Tokenizer.fit(df, schema, protect=True, bins=8, fine=8, rng=rng)
    layout = Layout.of(tok)
    assert len(layout.nums) == 1  # amount: the only continuous number
    assert -1 - layout.nums[0][0] in layout.cats  # ... with missing values: a presence code
    tokens = tok.encode(df, rng)
    codes, numbers = layout.to_model(tokens, rng)
    assert abs(float(numbers.mean())) < 0.15 and abs(float(numbers.std()) - 1) < 0.1
    back = layout.to_tokens(codes, numbers, tokens.shape[1])
    coarse, fine = layout.nums[0][:2]
    missing = tokens[:, coarse] == MISSING
    assert missing.any()
    keep = [j for j in range(tokens.shape[1]) if j != fine]  # a missing row's fine code is free
    np.testing.assert_array_equal(back[:, keep], tokens[:, keep])
    np.testing.assert_array_equal(back[~missing, fine], tokens[~missing, fine])
    assert Layout.from_json(json.loads(json.dumps(layout.to_json()))) == layout


def test_noise_schedule_runs_from_data_to_noise():
    import torch

    ab = alpha_bar(torch.linspace(0, 1, TRAIN_STEPS + 1))
    assert float(ab[0]) > 0.999 and float(ab[-1]) < 1e-3
    assert bool((ab[1:] <= ab[:-1]).all())


def test_rows_keep_dependences_types_and_protection(model, table):
    df, schema = table
    synth = model.sample(2000, seed=3)
    assert list(synth.columns) == schema.modelled_columns
    pairs = synth.groupby("colour")["size"].agg(lambda s: s.value_counts(normalize=True).iloc[0])
    assert (pairs > 0.85).all(), pairs  # independent columns would give 0.2 to 0.5
    rates = synth.groupby("colour")["flag"].mean()
    assert rates["blue"] > 0.6 and rates["red"] < 0.3, rates
    # the number follows colour (red: 10 + gamma, others: 100 + gamma), keeps its step and
    # its missing share
    means = synth.groupby("colour")["amount"].mean()
    assert means["red"] < 40 < means["green"], means
    amount = synth["amount"].dropna()
    assert np.allclose(amount * 100, np.round(amount * 100))
    assert abs(synth["amount"].isna().mean() - df["amount"].isna().mean()) < 0.05
    assert synth["key"].is_unique
    # value protection: the unique city and the extreme amount are never generated
    assert "Unique-Town" not in set(model.sample(5000, seed=0)["city"])
    assert synth["amount"].max() <= df["amount"].drop(1).max()


def test_sample_where_two_columns_exact_counts_by_inpainting(model, table):
    df, _ = table
    rows = model.sample_where(300, {"colour": "blue", "flag": False}, seed=2)
    assert len(rows) == 300  # 2 % of the real rows: reject sampling would draw ~15,000
    assert (rows["colour"] == "blue").all() and not rows["flag"].any()
    assert model.last_conditional_draws_ == 300  # generated for the condition, none rejected
    # the rest follows the fixed columns: size is large in every blue real row (but in 6 % of
    # the rows without flag), from 15 training rows with both values
    assert (rows["size"] == "large").mean() > 0.7
    blue = model.sample_where(300, {"colour": "blue"}, seed=2)
    assert (blue["size"] == "large").mean() > 0.9
    real = df[df["colour"] == "blue"]  # the number follows the condition, not the whole table
    assert abs(blue["amount"].mean() - real["amount"].mean()) < 0.25 * real["amount"].mean()
    # an earlier column generated from a later one: any subset of columns can be fixed
    medium = model.sample_where(400, {"size": "medium"}, seed=5)
    assert (medium["colour"] == "green").mean() > 0.9


def test_sampler_takes_the_stated_steps_and_is_seeded(model):
    import torch

    calls = []
    hook = model.net_.register_forward_hook(lambda *_: calls.append(1))
    try:
        first = model.sample(200, seed=4)
        assert len(calls) == model.params_["sampling_steps"] == 25
        calls.clear()
        model.params_["sampling_steps"] = 5
        few = model.sample(200, seed=4)
        assert len(calls) == 5
        assert few["colour"].isin(["red", "green", "blue"]).all()
    finally:
        model.params_["sampling_steps"] = 25
        hook.remove()
    pd.testing.assert_frame_equal(model.sample(200, seed=4), first)
    assert not model.sample(200, seed=5).equals(first)
    assert torch.is_grad_enabled()  # sampling left autograd as it found it


def test_fit_is_reproducible(table):
    df, schema = table
    a = get_synthesizer(NAME, schema, seed=7, epochs=3, device="cpu").fit(df)
    b = get_synthesizer(NAME, schema, seed=7, epochs=3, device="cpu").fit(df)
    assert a.training_["val_loss"] == b.training_["val_loss"]
    pd.testing.assert_frame_equal(a.sample(300, seed=1), b.sample(300, seed=1))


def test_training_stops_early_keeps_best_and_honours_the_time_budget(table):
    df, schema = table
    m = get_synthesizer(NAME, schema, seed=1, epochs=2000, patience=2, device="cpu").fit(df)
    t = m.training_
    assert t["stopped"] == "early stopping" and t["epochs"] < 2000
    assert t["best_val_loss"] == min(t["val_loss"])
    assert t["validation_rows"] == 80
    budget = get_synthesizer(NAME, schema, seed=1, epochs=2000, time_budget=0.01,
                             device="cpu").fit(df)
    assert budget.training_["stopped"] == "time budget" and budget.training_["epochs"] == 1


def test_defaults_are_sized_to_the_table(table):
    df, schema = table
    m = get_synthesizer(NAME, schema, seed=1, time_budget=0.01, device="cpu").fit(df)
    t = m.training_
    assert t["batch_size"] == 64 and t["hidden"] == 128  # 720 training rows
    assert t["epochs_planned"] == 1000  # about 12,000 steps of 12 batches, within 30 .. 2000
    assert "25 of 1000 steps" in t["sampler"]


def test_save_load_is_arrays_and_json_and_samples_the_same(model, tmp_path):
    path = model.save(tmp_path / "m")
    assert sorted(p.name for p in path.iterdir()) == ["model.json", "synthdata_model.json",
                                                      "weights.npz"]
    with np.load(path / "weights.npz", allow_pickle=False) as arrays:
        assert all(arrays[k].dtype != object for k in arrays.files)
    loaded = Synthesizer.load(path, device="cpu")  # no trusted=True needed
    pd.testing.assert_frame_equal(loaded.sample(500, seed=9), model.sample(500, seed=9))
    pd.testing.assert_frame_equal(loaded.sample_where(40, {"colour": "red"}, seed=9),
                                  model.sample_where(40, {"colour": "red"}, seed=9))


def test_cuda_is_chosen_when_available(monkeypatch, table):
    """device auto asks torch; with CUDA reported the model is built for 'cuda' (here that
    fails at the first tensor moved there, which shows the path is taken)."""
    from synthdata.synthesizers import base

    df, schema = table
    monkeypatch.setattr(base, "cuda_available", lambda: True)
    m = get_synthesizer(NAME, schema, seed=1, epochs=1, device="auto")
    import torch

    if torch.cuda.is_available():
        assert m.fit(df).device_ == "cuda"
    else:
        with pytest.raises((AssertionError, RuntimeError), match="(?i)cuda|torch not compiled"):
            m.fit(df)
        assert m.device_ == "cuda"


def test_cli_run_then_sample_where_two_columns(tmp_path):
    """``run --synthesizer diffusion``, then ``sample --where`` on two columns from its model
    folder: exact counts, every row matching, in one pass. (``balance`` and ``augment`` with
    this synthesizer run in tests/test_contract.py, which uses the last epoch-trained name.)"""
    from pathlib import Path

    from typer.testing import CliRunner

    from synthdata.cli import app
    from synthdata.demo import make_demo_table

    def invoke(*args):
        return CliRunner().invoke(app, [str(a) for a in args])

    make_demo_table(1500, seed=1).to_csv(tmp_path / "t.csv", index=False)
    schema = Path(__file__).resolve().parents[1] / "schemas" / "demo.yaml"
    result = invoke("run", tmp_path / "t.csv", "--schema", schema, "--out", tmp_path / "run",
                    "--synthesizer", NAME, "--epochs", 5, "--force", "--quiet")
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "run" / "report.json").read_text())
    assert report["run"]["synthesizer"] == NAME
    out = tmp_path / "w.csv"
    result = invoke("sample", "--model", tmp_path / "run" / "model", "--rows", 90, "--out", out,
                    "--where", "churned=true", "--where", "region=West", "--quiet")
    assert result.exit_code == 0, result.output
    rows = pd.read_csv(out)
    assert len(rows) == 90 and rows["churned"].all() and (rows["region"] == "West").all()
