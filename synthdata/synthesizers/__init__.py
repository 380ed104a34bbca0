"""Synthesizers behind one contract (``base.Synthesizer``); names in ``registry.REGISTRY``."""

from __future__ import annotations

from typing import Any

from synthdata.schema import Schema
from synthdata.synthesizers.base import Synthesizer, resolve_device
from synthdata.synthesizers.registry import REGISTRY, backend_class, names, register

__all__ = ["REGISTRY", "Synthesizer", "backend_class", "get_synthesizer", "names", "register",
           "resolve_device"]


def get_synthesizer(name: str, schema: Schema, **params: Any) -> Synthesizer:
    """A new, unfitted synthesizer ``name`` for ``schema`` with its parameters validated.

    ``params`` holds ``device``, ``seed`` and the backend's parameters (its ``Params``).

    Raises:
        ParameterError: unknown name, or parameters out of their domain (all listed).
    """
    synth = backend_class(name)(schema, **params)
    synth.check_params()
    return synth
