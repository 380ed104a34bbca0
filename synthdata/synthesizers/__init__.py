"""The synthesizer registry: registry key = module name = CLI value."""

from __future__ import annotations

from typing import Any

from synthdata.errors import ParameterError
from synthdata.schema import Schema
from synthdata.synthesizers.base import Synthesizer, resolve_device
from synthdata.synthesizers.ctgan import CTGAN
from synthdata.synthesizers.gaussian_copula import GaussianCopula
from synthdata.synthesizers.tvae import TVAE

REGISTRY: dict[str, type[Synthesizer]] = {
    "gaussian_copula": GaussianCopula,
    "ctgan": CTGAN,
    "tvae": TVAE,
}

__all__ = ["REGISTRY", "Synthesizer", "get_synthesizer", "resolve_device"]


def get_synthesizer(name: str, schema: Schema, **params: Any) -> Synthesizer:
    """A new, unfitted synthesizer ``name`` for ``schema`` with its parameters validated.

    Raises:
        ParameterError: unknown name or a parameter out of its domain.
    """
    if name not in REGISTRY:
        raise ParameterError(
            f"unknown synthesizer {name!r}; expected one of {', '.join(REGISTRY)}"
        )
    synth = REGISTRY[name](schema, **params)
    synth.check_params()
    return synth
