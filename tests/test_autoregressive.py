"""The autoregressive synthesizer beyond the shared contract (tests/test_synthesizers.py):
its tokens, exact conditional generation, value protection, sampling knobs and model files.
Small real tables, a few epochs."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from synthdata.schema import schema_from_dict
from synthdata.synthesizers import get_synthesizer
from synthdata.synthesizers._tokens import Tokenizer
from synthdata.synthesizers.base import Synthesizer


def _table(n: int = 800, seed: int = 0) -> tuple[pd.DataFrame, object]:
    """Columns of every kind with strong dependences, and one value seen exactly once."""
    rng = np.random.default_rng(seed)
    colour = rng.choice(["red", "green", "blue"], size=n, p=[0.5, 0.3, 0.2])
    size = np.where(colour == "red", "small", np.where(colour == "green", "medium", "large"))
    flag = rng.random(n) < np.where(colour == "blue", 0.9, 0.1)
    amount = np.round(np.where(colour == "red", 10, 100) + rng.gamma(2.0, 5.0, n), 2)
    amount[rng.random(n) < 0.1] = np.nan
    count = rng.poisson(np.where(flag, 8, 2))
    day = pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 700, n), unit="D")
    city = rng.choice(["Oslo", "Lima", "Pune", "Kyiv"], size=n).astype(object)
    city[0] = "Unique-Town"  # seen once: must never be generated with protection on
    amount[1] = 10_000.0  # an extreme value: clipped with protection on
    df = pd.DataFrame({"key": [f"K{i:05d}" for i in range(n)], "colour": colour, "size": size,
                       "flag": flag, "amount": amount, "count": count, "day": day,
                       "city": city})
    schema = schema_from_dict({
        "name": "kinds", "target": "flag", "primary_key": "key",
        "columns": {
            "key": {"kind": "id", "nullable": False},
            "colour": {"kind": "categorical", "nullable": False},
            "size": {"kind": "ordinal", "categories": ["small", "medium", "large"],
                     "nullable": False},
            "flag": {"kind": "boolean", "nullable": False},
            "amount": {"kind": "numerical", "nullable": True, "min": 0},
            "count": {"kind": "integer", "nullable": False, "min": 0},
            "day": {"kind": "datetime", "nullable": False},
            "city": {"kind": "categorical", "nullable": False},
        }})
    typed = schema.validate_table(df)
    return typed, schema


@pytest.fixture(scope="module")
def table():
    return _table()


@pytest.fixture(scope="module")
def model(table):
    df, schema = table
    return get_synthesizer("autoregressive", schema, seed=1, epochs=40, device="cpu").fit(df)


def test_rows_keep_dependences_types_and_steps(model, table):
    df, schema = table
    synth = model.sample(2000, seed=3)
    assert list(synth.columns) == schema.modelled_columns
    # colour -> size is a function in the real rows; the model learnt it
    pairs = synth.groupby("colour")["size"].agg(lambda s: s.value_counts(normalize=True).iloc[0])
    assert (pairs > 0.85).all(), pairs  # independent columns would give 0.2 to 0.5
    # flag depends on colour
    rates = synth.groupby("colour")["flag"].mean()
    assert rates["blue"] > 0.6 and rates["red"] < 0.3, rates
    # numbers keep their step (two decimals), integers stay whole, missing share is kept
    amount = synth["amount"].dropna()
    assert np.allclose(amount * 100, np.round(amount * 100))
    assert abs(synth["amount"].isna().mean() - df["amount"].isna().mean()) < 0.05
    assert synth["key"].is_unique
    assert synth["day"].between(df["day"].min(), df["day"].max()).all()


def test_value_protection_never_reproduces_a_unique_value(model, table):
    df, schema = table
    synth = model.sample(5000, seed=0)
    assert "Unique-Town" not in set(synth["city"])
    assert synth["amount"].max() < 10_000.0  # the extreme is clipped
    assert synth["amount"].max() <= df["amount"].drop(1).max()
    # switched off, the model keeps the value as a category it can generate
    tok = Tokenizer.fit(df, schema, protect=False, bins=8, fine=8,
                        rng=np.random.default_rng(0))
    city = next(c for c in tok.codes if c.column == "city")
    assert "Unique-Town" in city.values and city.rare == []
    amount = next(c for c in tok.codes if c.column == "amount")
    assert amount.high == 10_000.0


def test_sample_where_two_columns_exact_and_in_one_pass(model):
    rows = model.sample_where(300, {"colour": "blue", "flag": True}, seed=2)
    assert len(rows) == 300
    assert (rows["colour"] == "blue").all() and rows["flag"].all()
    assert model.last_conditional_draws_ == 300  # generated for the condition, none rejected
    assert (rows["size"] == "large").mean() > 0.9  # the rest follows the fixed columns
    # a rare condition the model would seldom produce on its own
    few = model.sample_where(50, {"colour": "blue", "flag": False}, seed=2)
    assert len(few) == 50 and (few["colour"] == "blue").all() and not few["flag"].any()


def test_any_order_generates_earlier_columns_from_later_ones(model):
    """size comes after colour in the schema; fixed first, colour must follow it."""
    rows = model.sample_where(400, {"size": "medium"}, seed=5)
    assert (rows["colour"] == "green").mean() > 0.9


def test_seeded_save_load_and_no_pickle(model, tmp_path):
    path = model.save(tmp_path / "m")
    names = sorted(p.name for p in path.iterdir())
    assert names == ["model.json", "synthdata_model.json", "weights.npz"]
    with np.load(path / "weights.npz", allow_pickle=False) as arrays:
        assert all(arrays[k].dtype != object for k in arrays.files)
    json.loads((path / "model.json").read_text())
    loaded = Synthesizer.load(path, device="cpu")  # no trusted=True needed
    pd.testing.assert_frame_equal(loaded.sample(500, seed=9), model.sample(500, seed=9))
    pd.testing.assert_frame_equal(loaded.sample_where(40, {"colour": "red"}, seed=9),
                                  model.sample_where(40, {"colour": "red"}, seed=9))


def test_top_p_and_temperature(table):
    df, schema = table
    sharp = get_synthesizer("autoregressive", schema, seed=1, epochs=15, top_p=0.05,
                            device="cpu").fit(df)
    rows = sharp.sample(500, seed=0)
    assert rows["colour"].nunique() == 1  # only the most likely code survives
    hot = get_synthesizer("autoregressive", schema, seed=1, epochs=15, temperature=5.0,
                          device="cpu").fit(df)
    spread = hot.sample(2000, seed=0)["count"].nunique()
    cold = get_synthesizer("autoregressive", schema, seed=1, epochs=15, temperature=0.3,
                           device="cpu").fit(df)
    assert cold.sample(2000, seed=0)["count"].nunique() < spread


def test_training_stops_early_keeps_best_and_honours_the_time_budget(table):
    df, schema = table
    m = get_synthesizer("autoregressive", schema, seed=1, epochs=500, patience=2,
                        device="cpu").fit(df)
    t = m.training_
    assert t["stopped"] == "early stopping" and t["epochs"] < 500
    assert t["best_val_loss"] == min(t["val_loss"])
    assert t["validation_rows"] == 80
    budget = get_synthesizer("autoregressive", schema, seed=1, epochs=500,
                             max_training_seconds=0.01, device="cpu").fit(df)
    assert budget.training_["stopped"] == "time budget" and budget.training_["epochs"] == 1


def test_tokens_round_trip(table):
    df, schema = table
    rng = np.random.default_rng(0)
    tok = Tokenizer.fit(df, schema, protect=False, bins=16, fine=16, rng=rng)
    back = tok.decode(tok.encode(df, rng), rng, n_rows=len(df))
    for column in ("colour", "size", "city"):
        assert back[column].astype(str).tolist() == df[column].astype(str).tolist(), column
    assert (back["count"] == df["count"].astype(float)).all()
    assert (back["flag"].astype(bool) == df["flag"]).all()
    assert (pd.to_datetime(back["day"]) == df["day"]).all()
    amount = df["amount"].to_numpy(float)
    got = back["amount"].to_numpy(float)
    assert (np.isnan(got) == np.isnan(amount)).all()
    # a number comes back inside the finest cell of its quantile position
    assert np.nanmedian(np.abs(got - amount)) < 1.0


def test_bad_parameters_are_refused_up_front(table):
    from synthdata.errors import ParameterError

    _, schema = table
    with pytest.raises(ParameterError, match="top_p"):
        get_synthesizer("autoregressive", schema, top_p=0)
    with pytest.raises(ParameterError, match="temperature"):
        get_synthesizer("autoregressive", schema, temperature=-1.0)


def test_a_number_that_often_equals_an_earlier_one_is_generated_equal():
    """Bins and positions cannot make two columns exactly equal (a bill paid in full); the
    tie sub-column does, at the real rate, and decoding copies the partner's value."""
    rng = np.random.default_rng(3)
    n = 1200
    bill = np.round(rng.gamma(2.0, 400.0, n), 2)
    full = rng.random(n) < 0.4
    paid = np.where(full, bill, np.round(bill * rng.uniform(0.0, 0.9, n), 2))
    group = np.where(full, "payer", rng.choice(["payer", "revolver"], n))
    df = pd.DataFrame({"bill": bill, "paid": paid, "group": group})
    schema = schema_from_dict({"name": "bills", "columns": {
        "bill": {"kind": "numerical", "nullable": False},
        "paid": {"kind": "numerical", "nullable": False},
        "group": {"kind": "categorical", "nullable": False}}})
    df = schema.validate_table(df)
    tok = Tokenizer.fit(df, schema, protect=False, bins=32, fine=8,
                        rng=np.random.default_rng(0))
    partners = {c.column: c.partner for c in tok.codes}
    assert partners == {"bill": None, "paid": "bill", "group": None}
    back = tok.decode(tok.encode(df, np.random.default_rng(0)), np.random.default_rng(1),
                      n_rows=n)
    # tied rows copy the partner, clipped to the column's own range (so a few at its top differ)
    assert (back.loc[full, "paid"] == back.loc[full, "bill"]).mean() > 0.99
    assert (back.loc[~full, "paid"] == back.loc[~full, "bill"]).mean() < 0.01

    model = get_synthesizer("autoregressive", schema, seed=0, epochs=30,
                            device="cpu").fit(df)
    rows = model.sample(3000, seed=0)
    tied = rows["paid"] == rows["bill"]
    assert 0.3 <= tied.mean() <= 0.5, tied.mean()
    assert rows.loc[tied, "group"].eq("payer").mean() > 0.9  # ties keep their dependences


