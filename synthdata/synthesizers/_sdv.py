"""Everything SDV-specific, shared by the three SDV backends (copula, CTGAN, TVAE).

Our schema -> SDV metadata and frames; fitting and sampling under SDV's global random
states (SDV draws from python's, numpy's, torch's and Faker's global generators, so they are
seeded for the call and restored after); the model saved as SDV's pickle (loading it needs
``trusted=True``: see :meth:`Synthesizer.load`). The backends take the hooks below as their
own (class decorator :func:`backend`) and add only the SDV model they build. ``sdv`` and ``torch``
are imported inside functions only.
"""

from __future__ import annotations

import contextlib
import random
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Any, TypeVar

import numpy as np
import pandas as pd
from pydantic import Field

from synthdata.schema import SDTYPES, ColumnKind, Schema
from synthdata.synthesizers.base import BaseParams

MODEL_PICKLE = "sdv_synthesizer.pkl"
T = TypeVar("T")



class SdvParams(BaseParams):
    """The parameters every SDV backend has."""

    enforce_min_max_values: bool = Field(
        True, description="Clip sampled numbers to the range seen in training.")
    enforce_rounding: bool = Field(
        True, description="Round sampled numbers to the decimals seen in training.")


Width = Annotated[int, Field(ge=1)]  # a layer width of a neural backend


class NeuralParams(SdvParams):
    """The parameters SDV's torch backends (CTGAN, TVAE) have in common."""

    epochs: int = Field(300, ge=1, description="Training epochs.")
    batch_size: int = Field(500, ge=1, description="Rows per training batch.")
    embedding_dim: int = Field(128, ge=1, description="Size of the latent (noise) vector.")


def sdv_metadata_dict(schema: Schema) -> dict[str, Any]:
    """SDV 2.x metadata built from OUR schema (never SDV's detection)."""
    columns: dict[str, Any] = {}
    for name in schema.modelled_columns:
        columns[name] = {"sdtype": SDTYPES[schema.columns[name].kind]}
    table: dict[str, Any] = {"columns": columns}
    if schema.primary_key and schema.primary_key in columns:
        table["primary_key"] = schema.primary_key
    return {"METADATA_SPEC_VERSION": "V1", "tables": {schema.name: table}, "relationships": []}


def to_sdv_frame(df: pd.DataFrame, schema: Schema) -> pd.DataFrame:
    """The modelled columns, with dtypes SDV handles (nullable ints/bools as floats/objects)."""
    out = {}
    for name in schema.modelled_columns:
        col = df[name]
        kind = schema.columns[name].kind
        if kind == ColumnKind.integer:
            out[name] = col.astype("float64")
        elif kind in (ColumnKind.boolean, ColumnKind.categorical, ColumnKind.ordinal,
                      ColumnKind.id):
            out[name] = col.astype(object).where(col.notna(), np.nan)
        else:
            out[name] = col
    return pd.DataFrame(out)


@contextlib.contextmanager
def seeded(seed: int, *, torch: bool) -> Iterator[None]:
    """Seed python, numpy, Faker (and torch, for the torch backends) for the block, then
    restore their global state. SDV draws from these global generators while fitting and
    sampling, so seeding them is what makes SDV reproducible."""
    import faker.generator

    py_state = random.getstate()
    np_state = np.random.get_state()
    faker_state = faker.generator.random.getstate()
    torch_states = None
    if torch:
        import torch as torch_

        torch_states = (torch_.get_rng_state(), torch_.cuda.get_rng_state_all()
                        if torch_.cuda.is_available() else None)
    try:
        random.seed(seed)
        np.random.seed(seed % 2**32)
        faker.generator.random.seed(seed)
        if torch:
            torch_.manual_seed(seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        random.setstate(py_state)
        np.random.set_state(np_state)
        faker.generator.random.setstate(faker_state)
        if torch_states is not None:
            torch_.set_rng_state(torch_states[0])
            if torch_states[1] is not None:
                torch_.cuda.set_rng_state_all(torch_states[1])


def _set_verbose(model: Any, on: bool) -> None:
    """Switch SDV's epoch progress bar (CTGAN/TVAE keep ``verbose`` in ``_model_kwargs``)."""
    kwargs = getattr(model, "_model_kwargs", None)
    if isinstance(kwargs, dict) and "verbose" in kwargs:
        kwargs["verbose"] = on
        model.verbose = on
        inner = getattr(model, "_model", None)
        for attr in ("_verbose", "verbose"):
            if inner is not None and hasattr(inner, attr):
                setattr(inner, attr, on)


def rows(sampled: Any) -> pd.DataFrame:
    """SDV answers ``{table_name: rows}`` or rows."""
    return next(iter(sampled.values())) if isinstance(sampled, dict) else sampled


# ---- the hooks the SDV backends take as their own ------------------------------------------
def backend(sdv_class: str) -> Callable[[type[T]], type[T]]:
    """Class decorator of an SDV backend: its hooks are this module's, its model files SDV's
    pickle (``pickled``), and ``sdv_class`` names the SDV class it wraps (for benchmarks)."""

    def decorate(cls: type[T]) -> type[T]:
        cls.sdv_class = sdv_class  # type: ignore[attr-defined]
        cls.pickled = True  # type: ignore[attr-defined]
        for hook, function in (("_fit", fit), ("_sample", sample),
                               ("_begin_sampling", begin_sampling), ("_state", state),
                               ("_from_state", from_state)):
            setattr(cls, hook, function)
        return cls

    return decorate


def fit(synth: Any, train: pd.DataFrame, params: Any, *, progress: bool) -> None:
    from sdv.metadata import Metadata

    metadata = Metadata.load_from_dict(sdv_metadata_dict(synth.schema))
    frame = to_sdv_frame(train, synth.schema)
    with seeded(synth.seed, torch=synth.uses_torch):
        model = synth._make_model(metadata, params.model_dump(), synth.device_)
        _set_verbose(model, progress)
        model.fit({synth.schema.name: frame})
        _set_verbose(model, False)  # a saved model stays silent when used elsewhere
    synth.model_ = model


def begin_sampling(synth: Any) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        synth.model_.reset_sampling()


def sample(synth: Any, n_rows: int, seed: int) -> pd.DataFrame:
    with seeded(seed, torch=synth.uses_torch):
        # SDV has no public per-call seed; the model's own generator is what sample draws
        # from, so set it (SDV itself does this with a fixed seed on first sample).
        synth.model_._set_random_state(int(seed))
        return rows(synth.model_.sample(num_rows=int(n_rows)))


def state(synth: Any, folder: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        synth.model_.save(str(folder / MODEL_PICKLE))


def from_state(synth: Any, folder: Path, device: str) -> None:
    from sdv.utils import load_synthesizer

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = load_synthesizer(str(folder / MODEL_PICKLE))
    if synth.uses_torch:  # CTGAN/TVAE: move the torch modules to the resolved device
        import torch

        model._model.set_device(torch.device(device))
    synth.model_ = model
