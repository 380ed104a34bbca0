"""The one abstract synthesizer: public fit/sample/sample_where/save/load written once.

A backend is one class directly under :class:`Synthesizer`, registered under its name in
``registry.REGISTRY`` (which sets its ``name``). It declares

- ``Params``, a pydantic model of its parameters (defaults,
  bounds, descriptions; ``epochs``/``batch_size`` among them if it trains in epochs);
- capability flags: ``uses_torch`` (gets a resolved ``device_``), ``conditional`` (has real
  conditional generation), ``differentially_private`` (can fit a DP model: takes
  ``epsilon``), ``pickled`` (its model files are
  pickles, so loading them needs ``trusted=True``);
- and fills the hooks ``_fit(train, progress)``, ``_sample(n_rows, seed)``,
  ``_sample_where(n_rows, conditions, seed)`` (a :class:`Draw`, or None for "not
  supported": reject sampling then), ``_state(folder)`` / ``_from_state(folder, device)``
  (write / read its model files), and optionally ``_begin_sampling()``.

Everything else lives here: parameter validation, the device, seeds, column order and dtypes,
the conditional-sampling loop, and the saved artifact (a JSON description with the sha256 of
every model file). Randomness comes from the ``seed`` handed to each hook; no hook needs a
library's global generator unless that library is its own. Nothing here imports torch or SDV
(``synthesizers/_sdv.py`` holds the SDV-specific code of the SDV backends).
"""

from __future__ import annotations

import json
import logging
import math
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, model_validator

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
from synthdata.validation import (
    MAX_SEED,
    check_count,
    check_model,
    check_seed,
    raise_problems,
)

logger = logging.getLogger(__name__)

DEVICES = ("auto", "cpu", "cuda")
MAX_CONDITIONAL_ROUNDS = 200
MAX_CONDITIONAL_BATCH = 1_000_000
MODEL_FORMAT = "synthdata-model"
MODEL_FORMAT_VERSION = 1
MODEL_JSON = "synthdata_model.json"


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


# ---- output typing -------------------------------------------------------------------------
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
    return pd.DataFrame(out, columns=schema.modelled_columns)


def package_versions() -> dict[str, str]:
    """Versions of synthdata, its direct dependencies and SDV's own (recorded in outputs)."""
    import re
    from importlib.metadata import PackageNotFoundError, requires, version

    def deps(package: str) -> list[str]:
        try:
            listed = requires(package) or []
        except PackageNotFoundError:
            return []
        return [re.split(r"[\s<>=!~;\[(]", r, maxsplit=1)[0] for r in listed
                if "extra ==" not in r]

    wanted = ["synthdata", *deps("synthdata"), *deps("sdv"), "torch"]
    out = {}
    for pkg in dict.fromkeys(wanted):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            pass
    return out


# the kinds sample_where can condition on
CONDITION_KINDS = (ColumnKind.categorical, ColumnKind.ordinal, ColumnKind.boolean)


def matching_values(column: pd.Series, text: str) -> list[Any]:
    """The distinct values of ``column`` that are the category ``text`` (see category_text)."""
    return [v for v in column.dropna().unique() if category_text(v) == text]


def _matches(rows: pd.DataFrame, wanted: dict[str, str]) -> np.ndarray:
    match = np.ones(len(rows), dtype=bool)
    for column, value in wanted.items():
        good = matching_values(rows[column], value)
        if len(good) < rows[column].nunique(dropna=False):  # some rows miss
            match &= rows[column].isin(good).to_numpy(bool)
    return match


@dataclass
class Draw:
    """Rows a backend generated for a condition, and how many raw rows that took."""

    rows: pd.DataFrame
    drawn: int


