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
    "augment",
    "balance",
    "check_gate",
    "evaluate",
    "get_synthesizer",
    "infer_schema",
    "load_schema",
    "make_demo_table",
    "read_table",
    "run",
    "sample_model",
]

from synthdata.errors import DataError, SchemaError, SynthdataError
from synthdata.schema import Schema, load_schema

if TYPE_CHECKING:
    from synthdata.demo import make_demo_table
    from synthdata.gate import check_gate
    from synthdata.infer import infer_schema
    from synthdata.io import read_table
    from synthdata.pipeline import augment, balance, evaluate, run, sample_model
    from synthdata.synthesizers import get_synthesizer

_LAZY = {
    "run": ("synthdata.pipeline", "run"),
    "evaluate": ("synthdata.pipeline", "evaluate"),
    "balance": ("synthdata.pipeline", "balance"),
    "augment": ("synthdata.pipeline", "augment"),
    "sample_model": ("synthdata.pipeline", "sample_model"),
    "infer_schema": ("synthdata.infer", "infer_schema"),
    "make_demo_table": ("synthdata.demo", "make_demo_table"),
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
