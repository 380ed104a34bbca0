"""Contract test run over every registered synthesizer (1-2 epochs, small real data).

The registry is the only list of names: the contract runs over ``registry.names()``, which
includes ``toy_marginals``, a backend defined in this file (independent column marginals,
numpy only) and registered with one line, to show that the contract does not assume SDV.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from pydantic import BaseModel, ConfigDict, Field
from typer.testing import CliRunner

from synthdata.errors import (
    ModelFileError,
    NotFittedError,
    ParameterError,
    UntrustedModelError,
)
from synthdata.schema import ColumnKind
from synthdata.split import split
from synthdata.synthesizers import backend_class, get_synthesizer, names, register
from synthdata.synthesizers.base import Draw, Synthesizer, load_arrays, save_arrays
from synthdata.synthesizers.registry import private_names


# ---- a backend of our own, outside synthdata: independent marginals, numpy only -------------
class ToyParams(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    quantiles: int = Field(50, ge=2, description="Quantiles kept per numeric column.")


class ToyMarginals(Synthesizer):
    """Each column drawn on its own from its training marginal (no dependence at all)."""

    name = "toy_marginals"
    Params = ToyParams
    conditional = True  # independent columns: fixing one leaves the others' law unchanged
    conditional_method = "toy marginals (condition columns set)"

    def _fit(self, train: pd.DataFrame, params: Any, *, progress: bool) -> None:
        self.arrays_: dict[str, np.ndarray] = {}
        grid = np.linspace(0, 1, params.quantiles)
        for i, column in enumerate(self.schema.modelled_columns):
            values = train[column]
            self.arrays_[f"null_{i}"] = np.array([values.isna().mean()])
            kept = values.dropna()
            kind = self.schema.columns[column].kind
            if kind in (ColumnKind.numerical, ColumnKind.integer, ColumnKind.datetime):
                numbers = (kept.astype("int64") if kind == ColumnKind.datetime
                           else kept.astype("float64")).to_numpy(dtype="float64")
                self.arrays_[f"quantiles_{i}"] = np.quantile(numbers, grid)
            else:
                shares = kept.astype(str).value_counts(normalize=True)
                self.arrays_[f"categories_{i}"] = shares.index.to_numpy(dtype=str)
                self.arrays_[f"shares_{i}"] = shares.to_numpy(dtype="float64")

    def _sample(self, n_rows: int, seed: int) -> pd.DataFrame:
        rng = np.random.default_rng(seed)
        out = {}
        for i, column in enumerate(self.schema.modelled_columns):
            kind = self.schema.columns[column].kind
            if kind == ColumnKind.id:  # keys are made, not learnt: unique per call
                out[column] = [f"toy-{seed}-{k}" for k in range(n_rows)]
                continue
            if f"quantiles_{i}" in self.arrays_:
                q = self.arrays_[f"quantiles_{i}"]
                values = pd.Series(np.interp(rng.random(n_rows), np.linspace(0, 1, len(q)), q))
                if kind == ColumnKind.datetime:
                    values = pd.to_datetime(values.round().astype("int64"))
            else:
                cats, shares = self.arrays_[f"categories_{i}"], self.arrays_[f"shares_{i}"]
                values = pd.Series(rng.choice(cats, size=n_rows, p=shares), dtype=object)
                if kind == ColumnKind.boolean:
                    values = values.map({"True": True, "False": False})
            null = rng.random(n_rows) < self.arrays_[f"null_{i}"][0]
            out[column] = values.where(~null, None)
        return pd.DataFrame(out)

    def _sample_where(self, n_rows: int, conditions: dict[str, Any], seed: int) -> Draw:
        rows = self._sample(n_rows, seed)
        for column, value in conditions.items():
            rows[column] = pd.Series([value] * n_rows, dtype=object)
        return Draw(rows, n_rows)

    def _state(self, folder: Path) -> None:
        save_arrays(folder / "marginals.npz", self.arrays_)

    def _from_state(self, folder: Path, device: str) -> None:
        self.arrays_ = load_arrays(folder / "marginals.npz")


register("toy_marginals", ToyMarginals)


def fast(name: str) -> dict[str, Any]:
    """Tiny training budgets for the contract test."""
    return {"epochs": 2, "batch_size": 100} if backend_class(name).trains_in_epochs() else {}


EXPECTED_DTYPES = {
    ColumnKind.integer: "Int64",
    ColumnKind.numerical: "float64",
    ColumnKind.boolean: "boolean",
    ColumnKind.categorical: "object",
    ColumnKind.ordinal: "object",
    ColumnKind.id: "object",
}


@pytest.fixture(scope="module")
def train(small_typed, schema):
    return split(small_typed, schema, seed=0)[0]


@pytest.fixture(scope="module", params=names() + [f"{n}+epsilon" for n in private_names()])
def fitted(request, train, schema):
    """Every backend, and every one that can be differentially private also with epsilon."""
    name, _, private = request.param.partition("+")
    return get_synthesizer(name, schema, seed=5, **fast(name),
                           **({"epsilon": 3.0} if private else {})).fit(train)


def test_registry_keys_are_module_names():
    for key in names():
        cls = backend_class(key)
        assert cls.name == key
        if cls.__module__.startswith("synthdata."):
            assert cls.__module__ == f"synthdata.synthesizers.{key}"


def test_columns_dtypes_rows_categories_ranges_nulls(fitted, schema, train):
    synth = fitted.sample(300)
    assert len(synth) == 300
    assert list(synth.columns) == schema.modelled_columns
    assert not set(schema.pii_columns) & set(synth.columns), "PII never modelled"
    for name in synth.columns:
        spec = schema.columns[name]
        col = synth[name]
        if spec.kind == ColumnKind.datetime:
            assert str(col.dtype).startswith("datetime64"), name
        else:
            assert str(col.dtype) == EXPECTED_DTYPES[spec.kind], (name, col.dtype)
        if spec.categories:
            assert set(col.dropna().astype(str)) <= {str(c) for c in spec.categories}, name
        if spec.min is not None and len(col.dropna()):
            low = pd.Timestamp(spec.min) if spec.kind == ColumnKind.datetime else spec.min
            assert col.dropna().min() >= low, name
        if spec.max is not None and len(col.dropna()):
            high = pd.Timestamp(spec.max) if spec.kind == ColumnKind.datetime else spec.max
            assert col.dropna().max() <= high, name
        if not spec.nullable:
            assert col.notna().all(), name
    # the check the pipeline applies to real data accepts the synthetic rows too (a 2-epoch
    # model may collapse a column to one value: that is a fidelity matter, not a type error)
    full = synth.assign(**{c: [f"p{i}" for i in range(len(synth))] for c in schema.pii_columns})
    problems = [
        p for p in schema.problems(full[list(schema.columns)])
        if "expected varying values" not in p and "at least two classes" not in p
    ]
    assert problems == []


def test_same_seed_same_rows(fitted):
    a = fitted.sample(200, seed=11)
    b = fitted.sample(200, seed=11)
    c = fitted.sample(200, seed=12)
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(c)


def test_fit_is_reproducible_and_leaves_global_rng_alone(fitted, schema, train):
    import random

    import torch

    np_before = np.random.get_state()[1].copy()
    py_before = random.getstate()
    torch_before = torch.get_rng_state().clone()
    name = fitted.name
    again = get_synthesizer(name, schema, seed=5, **fitted.params).fit(train)
    pd.testing.assert_frame_equal(again.sample(150, seed=1), fitted.sample(150, seed=1))
    assert (np.random.get_state()[1] == np_before).all()
    assert random.getstate() == py_before
    assert torch.equal(torch.get_rng_state(), torch_before)


def test_save_load_round_trip(fitted, tmp_path):
    path = fitted.save(tmp_path / "model")
    loaded = Synthesizer.load(path, trusted=True, device="cpu")
    assert type(loaded) is type(fitted)
    pd.testing.assert_frame_equal(loaded.sample(120, seed=4), fitted.sample(120, seed=4))


def test_load_refuses_untrusted_and_tampered_files(fitted, tmp_path):
    path = fitted.save(tmp_path / "model")
    if fitted.pickled:
        with pytest.raises(UntrustedModelError, match="trusted=True"):
            Synthesizer.load(path)
    else:  # plain arrays and JSON: nothing to unpickle, nothing to trust
        pd.testing.assert_frame_equal(Synthesizer.load(path).sample(20, seed=1),
                                      fitted.sample(20, seed=1))
    model_file = next(p for p in sorted(path.iterdir()) if p.name != "synthdata_model.json")
    with open(model_file, "ab") as fh:
        fh.write(b"tampered")
    with pytest.raises(ModelFileError, match="sha256"):
        Synthesizer.load(path, trusted=True)
    with pytest.raises(ModelFileError, match="synthdata_model.json"):
        Synthesizer.load(tmp_path / "elsewhere", trusted=True)


def test_sample_before_fit(schema):
    with pytest.raises(NotFittedError, match="call 'fit'"):
        get_synthesizer("gaussian_copula", schema).sample(5)


@pytest.mark.parametrize(
    ("name", "params", "message"),
    [
        ("ctgan", {"epochs": 0}, "The 'epochs' parameter of CTGAN must be an int in [1, inf). "
                                 "Got 0 instead."),
        ("tvae", {"epochs": 2.5}, "The 'epochs' parameter of TVAE must be an int in [1, inf)."),
        ("ctgan", {"batch_size": 105, "pac": 10}, "must be divisible by 'pac' (10)"),
        ("ctgan", {"batch_size": 15, "pac": 5}, "must be even"),
        ("tvae", {"compress_dims": []}, "'compress_dims' parameter of TVAE must be a non-empty"),
        ("gaussian_copula", {"default_distribution": "cauchy"}, "must be one of norm, beta"),
        ("gaussian_copula", {"epochs": 3}, "does not apply to gaussian_copula"),
        ("ctgan", {"learning_rate": 1}, "unknown parameter(s) 'learning_rate'"),
        ("ctgan", {"device": "tpu"}, "must be one of auto, cpu, cuda"),
        ("ctgan", {"seed": -1}, "'seed' parameter of CTGAN must be an int in [0, 4294967295]"),
    ],
)
def test_parameter_errors_use_one_template(schema, name, params, message):
    with pytest.raises(ParameterError) as info:
        get_synthesizer(name, schema, **params)
    assert message in str(info.value)


def test_unknown_synthesizer_name(schema):
    with pytest.raises(ParameterError, match="expected one of " + ", ".join(names())):
        get_synthesizer("gan9000", schema)


def test_every_parameter_problem_is_listed_at_once(schema):
    with pytest.raises(ParameterError) as info:
        get_synthesizer("ctgan", schema, epochs=0, pac=0, learning_rate=1, seed=-1)
    text = str(info.value)
    assert text.startswith("4 parameter problems")
    for part in ("'learning_rate'", "'epochs' parameter", "'pac' parameter", "'seed' parameter"):
        assert part in text


# ---- the toy backend through the whole tool -------------------------------------------------
def _cli(*args: Any):
    from synthdata.cli import app

    return CliRunner().invoke(app, [str(a) for a in args])


def test_toy_backend_runs_samples_where_and_balances(tmp_path, small_csv, schema_yaml):
    out = tmp_path / "run"
    result = _cli("run", small_csv, "--schema", schema_yaml, "--out", out, "--synthesizer",
                  "toy_marginals", "--quiet", "--force", "--format", "csv")
    assert result.exit_code == 0, result.output
    report = json.loads((out / "report.json").read_text())
    assert report["run"]["synthesizer"] == "toy_marginals"
    assert report["run"]["params"] == {"quantiles": 50}
    # its saved model holds no pickle and loads without trust
    files = sorted(p.name for p in (out / "model").iterdir())
    assert files == ["marginals.npz", "synthdata_model.json"]
    with np.load(out / "model" / "marginals.npz", allow_pickle=False) as data:
        assert all(data[k].dtype != object for k in data.files)
    assert isinstance(Synthesizer.load(out / "model"), ToyMarginals)

    where = _cli("sample", "--model", out / "model", "--rows", 150, "--out",
                 tmp_path / "where.csv", "--where", "plan=premium", "--where", "churned=true",
                 "--quiet", "--force")  # the toy's run may fail its gate: not the point here
    assert where.exit_code == 0, where.output
    rows = pd.read_csv(tmp_path / "where.csv")
    assert len(rows) == 150 and (rows["plan"] == "premium").all() and rows["churned"].all()

    balanced = _cli("balance", small_csv, "--schema", schema_yaml, "--out", tmp_path / "bal",
                    "--synthesizer", "toy_marginals", "--ratio", "1.0", "--quiet", "--force")
    assert balanced.exit_code == 0, balanced.output
    info = json.loads((tmp_path / "bal" / "report.json").read_text())["balance"]
    assert abs(info["ratio_after"] - 1.0) <= 0.02
    generation = next(iter(info["generation"].values()))
    assert generation["method"] == ToyMarginals.conditional_method
    assert generation["drawn"] == generation["rows"], "conditional: no rows thrown away"