class BaseParams(BaseModel):
    """Base of every backend's ``Params``: unknown keys and loose types (a float for an int,
    a string for a bool) are errors; numpy scalars and tuples are taken as plain values."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _plain_values(cls, data: Any) -> Any:
        def plain(value: Any) -> Any:
            if isinstance(value, np.bool_):
                return bool(value)
            if isinstance(value, np.integer):
                return int(value)
            if isinstance(value, np.floating):
                return float(value)
            if isinstance(value, tuple | list):
                return [plain(v) for v in value]
            return value

        return {k: plain(v) for k, v in data.items()} if isinstance(data, dict) else data


# ---- the synthesizer ---------------------------------------------------------------------
class Synthesizer:
    """Fit on a training table described by a :class:`Schema`; sample synthetic rows.

    Args:
        schema: The table's schema; PII and free-text columns are never modelled.
        device: ``"auto"`` (CUDA when available), ``"cpu"`` or ``"cuda"``; used by backends
            with ``uses_torch``.
        seed: Makes ``fit`` reproducible; ``sample`` uses it unless given its own.
        **params: Backend parameters, checked against the backend's ``Params`` model.
    """

    name: ClassVar[str] = ""  # the registry key, set by the registry
    Params: ClassVar[type[BaseModel]] = BaseParams
    uses_torch: ClassVar[bool] = False
    conditional: ClassVar[bool] = False
    differentially_private: ClassVar[bool] = False
    pickled: ClassVar[bool] = False
    conditional_method: ClassVar[str] = "reject sampling"
    streams: ClassVar[bool] = False  # fit_stream trains on every row of a streamed dataset
    reject_overdraw: ClassVar[float] = 2.0  # reject sampling: rows drawn per row still needed

    def __init__(self, schema: Schema, *, device: str = "auto", seed: int = 0,
                 **params: Any) -> None:
        self.schema = schema
        self.device = device
        self.seed = seed
        # epochs/batch_size of None mean "the default", as the pipeline passes them
        self.params = {k: v for k, v in params.items()
                       if not (k in ("epochs", "batch_size") and v is None)}

    # -- parameters --
    @classmethod
    def trains_in_epochs(cls) -> bool:
        return "epochs" in cls.Params.model_fields

    @classmethod
    def param_problems(cls, params: dict[str, Any], schema: Schema | None = None
                       ) -> tuple[BaseModel | None, list[str]]:
        """Check backend parameters without building anything: (the model, problems)."""
        owner = cls.__name__
        problems: list[str] = []
        if not cls.trains_in_epochs():
            for key in ("epochs", "batch_size"):
                if key in params:
                    from synthdata.synthesizers.registry import epoch_names

                    problems.append(
                        f"The '{key}' parameter does not apply to {cls.name}; it is not "
                        f"trained in epochs. Drop it or pick one of {', '.join(epoch_names())}.")
            params = {k: v for k, v in params.items() if k not in ("epochs", "batch_size")}
        checked, found = check_model(cls.Params, params, owner=owner,
                                     context={"schema": schema})
        return checked, problems + found

    def check_params(self) -> BaseModel:
        """Validate seed, device and every backend parameter; cheap, so callers run it before
        any expensive work. Every problem is listed at once.

        Raises:
            ParameterError: with the scikit-learn-style message.
        """
        owner = type(self).__name__
        checked, problems = self.param_problems(self.params, self.schema)
        try:
            check_seed(self.seed, owner)
        except ParameterError as exc:
            problems.append(str(exc))
        if self.device not in DEVICES:
            problems.append(f"The 'device' parameter of {owner} must be one of "
                            f"{', '.join(DEVICES)}. Got {self.device!r} instead.")
        raise_problems(problems)
        assert checked is not None
        return checked

    def get_params(self) -> dict[str, Any]:
        """Every backend parameter with its effective value (JSON-ready)."""
        return self.check_params().model_dump(mode="json")

    # -- fit / sample --
    def fit(self, train: pd.DataFrame, *, progress: bool = False) -> Synthesizer:
        """Fit on ``train`` (typed per schema, e.g. by :func:`synthdata.read_table`).

        ``progress=True`` shows the epoch progress bar of backends that train in epochs;
        the default keeps the library silent.
        """
        params = self.check_params()
        missing = [c for c in self.schema.modelled_columns if c not in train.columns]
        if missing:
            raise ParameterError(
                f"train is missing schema column(s) {', '.join(map(repr, missing))}; "
                "pass a table read with the same schema"
            )
        self.device_ = resolve_device(self.device) if self.uses_torch else "cpu"
        self.params_ = params.model_dump(mode="json")
        self._fit(train[self.schema.modelled_columns], params, progress=progress)
        self.n_train_rows_ = len(train)
        self.categories_seen_ = self._seen_categories(train)  # what sample_where can ask for
        logger.info("fitted %s on %d rows (device %s)", self.name, len(train), self.device_)
        return self

    def fit_stream(self, dataset: Any, *, progress: bool = False,
                   engine: Any = None) -> Synthesizer:
        """Fit on the training rows of a scanned :class:`synthdata.dataset.Dataset`.

        A backend with ``streams`` trains on every training row, streamed in batches
        (``_fit_stream``; ``engine``, a :mod:`synthdata.execution` engine, may train it
        data-parallel); the others fit on the dataset's uniform training sample
        (``dataset.train_sample``). ``rows_seen_`` says how many rows the fit read.
        """
        if not self.streams:
            self.fit(dataset.train_sample, progress=progress)
            self.rows_seen_ = len(dataset.train_sample)
            return self
        params = self.check_params()
        self.device_ = resolve_device(self.device) if self.uses_torch else "cpu"
        self.params_ = params.model_dump(mode="json")
        self.rows_seen_ = self._fit_stream(dataset, params, progress=progress, engine=engine)
        self.n_train_rows_ = dataset.n_train
        self.categories_seen_ = dict(dataset.categories)
        logger.info("fitted %s on %d streamed rows (device %s)", self.name, self.rows_seen_,
                    self.device_)
        return self

    def _fit_stream(self, dataset: Any, params: Any, *, progress: bool,
                    engine: Any = None) -> int:
        """Train on the dataset's training rows (``dataset.train_batches()`` here, or
        ``dataset.reader().train(unit)`` over ``dataset.units`` as ``engine`` tasks); return
        the number of rows read."""
        raise NotImplementedError

    def _seen_categories(self, train: pd.DataFrame) -> dict[str, list[str]]:
        """The categories of each condition column that ``sample_where`` accepts (saved with
        the model; a differentially private backend returns only what it released)."""
        return {c: sorted({category_text(v) for v in train[c].dropna().unique()})
                for c in self.schema.columns_of(*CONDITION_KINDS) if c in train.columns}

    def privacy_guarantee(self) -> dict[str, Any] | None:
        """The fitted model's differential privacy ledger (``privacy.dp`` of report.json:
        epsilon, delta, mechanism, accountant and every spend), or None when it is not DP."""
        return None

    def summary(self) -> dict[str, Any]:
        """What the fitted model learnt that a reader can check (``model`` of report.json)."""
        return {}

    def _check_fitted(self, method: str) -> None:
        if not hasattr(self, "n_train_rows_"):
            raise NotFittedError(
                f"This {type(self).__name__} is not fitted yet; call 'fit' before '{method}'."
            )

    def sample(self, n_rows: int, *, seed: int | None = None) -> pd.DataFrame:
        """Sample ``n_rows`` synthetic rows; the same ``seed`` gives the same rows.

        Returns only the modelled columns (PII columns are filled by the pipeline).
        """
        self._check_fitted("sample")
        n_rows = check_count("n_rows", n_rows, "sample")
        seed = check_seed(self.seed if seed is None else seed, "sample")
        self._begin_sampling()
        return conform_output(self._sample(n_rows, seed), self.schema)

    def sample_where(self, n_rows: int, conditions: dict[str, Any], *,
                     seed: int | None = None) -> pd.DataFrame:
        """``n_rows`` synthetic rows whose ``conditions`` columns hold the given values.

        Backends with ``conditional`` generate for the condition (``_sample_where``); when
        they cannot for these conditions, or have no conditional generation, rows are drawn
        unconditionally and the matching ones kept (reject sampling), in batches sized by the
        match rate seen so far. ``last_conditional_draws_`` records how many rows were drawn.

        Raises:
            SynthdataError: the model (almost) never produces the requested values.
        """
        self._check_fitted("sample_where")
        n_rows = check_count("n_rows", n_rows, "sample_where")
        unknown = [c for c in conditions if c not in self.schema.modelled_columns]
        if unknown:
            raise ParameterError(
                f"conditions name column(s) {', '.join(map(repr, unknown))} that the model "
                f"does not generate; use some of {', '.join(self.schema.modelled_columns)}")
        seed = check_seed(self.seed if seed is None else seed, "sample_where")
        wanted = {c: category_text(v) for c, v in conditions.items()}
        seen = getattr(self, "categories_seen_", None) or {}  # None for models saved before
        for column, text in wanted.items():
            if column in seen and text not in seen[column]:
                raise ParameterError(
                    f"conditions: {column}={text!r} never occurs in the rows the model was "
                    f"trained on, so it cannot generate rows with it; expected one of "
                    f"{', '.join(map(repr, seen[column][:20]))}"
                    f"{' ...' if len(seen[column]) > 20 else ''}", param="where")
        kept: list[pd.DataFrame] = []
        found = drawn = rounds = 0
        self._begin_sampling()  # once per call: generated keys do not repeat between rounds
        while found < n_rows:
            round_seed = (seed + rounds) % (MAX_SEED + 1)
            draw = self._sample_where(n_rows - found, conditions, round_seed) \
                if self.conditional else None
            if draw is None:  # reject sampling, batch sized by the match rate so far
                rate = found / drawn if drawn else 1.0 / self.reject_overdraw
                batch = min(max(math.ceil(1.1 * (n_rows - found) / max(rate, 1e-3)), 50),
                            MAX_CONDITIONAL_BATCH)
                draw = Draw(self._sample(batch, round_seed), batch)
            rows = conform_output(draw.rows, self.schema)
            drawn += draw.drawn
            kept.append(rows[_matches(rows, wanted)])
            found += len(kept[-1])
            rounds += 1
            logger.info("conditional sampling (%s): %d of %d rows matching %s (%d drawn)",
                        self.conditional_method, min(found, n_rows), n_rows, wanted, drawn)
            if rounds >= MAX_CONDITIONAL_ROUNDS or (rounds >= 5 and found == 0):
                from synthdata.synthesizers.registry import conditional_names

                raise SynthdataError(
                    f"{self.name} produced {found} of {n_rows} rows with {wanted} after "
                    f"{drawn} draws; the model almost never generates these values. Train "
                    "longer, ask for fewer rows, or use a synthesizer that conditions "
                    f"directly ({', '.join(conditional_names())})")
        self.last_conditional_draws_ = drawn
        return pd.concat(kept, ignore_index=True).iloc[:n_rows].reset_index(drop=True)

    # -- hooks --
    def _fit(self, train: pd.DataFrame, params: Any, *, progress: bool) -> None:
        """Learn from ``train`` (the modelled columns, typed per schema)."""
        raise NotImplementedError

    def _sample(self, n_rows: int, seed: int) -> pd.DataFrame:
        """``n_rows`` rows with the modelled columns (typed by the caller)."""
        raise NotImplementedError

    def _sample_where(self, n_rows: int, conditions: dict[str, Any], seed: int) -> Draw | None:
        """Rows generated for ``conditions`` (the caller keeps the matching ones), or None
        when these conditions cannot be generated directly."""
        return None

    def _begin_sampling(self) -> None:
        """Called once per public sample call, before the first ``_sample*``."""

    def _state(self, folder: Path) -> None:
        """Write the fitted model's files into ``folder``."""
        raise NotImplementedError

    def _from_state(self, folder: Path, device: str) -> None:
        """Read the files :meth:`_state` wrote (already checked against their sha256)."""
        raise NotImplementedError

    # -- persistence --
    def save(self, path: str | Path) -> Path:
        """Save to folder ``path`` (replaced atomically): a JSON description and the model
        files, each recorded with its sha256."""
        self._check_fitted("save")
        from synthdata.io import atomic_dir, atomic_write_json

        path = Path(path)
        with atomic_dir(path) as tmp:
            self._state(tmp)
            files = {str(p.relative_to(tmp)): sha256_file(p)
                     for p in sorted(tmp.rglob("*")) if p.is_file()}
            info = {
                "format": MODEL_FORMAT,
                "format_version": MODEL_FORMAT_VERSION,
                "synthesizer": self.name,
                "params": self.params_,
                "seed": self.seed,
                "device_fitted": self.device_,
                "n_train_rows": self.n_train_rows_,
                "categories_seen": getattr(self, "categories_seen_", None),
                "schema": self.schema.model_dump(mode="json"),
                "versions": package_versions(),
                "files": files,
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
        if not isinstance(info, dict) or info.get("format") != MODEL_FORMAT \
                or info.get("format_version") != MODEL_FORMAT_VERSION:
            found = info if not isinstance(info, dict) else info.get("format")
            version = None if not isinstance(info, dict) else info.get("format_version")
            raise ModelFileError(
                f"'{info_path}' has format {found!r} version {version!r}; this synthdata "
                f"reads {MODEL_FORMAT!r} version {MODEL_FORMAT_VERSION}: re-fit and save with "
                "this version"
            )
        return info

    @classmethod
    def load(cls, path: str | Path, *, trusted: bool = False, device: str = "auto") -> Synthesizer:
        """Load a model saved by :meth:`save`.

        Args:
            path: The model folder.
            trusted: Needed for backends whose model files are pickles (``pickled``):
                unpickling a file from an untrusted source can run arbitrary code. Backends
                that save plain arrays and JSON load without it.
            device: Where to put a neural model: ``"auto"``, ``"cpu"`` or ``"cuda"``.

        Raises:
            UntrustedModelError: the files are pickles and ``trusted`` is not True.
            ModelFileError: the folder is incomplete, altered, or of another format.
        """
        from synthdata.synthesizers.registry import REGISTRY, backend_class

        path = Path(path)
        info = cls.read_model_info(path)
        name = info.get("synthesizer")
        if name not in REGISTRY:
            raise ModelFileError(
                f"'{path}' holds synthesizer {name!r}, which is not registered "
                f"({', '.join(REGISTRY)}); use a synthdata version that has it"
            )
        backend = backend_class(name)
        recorded = info.get("files")
        if not isinstance(recorded, dict) or not recorded:
            raise ModelFileError(f"'{path / MODEL_JSON}' lists no model files; save it again")
        if backend.pickled and trusted is not True:
            raise UntrustedModelError(
                f"refusing to load '{path}': the files of a {name} model are Python pickles, "
                "and unpickling a file from an untrusted source can run arbitrary code. If "
                "you made this model or trust its source, pass trusted=True."
            )
        present = {str(p.relative_to(path)) for p in path.rglob("*") if p.is_file()} - {
            MODEL_JSON}
        bad = sorted(f for f in present | set(recorded) if f not in present
                     or f not in recorded or sha256_file(path / f) != recorded[f])
        if bad:
            raise ModelFileError(
                f"model file(s) {', '.join(bad)} in '{path}' are missing, added or do not match "
                f"the sha256 recorded in {MODEL_JSON}; the folder was altered or copied "
                "incompletely: save it again"
            )
        schema = schema_from_dict(info["schema"], source=f"schema in '{path / MODEL_JSON}'",
                                  check_synthesizer=False)
        obj = backend(schema, device=device, seed=info["seed"], **dict(info.get("params", {})))
        params = obj.check_params()
        obj.device_ = resolve_device(device) if backend.uses_torch else "cpu"
        obj.params_ = params.model_dump(mode="json")
        obj._from_state(path, obj.device_)
        obj.n_train_rows_ = int(info.get("n_train_rows") or 0)
        seen = info.get("categories_seen")
        if isinstance(seen, dict):
            obj.categories_seen_ = {str(c): [str(v) for v in values]
                                    for c, values in seen.items() if isinstance(values, list)}
        return obj


def save_arrays(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Arrays as ``.npz`` for native backends: numbers and fixed-width text, no pickles."""
    with open(path, "wb") as fh:
        np.savez(fh, **{k: np.asarray(v) for k, v in arrays.items()})


def load_arrays(path: Path) -> dict[str, np.ndarray]:
    """Read :func:`save_arrays`' file without ever unpickling (object arrays are refused)."""
    with warnings.catch_warnings(), np.load(path, allow_pickle=False) as data:
        return {k: data[k] for k in data.files}
