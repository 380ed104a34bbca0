"""The one abstract synthesizer: public fit/sample/save/load written once.

Backends (``gaussian_copula``, ``ctgan``, ``tvae``) declare their parameters and build the SDV
model; everything else (validation, device, seeding, column order and dtypes, the saved
artifact) lives here. ``sdv`` and ``torch`` are imported inside functions only.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import random
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from synthdata.errors import (
    DeviceError,
    ModelFileError,
    NotFittedError,
    ParameterError,
    SynthdataError,
    UntrustedModelError,
)
from synthdata.io import sha256_file
from synthdata.schema import ColumnKind, Schema, category_text, schema_from_dict

logger = logging.getLogger(__name__)

DEVICES = ("auto", "cpu", "cuda")
MAX_CONDITIONAL_ROUNDS = 200
MAX_CONDITIONAL_BATCH = 1_000_000
MAX_SEED = 2**32 - 1  # numpy's limit
MODEL_FORMAT = "synthdata-model"
MODEL_FORMAT_VERSION = 1
MODEL_JSON = "synthdata_model.json"
MODEL_PICKLE = "sdv_synthesizer.pkl"


# ---- device ----------------------------------------------------------------------------
def cuda_available() -> bool:
    import torch

    return bool(torch.cuda.is_available())


def resolve_device(device: str) -> str:
    """Turn ``"auto" | "cpu" | "cuda"`` into the device that will be used.

    The single place where the device is decided: ``auto`` picks CUDA when
    ``torch.cuda.is_available()``, else the CPU.

    Raises:
        ParameterError: ``device`` is not one of the three names.
        DeviceError: ``"cuda"`` was asked for and CUDA is not available.
    """
    if device not in DEVICES:
        raise ParameterError(
            f"The 'device' parameter must be one of {', '.join(DEVICES)}. Got {device!r} instead."
        )
    if device == "cpu":
        return "cpu"
    available = cuda_available()
    if device == "cuda" and not available:
        raise DeviceError(
            "device 'cuda' was requested but torch.cuda.is_available() is False on this machine "
            "(no NVIDIA GPU, driver, or CUDA build of torch); use --device auto or --device cpu"
        )
    return "cuda" if available else "cpu"


# ---- scoped seeding ----------------------------------------------------------------------
@contextlib.contextmanager
def seeded(seed: int | None) -> Iterator[None]:
    """Seed python, numpy, torch and Faker for the block, then restore their global state.

    SDV draws from these global generators while fitting (torch init, numpy batches, Faker
    for generated ids), so seeding them is what makes ``fit`` reproducible.
    """
    if seed is None:
        yield
        return
    import faker.generator
    import torch

    py_state = random.getstate()
    np_state = np.random.get_state()
    torch_state = torch.get_rng_state()
    cuda_states = torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None
    faker_state = faker.generator.random.getstate()
    try:
        random.seed(seed)
        np.random.seed(seed % 2**32)
        torch.manual_seed(seed)
        faker.generator.random.seed(seed)
        yield
    finally:
        random.setstate(py_state)
        np.random.set_state(np_state)
        torch.set_rng_state(torch_state)
        if cuda_states is not None:
            torch.cuda.set_rng_state_all(cuda_states)
        faker.generator.random.setstate(faker_state)


# ---- parameter specs ---------------------------------------------------------------------
@dataclass(frozen=True)
class Param:
    """A parameter's domain, described in scikit-learn's message style."""

    default: Any
    description: str
    check: Callable[[Any], bool]


def int_in(low: int, high: int | None = None) -> Callable[[Any], bool]:
    def check(v: Any) -> bool:
        return bool(
            isinstance(v, int | np.integer)
            and not isinstance(v, bool)
            and v >= low
            and (high is None or v <= high)
        )

    return check


def float_in(low: float, high: float | None = None, *, low_open: bool = False) -> Callable:
    def check(v: Any) -> bool:
        if isinstance(v, bool) or not isinstance(v, int | float | np.floating | np.integer):
            return False
        if not math.isfinite(float(v)):
            return False
        ok_low = v > low if low_open else v >= low
        return bool(ok_low and (high is None or v <= high))

    return check


def one_of(*options: Any) -> Callable[[Any], bool]:
    return lambda v: v in options


def int_tuple(v: Any) -> bool:
    return (
        isinstance(v, list | tuple)
        and len(v) > 0
        and all(int_in(1)(x) for x in v)
    )


def is_bool(v: Any) -> bool:
    return isinstance(v, bool)


# ---- SDV metadata from our schema --------------------------------------------------------
_SDTYPES = {
    ColumnKind.numerical: "numerical",
    ColumnKind.integer: "numerical",
    ColumnKind.categorical: "categorical",
    # SDV's ordinal sdtype needs an order transformer; the categories are what matters here
    ColumnKind.ordinal: "categorical",
    ColumnKind.boolean: "boolean",
    ColumnKind.datetime: "datetime",
    ColumnKind.id: "id",
}


def sdv_metadata_dict(schema: Schema) -> dict[str, Any]:
    """SDV 2.x metadata built from OUR schema (never SDV's detection)."""
    columns: dict[str, Any] = {}
    for name in schema.modelled_columns:
        columns[name] = {"sdtype": _SDTYPES[schema.columns[name].kind]}
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
        elif kind == ColumnKind.boolean:
            out[name] = col.astype(object).where(col.notna(), np.nan)
        elif kind in (ColumnKind.categorical, ColumnKind.ordinal, ColumnKind.id):
            out[name] = col.astype(object).where(col.notna(), np.nan)
        else:
            out[name] = col
    return pd.DataFrame(out)


def conform_output(df: pd.DataFrame, schema: Schema) -> pd.DataFrame:
    """Put sampled rows in schema order and dtypes, inside declared ranges."""
    out = {}
    for name in schema.modelled_columns:
        spec = schema.columns[name]
        col = df[name].reset_index(drop=True)
        if spec.kind in (ColumnKind.numerical, ColumnKind.integer):
            values = pd.to_numeric(col, errors="coerce").to_numpy("float64", na_value=np.nan)
            if spec.min is not None or spec.max is not None:  # np.clip keeps NaN
                values = np.clip(values, -np.inf if spec.min is None else float(spec.min),
                                 np.inf if spec.max is None else float(spec.max))
            if spec.kind == ColumnKind.integer:
                out[name] = pd.array(np.round(values), dtype="Int64")
            else:
                out[name] = values
        elif spec.kind == ColumnKind.boolean:
            out[name] = col.astype("boolean")
        elif spec.kind == ColumnKind.datetime:
            out[name] = pd.to_datetime(col, errors="coerce")
        else:
            text = col.astype(object)
            if pd.api.types.infer_dtype(text, skipna=True) not in ("string", "empty"):
                text = text.where(text.isna(), text.astype(str))
            out[name] = text.where(col.notna(), None)
    return pd.DataFrame(out)


def package_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for pkg in ("synthdata", "sdv", "ctgan", "rdt", "copulas", "sdmetrics", "torch", "pandas",
                "numpy", "scikit-learn"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            pass
    return out


def matching_values(column: pd.Series, text: str) -> list[Any]:
    """The distinct values of ``column`` that are the category ``text`` (see category_text)."""
    return [v for v in column.dropna().unique() if category_text(v) == text]


# ---- the synthesizer ---------------------------------------------------------------------
class Synthesizer:
    """Fit on a training table described by a :class:`Schema`; sample synthetic rows.

    Args:
        schema: The table's schema; PII and free-text columns are never modelled.
        epochs: Training epochs (neural backends only).
        batch_size: Training batch size (neural backends only).
        device: ``"auto"`` (CUDA when available), ``"cpu"`` or ``"cuda"``.
        seed: Makes ``fit`` reproducible; ``sample`` uses it unless given its own.
        **params: Backend parameters (see ``params`` of each backend).
    """

    name: ClassVar[str]
    uses_torch: ClassVar[bool] = False
    params: ClassVar[dict[str, Param]] = {}

    def __init__(
        self,
        schema: Schema,
        *,
        epochs: int | None = None,
        batch_size: int | None = None,
        device: str = "auto",
        seed: int = 0,
        **params: Any,
    ) -> None:
        self.schema = schema
        self.epochs = epochs
        self.batch_size = batch_size
        self.device = device
        self.seed = seed
        self.extra_params = params

    # -- parameters --
    def get_params(self) -> dict[str, Any]:
        """Every backend parameter with its effective value."""
        given = dict(self.extra_params)
        if self.epochs is not None:
            given["epochs"] = self.epochs
        if self.batch_size is not None:
            given["batch_size"] = self.batch_size
        return {k: given.get(k, spec.default) for k, spec in self.params.items()}

    def check_params(self) -> None:
        """Validate every parameter; cheap, so callers run it before any expensive work.

        Raises:
            ParameterError: with the scikit-learn-style message.
        """
        cls = type(self).__name__
        for key in ("epochs", "batch_size"):
            if getattr(self, key) is not None and key not in self.params:
                raise ParameterError(
                    f"The '{key}' parameter does not apply to {self.name}; it is not trained in "
                    f"epochs. Drop it or pick ctgan or tvae."
                )
        unknown = sorted(set(self.extra_params) - set(self.params))
        if unknown:
            raise ParameterError(
                f"{cls} got unknown parameter(s) {', '.join(map(repr, unknown))}. Valid "
                f"parameters: {', '.join(sorted(self.params))}."
            )
        if not int_in(0, MAX_SEED)(self.seed):
            raise ParameterError(
                f"The 'seed' parameter of {cls} must be an int in [0, {MAX_SEED}]. Got "
                f"{self.seed!r} instead."
            )
        if self.device not in DEVICES:
            raise ParameterError(
                f"The 'device' parameter of {cls} must be one of {', '.join(DEVICES)}. "
                f"Got {self.device!r} instead."
            )
        for key, value in self.get_params().items():
            spec = self.params[key]
            if not spec.check(value):
                raise ParameterError(
                    f"The '{key}' parameter of {cls} must be {spec.description}. "
                    f"Got {value!r} instead."
                )
        self._check_combination(self.get_params())

    def _check_combination(self, params: dict[str, Any]) -> None:
        """Backend hook for rules across parameters."""

    # -- fit / sample --
    def fit(self, train: pd.DataFrame, *, progress: bool = False) -> Synthesizer:
        """Fit on ``train`` (typed per schema, e.g. by :func:`synthdata.read_table`).

        ``progress=True`` shows the epoch progress bar of the backends that train in epochs
        (CTGAN, TVAE: SDV's tqdm bar on stderr); the default keeps the library silent.
        """
        self.check_params()
        missing = [c for c in self.schema.modelled_columns if c not in train.columns]
        if missing:
            raise ParameterError(
                f"train is missing schema column(s) {', '.join(map(repr, missing))}; "
                "pass a table read with the same schema"
            )
        self.device_ = resolve_device(self.device) if self.uses_torch else "cpu"
        self.params_ = self.get_params()
        from sdv.metadata import Metadata

        metadata = Metadata.load_from_dict(sdv_metadata_dict(self.schema))
        frame = to_sdv_frame(train, self.schema)
        with seeded(self.seed), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = self._make_model(metadata, self.params_, self.device_)
            _set_verbose(model, progress)
            model.fit({self.schema.name: frame})
            _set_verbose(model, False)  # a saved model stays silent when used elsewhere
        self.model_ = model
        self.n_train_rows_ = len(train)
        logger.info("fitted %s on %d rows (device %s)", self.name, len(train), self.device_)
        return self

    def _make_model(self, metadata: Any, params: dict[str, Any], device: str) -> Any:
        raise NotImplementedError

    def _check_fitted(self, method: str) -> None:
        if not hasattr(self, "model_"):
            raise NotFittedError(
                f"This {type(self).__name__} is not fitted yet; call 'fit' before '{method}'."
            )

    def sample(self, n_rows: int, *, seed: int | None = None) -> pd.DataFrame:
        """Sample ``n_rows`` synthetic rows; the same ``seed`` gives the same rows.

        Returns only the modelled columns (PII columns are filled by the pipeline).
        """
        self._check_fitted("sample")
        if not int_in(1)(n_rows):
            raise ParameterError(
                f"The 'n_rows' parameter of sample must be an int in [1, inf). Got {n_rows!r} "
                "instead."
            )
        seed = self.seed if seed is None else seed
        if not int_in(0, MAX_SEED)(seed):
            raise ParameterError(
                f"The 'seed' parameter of sample must be an int in [0, {MAX_SEED}]. Got "
                f"{seed!r} instead."
            )
        model = self.model_
        with seeded(seed), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.reset_sampling()
            # SDV has no public per-call seed; the model's own generator is what sample draws
            # from, so set it (SDV itself does this with a fixed seed on first sample).
            model._set_random_state(int(seed))
            sampled = model.sample(num_rows=int(n_rows))
        if isinstance(sampled, dict):
            sampled = next(iter(sampled.values()))
        return conform_output(sampled, self.schema)

    # -- conditional sampling --
    conditional_method: ClassVar[str] = "reject sampling"
    conditional_overdraw: ClassVar[float] = 2.0  # rows drawn per row still needed

    def _conditions_exact(self, conditions: dict[str, Any]) -> bool:
        """True when ``_draw_where(n, conditions)`` itself returns n matching rows."""
        return False

    def sample_where(self, n_rows: int, conditions: dict[str, Any], *,
                     seed: int | None = None) -> pd.DataFrame:
        """``n_rows`` synthetic rows whose ``conditions`` columns hold the given values.

        Backends override :meth:`_draw_where` with real conditional generation (the Gaussian
        copula conditions analytically, CTGAN feeds its conditional vector); the fallback
        samples unconditionally and keeps matching rows (reject sampling), logging progress.
        Raises SynthdataError when the model (almost) never produces the requested values.
        """
        self._check_fitted("sample_where")
        if not int_in(1)(n_rows):
            raise ParameterError(
                f"The 'n_rows' parameter of sample_where must be an int in [1, inf). Got "
                f"{n_rows!r} instead.")
        unknown = [c for c in conditions if c not in self.schema.modelled_columns]
        if unknown:
            raise ParameterError(
                f"conditions name column(s) {', '.join(map(repr, unknown))} that the model "
                f"does not generate; use some of {', '.join(self.schema.modelled_columns)}")
        seed = self.seed if seed is None else seed
        if not int_in(0, MAX_SEED)(seed):
            raise ParameterError(
                f"The 'seed' parameter of sample_where must be an int in [0, {MAX_SEED}]. Got "
                f"{seed!r} instead.")
        wanted = {c: category_text(v) for c, v in conditions.items()}
        exact = self._conditions_exact(conditions)
        kept: list[pd.DataFrame] = []
        found = drawn = 0
        rounds = 0
        self._batch_drawn = None
        # once per call, so generated keys (id columns) do not repeat between rounds
        self.model_.reset_sampling()
        while found < n_rows:
            # draw for the match rate seen so far (a prior of 1/overdraw before any draw), so a
            # rare class costs a few large batches, not many small ones
            rate = found / drawn if drawn else 1.0 / self.conditional_overdraw
            batch = min(max(math.ceil(1.1 * (n_rows - found) / max(rate, 1e-3)), 50),
                        MAX_CONDITIONAL_BATCH)
            if exact:
                batch = min(n_rows - found, MAX_CONDITIONAL_BATCH)
            round_seed = (seed + rounds) % (MAX_SEED + 1)
            with seeded(round_seed), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                rows = self._draw_where(batch, conditions, round_seed)
            if isinstance(rows, dict):  # SDV answers {table_name: rows}
                rows = next(iter(rows.values()))
            rows = conform_output(rows, self.schema)
            # a backend that filtered its raw draws says how many it drew
            drawn += getattr(self, "_batch_drawn", None) or len(rows)
            self._batch_drawn = None
            match = np.ones(len(rows), dtype=bool)
            for column, value in wanted.items():
                good = matching_values(rows[column], value)
                if len(good) < rows[column].nunique(dropna=False):  # some rows miss
                    match &= rows[column].isin(good).to_numpy(bool)
            kept.append(rows[match])
            found += int(match.sum())
            rounds += 1
            logger.info("conditional sampling (%s): %d of %d rows matching %s (%d drawn)",
                        self.conditional_method, min(found, n_rows), n_rows, wanted, drawn)
            if rounds >= MAX_CONDITIONAL_ROUNDS or (rounds >= 5 and found == 0):
                raise SynthdataError(
                    f"{self.name} produced {found} of {n_rows} rows with {wanted} after "
                    f"{drawn} draws; the model almost never generates these values. Train "
                    "longer, ask for fewer rows, or use gaussian_copula or ctgan, which "
                    "condition directly")
        out = pd.concat(kept, ignore_index=True).iloc[:n_rows].reset_index(drop=True)
        self.last_conditional_draws_ = drawn
        return out

    def _draw_where(self, n_rows: int, conditions: dict[str, Any], seed: int) -> pd.DataFrame:
        """Rows in SDV's format; the default draws unconditionally (filtered by the caller).

        The caller has reset the model's sampling state once for the whole call.
        """
        model = self.model_
        model._set_random_state(int(seed))
        return model.sample(num_rows=int(n_rows))

    # -- persistence --
    def save(self, path: str | Path) -> Path:
        """Save to folder ``path`` (replaced atomically): a JSON description and the model.

        The model file is a pickle; :meth:`load` will only read it when the caller says the
        folder is trusted.
        """
        self._check_fitted("save")
        from synthdata.io import atomic_dir, atomic_write_json

        path = Path(path)
        with atomic_dir(path) as tmp:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                self.model_.save(str(tmp / MODEL_PICKLE))
            info = {
                "format": MODEL_FORMAT,
                "format_version": MODEL_FORMAT_VERSION,
                "synthesizer": self.name,
                "params": self.params_,
                "seed": self.seed,
                "device_fitted": self.device_,
                "n_train_rows": self.n_train_rows_,
                "schema": self.schema.model_dump(mode="json"),
                "versions": package_versions(),
                "files": {MODEL_PICKLE: sha256_file(tmp / MODEL_PICKLE)},
            }
            atomic_write_json(tmp / MODEL_JSON, info)
        return path

    @staticmethod
    def read_model_info(path: str | Path) -> dict[str, Any]:
        """Read and check a saved model's JSON description (safe: no code runs)."""
        path = Path(path)
        info_path = path / MODEL_JSON
        if not info_path.is_file():
            raise ModelFileError(
                f"expected a synthdata model folder with {MODEL_JSON} at '{path}', found none; "
                "pass the 'model' folder written by 'synthdata run'"
            )
        try:
            info = json.loads(info_path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ModelFileError(
                f"'{info_path}' is not valid JSON ({exc}); save the model again"
            ) from None
        if info.get("format") != MODEL_FORMAT or info.get("format_version") != MODEL_FORMAT_VERSION:
            raise ModelFileError(
                f"'{info_path}' has format {info.get('format')!r} version "
                f"{info.get('format_version')!r}; this synthdata reads {MODEL_FORMAT!r} version "
                f"{MODEL_FORMAT_VERSION}: re-fit and save with this version"
            )
        return info

    @classmethod
    def load(cls, path: str | Path, *, trusted: bool = False, device: str = "auto") -> Synthesizer:
        """Load a model saved by :meth:`save`.

        Args:
            path: The model folder.
            trusted: Must be True: the model file is a pickle, and unpickling a file from an
                untrusted source can run arbitrary code. Only load models you (or someone you
                trust) saved.
            device: Where to put a neural model: ``"auto"``, ``"cpu"`` or ``"cuda"``.

        Raises:
            UntrustedModelError: ``trusted`` is not True.
            ModelFileError: the folder is incomplete, altered, or of another format.
        """
        from synthdata.synthesizers import REGISTRY

        path = Path(path)
        info = cls.read_model_info(path)
        if trusted is not True:
            raise UntrustedModelError(
                f"refusing to load '{path / MODEL_PICKLE}': model files are Python pickles, and "
                "unpickling a file from an untrusted source can run arbitrary code. If you made "
                "this model or trust its source, pass trusted=True."
            )
        name = info.get("synthesizer")
        if name not in REGISTRY:
            raise ModelFileError(
                f"'{path}' holds synthesizer {name!r}, which is not registered "
                f"({', '.join(REGISTRY)}); use a synthdata version that has it"
            )
        pickle_path = path / MODEL_PICKLE
        expected = info.get("files", {}).get(MODEL_PICKLE)
        if not pickle_path.is_file() or sha256_file(pickle_path) != expected:
            raise ModelFileError(
                f"'{pickle_path}' is missing or does not match the sha256 recorded in "
                f"{MODEL_JSON}; the folder was altered or copied incompletely: save it again"
            )
        backend = REGISTRY[name]
        schema = schema_from_dict(info["schema"], source=f"schema in '{path / MODEL_JSON}'")
        params = dict(info.get("params", {}))
        epochs = params.pop("epochs", None)
        batch_size = params.pop("batch_size", None)
        obj = backend(
            schema, epochs=epochs, batch_size=batch_size, device=device, seed=info["seed"],
            **params,
        )
        obj.check_params()
        obj.device_ = resolve_device(device) if backend.uses_torch else "cpu"
        from sdv.utils import load_synthesizer

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = load_synthesizer(str(pickle_path))
        obj._place(model, obj.device_)
        obj.model_ = model
        obj.params_ = obj.get_params()
        obj.n_train_rows_ = int(info.get("n_train_rows") or 0)
        return obj

    def _place(self, model: Any, device: str) -> None:
        """Backend hook: move a loaded model to ``device``."""


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
