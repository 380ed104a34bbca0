"""Contract test run over every registered synthesizer (1-2 epochs, small real data)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from synthdata.errors import (
    ModelFileError,
    NotFittedError,
    ParameterError,
    UntrustedModelError,
)
from synthdata.schema import ColumnKind
from synthdata.split import split
from synthdata.synthesizers import REGISTRY, get_synthesizer
from synthdata.synthesizers.base import MODEL_PICKLE, Synthesizer

FAST = {
    "gaussian_copula": {},
    "ctgan": {"epochs": 2, "batch_size": 100},
    "tvae": {"epochs": 2, "batch_size": 100},
}
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


@pytest.fixture(scope="module", params=sorted(REGISTRY))
def fitted(request, train, schema):
    name = request.param
    return get_synthesizer(name, schema, seed=5, **FAST[name]).fit(train)


def test_registry_keys_are_module_names():
    for key, cls in REGISTRY.items():
        assert cls.name == key
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
    again = get_synthesizer(name, schema, seed=5, **FAST[name]).fit(train)
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
    with pytest.raises(UntrustedModelError, match="trusted=True"):
        Synthesizer.load(path)
    with open(path / MODEL_PICKLE, "ab") as fh:
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
    with pytest.raises(ParameterError, match="expected one of gaussian_copula, ctgan, tvae"):
        get_synthesizer("gan9000", schema)
