"""What every metric returns and how a report section runs them, shared by the metric modules.

- :class:`Result`: one metric's figures, scores, detail rows and reference figures.
- :func:`row`: a tidy detail row ``{columns, metric, value, error, ...}``; :func:`clean`: a
  figure as JSON wants it (plain float, ``None`` for NaN/inf); :func:`mean`: the mean of the
  finite values.
- :func:`run_metrics`: a report section's metrics run in turn and merged into one
  :class:`Result`; a metric that fails records its error instead of sinking the rest.
- Sampling noise, shared by the metrics whose gate bound allows for it: :data:`CONFIDENCE`
  (the one-sided level of every confidence bound the gate compares) and its normal quantile
  :data:`Z_ONE_SIDED`; :func:`bootstrap_weights` (resamples of rows as weights, so that two
  models scored with the same weights are compared on the same resamples: a paired
  bootstrap); :func:`wilson` (the Wilson score interval of a proportion).
"""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import Any

import numpy as np

__all__ = [
    "CONFIDENCE",
    "Z_ONE_SIDED",
    "Gated",
    "Result",
    "bootstrap_weights",
    "clean",
    "mean",
    "row",
    "run_metrics",
    "wilson",
]

# one level for every noise-aware gate bound: a figure fails only when its one-sided 95 %
# confidence bound is beyond the bound, so a table within sampling noise of it passes
CONFIDENCE = 0.95
Z_ONE_SIDED = NormalDist().inv_cdf(CONFIDENCE)  # 1.645


@dataclass(frozen=True)
class Gated:
    """A figure a metric module submits to the export gate (its module's ``GATED``).

    ``figure``: a key of the section's ``figures`` (when ``check`` holds ``{key}``, the figure
    is a dict and gives one check per key, ``{key}`` in ``check``/``what``/``attack`` naming
    it), or ``"flags"`` with ``kind`` ``"flags"``: the section's flags of severity
    ``block``. ``bound``: the :class:`~synthdata.schema.GateConfig` field holding the bound
    (a minimum unless ``upper``).
    ``required``: a figure that could not be measured fails the check (no evidence is not
    evidence of safety) instead of being skipped. ``attack``: skipped when the section lists
    it in ``figures.untrustworthy_attacks`` (an attack no better than guessing).
    ``confidence``: the figure holding the value's one-sided :data:`CONFIDENCE` bound (the
    lower bound for a maximum, the upper bound for a minimum): the gate fails the check only
    when that bound is beyond the limit, so sampling noise alone fails nothing. A report
    without that figure (an older one) is checked on the value itself; a bound recorded as
    ``None`` (the interval is unbounded) shows nothing: the check fails if ``required``,
    else it is skipped.
    """

    figure: str
    bound: str
    what: str = ""
    upper: bool = True
    required: bool = False
    check: str = ""
    attack: str = ""
    kind: str = "bound"
    confidence: str = ""


@dataclass
class Result:
    """One metric's output; merged into a report section (fidelity, privacy)."""

    figures: dict[str, Any] = field(default_factory=dict)
    scores: dict[str, float | None] = field(default_factory=dict)
    details: list[dict[str, Any]] = field(default_factory=list)
    reference: dict[str, Any] = field(default_factory=dict)


def row(columns: list[str], metric: str, value: float | None, error: str | None = None,
        **extra: Any) -> dict[str, Any]:
    return {"columns": columns, "metric": metric, "value": clean(value), "error": error, **extra}


def clean(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(value) else None
    return value


def mean(values: Sequence[float | None]) -> float | None:
    kept = [v for v in values if v is not None and math.isfinite(v)]
    return float(np.mean(kept)) if kept else None


def run_metrics(section: str, metrics: list[tuple[str, Callable[[], Result]]], *,
                clean_figures: bool = False) -> Result:
    """Run each ``(name, compute)`` with warnings silenced and merge the results in order.

    A metric that raises is logged (logger ``synthdata.metrics.<section>``) and leaves a detail
    row ``row([], name, None, error)`` instead. ``clean_figures``: pass scalar figures through
    :func:`clean` (dicts and lists as they are).
    """
    out = Result()
    for name, compute in metrics:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                part = compute()
        except Exception as exc:  # one failed metric is reported, not fatal
            logging.getLogger(f"synthdata.metrics.{section}").warning(
                "%s metric %s failed: %s", section, name, exc)
            out.details.append(row([], name, None, f"{type(exc).__name__}: {exc}"))
            continue
        if clean_figures:
            out.figures.update({k: clean(v) if not isinstance(v, dict | list) else v
                                for k, v in part.figures.items()})
        else:
            out.figures.update(part.figures)
        out.scores.update(part.scores)
        out.details.extend(part.details)
        out.reference.update(part.reference)
    return out


def bootstrap_weights(n: int, *, rounds: int, rng: np.random.Generator) -> Iterator[np.ndarray]:
    """How often each of ``n`` rows is drawn, for each of ``rounds`` bootstrap resamples.

    Statistics computed with the same weights are scored on the same resamples (a paired
    bootstrap): noise they share, such as which holdout rows happen to be hard, cancels from
    their difference or ratio.
    """
    for _ in range(rounds):
        yield np.bincount(rng.integers(0, n, n), minlength=n).astype("float64")


def wilson(successes: float, n: int, z: float) -> tuple[float, float]:
    """Wilson score interval of the proportion ``successes / n`` at normal quantile ``z``:
    ``(centre, half_width)``; ``(0, 1)`` when ``n`` is 0."""
    if n == 0:
        return 0.0, 1.0
    p = successes / n
    z2n = z**2 / n
    centre = (p + z2n / 2) / (1 + z2n)
    half = z * math.sqrt(p * (1 - p) / n + z2n / (4 * n)) / (1 + z2n)
    return centre, half