def test_round_values_stay_round():
    """People pay 500s and 1,000s: a value common inside its quantile cell is drawn as itself
    (drawing evenly between the cell's knots would give 1,003s), if seen in at least k rows."""
    rng = np.random.default_rng(8)
    n = 3000
    payment = np.where(rng.random(n) < 0.6, rng.integers(1, 40, n) * 500.0,
                       np.round(rng.gamma(2.0, 4000.0, n)))
    df = pd.DataFrame({"payment": payment})
    schema = schema_from_dict({"name": "payments", "columns": {
        "payment": {"kind": "integer", "nullable": False}}})
    df = schema.validate_table(df)

    def round_share(frame):
        return float((frame["payment"] % 500 == 0).mean())

    tok = Tokenizer.fit(df, schema, protect=True, bins=32, fine=8,
                        rng=np.random.default_rng(0))
    atoms = tok.codes[0].atoms
    counts = df["payment"].value_counts()
    assert atoms and all(counts[value] >= tok.k for _, value, _ in atoms)
    back = tok.decode(tok.encode(df, np.random.default_rng(0)), np.random.default_rng(1),
                      n_rows=n)
    assert abs(round_share(back) - round_share(df)) < 0.03
    rows = get_synthesizer("autoregressive", schema, seed=0, epochs=5,
                           device="cpu").fit(df).sample(3000, seed=0)
    assert abs(round_share(rows) - round_share(df)) < 0.05, (round_share(rows), round_share(df))


