"""The synthesizer registry: the only list of synthesizer names in synthdata.

Registry key = module name = CLI value (``--synthesizer NAME`` -> ``synthesizers/NAME.py``).
Built-in backends are named by ``"module:Class"`` and imported on first use, so reading the
registry imports nothing heavy (no torch, no SDV). The schema's ``synthesizer.name``, the CLI
help, the tests and the benchmarks all read it. A backend of your own is one line::

    register("my_model", MyModel)        # a Synthesizer subclass, or "package.module:Class"
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from synthdata.errors import ParameterError

if TYPE_CHECKING:
    from synthdata.synthesizers.base import Synthesizer

REGISTRY: dict[str, str | type[Synthesizer]] = {
    "autoregressive": "synthdata.synthesizers.autoregressive:Autoregressive",
    "gaussian_copula": "synthdata.synthesizers.gaussian_copula:GaussianCopula",
    "ctgan": "synthdata.synthesizers.ctgan:CTGAN",
    "tvae": "synthdata.synthesizers.tvae:TVAE",
    "bayesian_network": "synthdata.synthesizers.bayesian_network:BayesianNetwork",
    "diffusion": "synthdata.synthesizers.diffusion:Diffusion",
}
DEFAULT = "autoregressive"  # what a schema without ``synthesizer.name`` uses


def names() -> list[str]:
    """Every registered name, in registration order."""
    return list(REGISTRY)


def register(name: str, backend: str | type[Synthesizer]) -> None:
    """Add (or replace) a backend under ``name``."""
    if not isinstance(backend, str):
        backend.name = name
    REGISTRY[name] = backend


def check_name(name: str) -> str:
    if name not in REGISTRY:
        raise ParameterError(
            f"unknown synthesizer {name!r}; expected one of {', '.join(REGISTRY)}")
    return name


def backend_class(name: str) -> type[Synthesizer]:
    """The class registered under ``name`` (imported on first use).

    Raises:
        ParameterError: ``name`` is not registered.
    """
    entry = REGISTRY[check_name(name)]
    if isinstance(entry, str):
        module, _, attr = entry.partition(":")
        entry = getattr(importlib.import_module(module), attr)
        entry.name = name  # the key is the backend's name: it is written nowhere else
        REGISTRY[name] = entry
    return entry


def conditional_names() -> list[str]:
    """Backends that generate conditionally (rather than by reject sampling)."""
    return [n for n in REGISTRY if backend_class(n).conditional]


def private_names() -> list[str]:
    """Backends that can fit a differentially private model (take ``epsilon``)."""
    return [n for n in REGISTRY if "epsilon" in backend_class(n).Params.model_fields]


def epoch_names() -> list[str]:
    """Backends that train in epochs (take ``epochs`` and ``batch_size``)."""
    return [n for n in REGISTRY if backend_class(n).trains_in_epochs()]


def problem(name: str) -> str | None:
    """Why ``name`` cannot run on this machine (its dependencies do not import), or None."""
    try:
        cls = backend_class(name)
        if getattr(cls, "sdv_class", None):
            import sdv  # noqa: F401
        if cls.uses_torch:
            import torch  # noqa: F401
    except ImportError as exc:  # a broken install, reported rather than raised
        return str(exc)
    return None


def runnable_names() -> list[str]:
    """Registered backends that can run here, in registration order."""
    return [n for n in REGISTRY if problem(n) is None]
