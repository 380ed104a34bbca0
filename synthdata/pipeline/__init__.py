"""The pipeline: one set of steps (``steps.py``) composed by each entry point.

``run``, ``balance``, ``augment`` (``synthesize.py``), ``evaluate`` (``scoring.py``) and
``sample_model`` (``resample.py``).
"""

from __future__ import annotations

from synthdata.pipeline.resample import sample_model
from synthdata.pipeline.scoring import evaluate
from synthdata.pipeline.steps import RunResult, fresh_keys
from synthdata.pipeline.synthesize import augment, balance, run

__all__ = ["RunResult", "augment", "balance", "evaluate", "fresh_keys", "run", "sample_model"]