def test_a_number_that_moves_a_little_from_an_earlier_one_keeps_the_small_moves():
    """A balance that moves by about 1 % a month: quantile cells are far wider than the move,
    so without the near codes month 2 would be drawn anywhere in its cell. The tie
    sub-column's near codes keep the offset, and the column's own distribution stays."""
    rng = np.random.default_rng(5)
    n = 1500
    m1 = np.round(rng.gamma(2.0, 5000.0, n), 2)
    kind = rng.random(n)
    m2 = np.where(kind < 0.15, m1, np.where(kind < 0.75, m1 * (1 + rng.normal(0, 0.01, n)),
                                            rng.gamma(2.0, 5000.0, n)))
    df = pd.DataFrame({"m1": m1, "m2": np.round(m2, 2)})
    schema = schema_from_dict({"name": "balances", "columns": {
        "m1": {"kind": "numerical", "nullable": False},
        "m2": {"kind": "numerical", "nullable": False}}})
    df = schema.validate_table(df)

    def small_moves(frame):
        offset = (frame["m2"] - frame["m1"]).abs() / frame["m1"]
        return float(((offset > 0) & (offset <= 0.02)).mean())

    real = small_moves(df)
    assert 0.5 < real < 0.65
    tok = Tokenizer.fit(df, schema, protect=True, bins=32, fine=8,
                        rng=np.random.default_rng(0))
    code = tok.codes[1]
    assert code.partner == "m1" and code.parts[-1].size > 2 and code.near_knots
    back = tok.decode(tok.encode(df, np.random.default_rng(0)), np.random.default_rng(1),
                      n_rows=n)
    assert abs(small_moves(back) - real) < 0.03
    # the column's own distribution is the one its cells give (offsets stay inside them)
    assert abs(back["m2"].median() / df["m2"].median() - 1) < 0.02

    model = get_synthesizer("autoregressive", schema, seed=0, epochs=30,
                            device="cpu").fit(df)
    rows = model.sample(3000, seed=0)
    assert small_moves(rows) > 0.7 * real, (small_moves(rows), real)  # without: ~0.55 * real
    assert 0.1 <= (rows["m2"] == rows["m1"]).mean() <= 0.2


@pytest.mark.parametrize("depth", [None, 2])
def test_concat_heads_learn_condition_and_reload(table, tmp_path, depth):
    """The other architecture ('concat': a first layer per head, residual layers after it
    when deeper) keeps the same contract."""
    df, schema = table
    m = get_synthesizer("autoregressive", schema, seed=1, epochs=40, architecture="concat",
                        depth=depth, device="cpu").fit(df)
    assert m.training_["architecture"] == "concat" and m.training_["depth"] == (depth or 1)
    rows = m.sample_where(300, {"colour": "blue", "flag": True}, seed=2)
    assert (rows["colour"] == "blue").all() and rows["flag"].all()
    assert (rows["size"] == "large").mean() > 0.9
    loaded = Synthesizer.load(m.save(tmp_path / "c"), device="cpu")
    pd.testing.assert_frame_equal(loaded.sample(300, seed=4), m.sample(300, seed=4))
