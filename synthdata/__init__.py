"""synthdata: synthetic tables scored for fidelity, privacy and bias before export.

Importing synthdata is cheap: sdv and torch load only when a synthesizer fits or loads.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = [
    "DataError",
    "Schema",
    "SchemaError",
    "SynthdataError",
    "__version__",
    "check_gate",
    "evaluate",
    "get_synthesizer",
    "load_schema",
    "read_table",
    "run",
]

from synthdata.errors import DataError, SchemaError, SynthdataError
from synthdata.schema import Schema, load_schema

if TYPE_CHECKING:
    from synthdata.gate import check_gate
    from synthdata.io import read_table
    from synthdata.pipeline import evaluate, run
    from synthdata.synthesizers import get_synthesizer

_LAZY = {
    "run": ("synthdata.pipeline", "run"),
    "evaluate": ("synthdata.pipeline", "evaluate"),
    "check_gate": ("synthdata.gate", "check_gate"),
    "read_table": ("synthdata.io", "read_table"),
    "get_synthesizer": ("synthdata.synthesizers", "get_synthesizer"),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module 'synthdata' has no attribute {name!r}")
