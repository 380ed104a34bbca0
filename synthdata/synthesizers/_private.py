"""Differential privacy: the mechanisms the native synthesizers use, and the ledger every
spend goes into.

Neighbouring tables have the same number of rows ``n`` (public) and differ in one row's
values (one person's row replaced). So a histogram of the rows changes by at most 2 in L1
(one count down, one up), a single count by at most 1. Every function that reads the data
takes the epsilon it may spend and writes it into a :class:`Ledger`; spends compose by basic
sequential composition (epsilons add, deltas add), so the ledger's total is an upper bound on
the privacy loss of everything released: any one person's row changes the probability of any
output by at most a factor ``e**epsilon`` (plus ``delta``).

Anything taken from the schema (declared bounds, declared categories, ``nullable: false``) is
public and costs nothing, unless the schema says it was inferred from the data.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)

HISTOGRAM_SENSITIVITY = 2.0  # L1 change of a histogram when one row is replaced
BOUND_QUANTILE = 0.005  # private bounds: the noisy 0.5 % and 99.5 % points
BOUND_GRID = np.concatenate([-(10.0 ** np.arange(15, -6.25, -0.25)), [0.0],
                             10.0 ** np.arange(-6, 15.25, 0.25)])  # public candidate bounds
KNOT_CELLS = 256  # grid cells of the private histogram a number's quantile bins come from
LOG_SPAN = 1000.0  # a number whose bounds span more than this is binned on a log scale
# Renyi orders of the RDP accountant (Opacus' defaults and a few larger ones)
ORDERS = tuple([1 + x / 10.0 for x in range(1, 100)] + list(range(12, 64))
               + [80, 96, 128, 256, 512])
OPACUS_INSTALL = "pip install 'synthdata[dp]'  (or: pip install opacus)"
NEIGHBOURS_REPLACE = "one row replaced (n public)"
NEIGHBOURS_ADD_REMOVE = ("one row added or removed (DP-SGD, Opacus' analysis); the other "
                         "mechanisms are calibrated for a replaced row, which covers it")


def rho_for(epsilon: float, delta: float) -> float:
    """The largest zCDP rho whose (epsilon, delta) conversion is within ``epsilon``:
    rho + 2 sqrt(rho ln(1/delta)) = epsilon (Bun & Steinke 2016, Proposition 1.3)."""
    if epsilon <= 0 or delta <= 0:
        return 0.0
    log = math.log(1.0 / delta)
    return (math.sqrt(log + epsilon) - math.sqrt(log)) ** 2


def epsilon_for(rho: float, delta: float) -> float:
    """(epsilon, delta)-DP of a rho-zCDP mechanism: rho + 2 sqrt(rho ln(1/delta))."""
    if rho <= 0:
        return 0.0
    return rho + 2.0 * math.sqrt(rho * math.log(1.0 / delta))


@dataclass
class Ledger:
    """Every spend of privacy budget, in order, and their composition.

    Spends of mechanisms with a zCDP guarantee (Laplace, exponential, Gaussian: Bun & Steinke
    2016) carry their ``rho``; they compose by adding rhos, converted once to (epsilon,
    delta_conversion). Spends of approximate-DP mechanisms (thresholded category lists) carry
    (epsilon, delta) and are added to that by basic composition. Each spend also lists its own
    epsilon (for a zCDP spend: its rho alone converted at the same delta), so the total is
    tighter than the sum of the listed epsilons."""

    epsilon: float  # the budget
    delta: float = 0.0
    spent: list[dict[str, Any]] = field(default_factory=list)
    delta_conversion: float = 0.0  # the delta at which the zCDP part is converted
    rdp: np.ndarray | None = None  # summed RDP curves of DP-SGD spends, at ORDERS
    neighbours: str = NEIGHBOURS_REPLACE

    @property
    def rho_spent(self) -> float:
        return float(sum(s["rho"] for s in self.spent if s.get("rho") is not None))

    def _approx(self) -> tuple[float, float]:
        basic = [s for s in self.spent if s.get("rho") is None and not s.get("rdp")]
        return float(sum(s["epsilon"] for s in basic)), float(sum(s["delta"] for s in basic))

    @property
    def epsilon_spent(self) -> float:
        return self.epsilon_with(None)

    def epsilon_with(self, curve: np.ndarray | None) -> float:
        """The total epsilon, with the RDP ``curve`` (at ORDERS) of a further spend when
        given: with RDP spends, the zCDP rho enters as the RDP curve rho * alpha and everything
        is converted once (Opacus' conversion, Balle et al. 2020)."""
        eps, _ = self._approx()
        curves = [c for c in (self.rdp, curve) if c is not None]
        if curves:
            total = np.sum(curves, axis=0) + self.rho_spent * np.asarray(ORDERS)
            return eps + rdp_epsilon(total, self.delta_conversion)
        if self.rho_spent <= 0:
            return eps
        return eps + epsilon_for(self.rho_spent, self.delta_conversion)

    @property
    def delta_spent(self) -> float:
        _, dlt = self._approx()
        converted = self.rho_spent > 0 or self.rdp is not None
        return dlt + (self.delta_conversion if converted else 0.0)

    def spend(self, step: str, *, mechanism: str, rho: float | None = None,
              epsilon: float | None = None, delta: float = 0.0,
              rdp: np.ndarray | None = None) -> None:
        """Record a spend: a zCDP one by ``rho`` (``epsilon``: its pure-DP epsilon when it has
        one), an RDP one by its curve ``rdp`` at ORDERS (DP-SGD), an approximate-DP one by
        (``epsilon``, ``delta``). Refuses to go over the budget (a bug, never a user error)."""
        before = self.rdp
        if rdp is not None:
            curve = np.asarray(rdp, dtype="float64")
            entry = {"step": step, "epsilon": rdp_epsilon(curve, self.delta_conversion),
                     "delta": 0.0, "rho": None, "rdp": True, "mechanism": mechanism}
            self.rdp = curve if before is None else before + curve
        elif rho is None:
            if epsilon is None or epsilon <= 0 or delta < 0:
                raise ValueError(f"an approximate-DP spend needs epsilon > 0: {step}")
            entry = {"step": step, "epsilon": float(epsilon), "delta": float(delta),
                     "rho": None, "mechanism": mechanism}
        else:
            if rho <= 0:
                raise ValueError(f"a zCDP spend needs rho > 0: {step}")
            own = epsilon if epsilon is not None else epsilon_for(rho, self.delta_conversion)
            entry = {"step": step, "epsilon": float(own), "delta": 0.0, "rho": float(rho),
                     "mechanism": mechanism}
        self.spent.append(entry)
        if self.epsilon_spent > self.epsilon * (1 + 1e-9) or \
                self.delta_spent > self.delta * (1 + 1e-9) + 1e-15:
            self.spent.pop()
            self.rdp = before
            raise ValueError(f"spending on {step} goes over the budget ({self.epsilon}, "
                             f"{self.delta})")

    def to_json(self, mechanism: str) -> dict[str, Any]:
        if self.rdp is None:
            accountant = ("zCDP (Bun & Steinke 2016): rhos added, converted once to "
                          "(epsilon, delta); thresholded category lists added by basic "
                          "composition")
        else:
            accountant = ("RDP (Opacus' accountant of the Poisson-sampled Gaussian mechanism, "
                          "Mironov et al. 2019), with the zCDP spends as the RDP curve rho * "
                          "alpha: curves added, converted once to (epsilon, delta) (Balle et "
                          "al. 2020); thresholded category lists added by basic composition")
        return {"epsilon": self.epsilon_spent, "delta": self.delta_spent,
                "budget": {"epsilon": self.epsilon, "delta": self.delta},
                "mechanism": mechanism, "accountant": accountant,
                "rho": self.rho_spent, "delta_conversion": self.delta_conversion,
                "neighbours": self.neighbours,
                "spent": [{k: v for k, v in s.items() if k != "rdp"} for s in self.spent]}


def require_opacus() -> Any:
    """Opacus (the optional extra ``dp``), or an ImportError that says how to install it."""
    try:
        import opacus  # noqa: F401
        from opacus.accountants.analysis import rdp
    except ImportError as exc:
        raise ImportError(f"DP-SGD needs Opacus, which is not installed: {OPACUS_INSTALL}"
                          ) from exc
    return rdp


def sgd_rdp(sample_rate: float, noise_multiplier: float, steps: int) -> np.ndarray:
    """The RDP curve (at ORDERS) of ``steps`` Poisson-sampled Gaussian steps (Opacus)."""
    if steps <= 0:
        return np.zeros(len(ORDERS))
    rdp = require_opacus()
    return np.asarray(rdp.compute_rdp(q=float(sample_rate),
                                      noise_multiplier=float(noise_multiplier),
                                      steps=int(steps), orders=list(ORDERS)), dtype="float64")


def rdp_epsilon(curve: np.ndarray, delta: float) -> float:
    """(epsilon, delta)-DP of an RDP curve at ORDERS (Opacus' conversion)."""
    import warnings

    rdp = require_opacus()
    with warnings.catch_warnings():  # "optimal order is the largest alpha": a loose bound
        warnings.simplefilter("ignore")
        eps, _ = rdp.get_privacy_spent(orders=list(ORDERS), rdp=list(curve), delta=delta)
    return float(eps)


def sgd_noise(ledger: Ledger, sample_rate: float, steps: int) -> float | None:
    """The smallest noise multiplier (to 0.1 %) with which ``steps`` DP-SGD steps fit the
    ledger's budget beside what it has spent; None when even sigma = 1000 does not."""
    def fits(sigma: float) -> bool:
        return ledger.epsilon_with(sgd_rdp(sample_rate, sigma, steps)) <= ledger.epsilon

    low, high = 0.05, 1000.0
    if not fits(high):
        return None
    if fits(low):
        return low
    while high / low > 1.001:
        mid = math.sqrt(low * high)
        low, high = (low, mid) if fits(mid) else (mid, high)
    return high


def check_shares(metadata_share: float, fairness_share: float, rest: str) -> None:
    """Parameter check: the two budget shares must leave some of epsilon for ``rest``."""
    if metadata_share + fairness_share >= 1:
        raise ValueError(
            f"metadata_share + fairness_share must be below 1 (the rest of epsilon {rest}); "
            f"got {metadata_share} + {fairness_share}")


def check_delta(delta: float | None, n: int) -> float:
    """The DP delta for ``n`` rows: ``delta``, or min(1e-5, 0.1 / n) when None.

    Raises:
        ParameterError: delta is not below 1 / n.
    """
    from synthdata.errors import ParameterError

    delta = float(delta) if delta is not None else min(1e-5, 0.1 / max(n, 1))
    if delta >= 1.0 / max(n, 1):
        raise ParameterError(
            f"delta must be below 1 / rows = {1.0 / max(n, 1):.3g} (a delta that large "
            f"lets the model publish a whole row); got {delta:g}. Set "
            f"synthesizer.params.delta to at most {0.1 / max(n, 1):.2g} or leave it unset",
            param="params")
    return delta


def gaussian(counts: np.ndarray, rho: float, rng: np.random.Generator,
             sensitivity: float = math.sqrt(HISTOGRAM_SENSITIVITY)) -> np.ndarray:
    """``counts`` plus Gaussian noise of sigma = sensitivity / sqrt(2 rho) (rho-zCDP; the L2
    sensitivity of a histogram under one replaced row is sqrt(2))."""
    sigma = gaussian_sigma(rho, sensitivity)
    return np.asarray(counts, dtype="float64") + rng.normal(0.0, sigma, size=np.shape(counts))


def gaussian_sigma(rho: float, sensitivity: float = math.sqrt(HISTOGRAM_SENSITIVITY)) -> float:
    return sensitivity / math.sqrt(2.0 * rho)


def laplace(counts: np.ndarray, epsilon: float, rng: np.random.Generator,
            sensitivity: float = HISTOGRAM_SENSITIVITY) -> np.ndarray:
    """``counts`` plus Laplace noise of scale sensitivity / epsilon (epsilon-DP)."""
    return np.asarray(counts, dtype="float64") + rng.laplace(
        0.0, sensitivity / epsilon, size=np.shape(counts))


def exponential(scores: np.ndarray, epsilon: float, sensitivity: float,
                rng: np.random.Generator) -> int:
    """The exponential mechanism: index i with probability proportional to
    exp(epsilon * scores[i] / (2 * sensitivity)) (epsilon-DP)."""
    logits = epsilon * np.asarray(scores, dtype="float64") / (2.0 * sensitivity)
    logits -= logits.max()
    weights = np.exp(logits)
    return int(rng.choice(len(weights), p=weights / weights.sum()))


def mutual_information_sensitivity(n: int) -> float:
    """Sensitivity of the empirical mutual information (nats) of two discrete variables over
    n rows when one row is replaced (PrivBayes, Zhang et al. 2017, Lemma 4.1, general case)."""
    n = max(int(n), 2)
    return (2.0 / n) * math.log((n + 1) / 2.0) + ((n - 1) / n) * math.log((n + 1) / (n - 1))


def categories(texts: list[str], epsilon: float, delta: float, rng: np.random.Generator
               ) -> list[str]:
    """The values of a column released privately: each seen value's count plus Laplace noise
    of scale 2 / epsilon, kept when it clears 1 + (2 / epsilon) * ln(1 / delta).

    A value whose count is the same in both neighbours is epsilon-DP by the noise; a value
    present in one neighbour only (at most two per replaced row) passes the threshold with
    probability at most delta / 2 each: (epsilon, delta)-DP. Kept in order of noisy count."""
    values, counts = np.unique(np.asarray(texts, dtype=object).astype(str), return_counts=True)
    if not len(values):
        return []
    noisy = laplace(counts, epsilon, rng)
    threshold = 1.0 + (HISTOGRAM_SENSITIVITY / epsilon) * math.log(1.0 / delta)
    keep = noisy >= threshold
    order = np.argsort(-noisy[keep], kind="stable")
    return [str(v) for v in values[keep][order]]


def bounds(values: np.ndarray, epsilon: float, rng: np.random.Generator
           ) -> tuple[float, float] | None:
    """Private lower and upper bounds of ``values`` (NaN left out): a noisy histogram over a
    public grid of signed powers of ten (quarter decades), cut at its noisy 0.5 % and 99.5 %
    points (epsilon-DP). None when the noisy histogram holds nothing."""
    x = np.asarray(values, dtype="float64")
    x = x[~np.isnan(x)]
    edges = BOUND_GRID
    index = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, len(edges) - 2)
    noisy = np.maximum(laplace(np.bincount(index, minlength=len(edges) - 1), epsilon, rng), 0)
    total = noisy.sum()
    if total <= 0:
        return None
    cdf = np.cumsum(noisy) / total
    lo = int(np.searchsorted(cdf, BOUND_QUANTILE, side="right"))
    hi = int(np.searchsorted(cdf, 1 - BOUND_QUANTILE, side="left"))
    hi = min(max(hi, lo), len(edges) - 2)
    return float(edges[lo]), float(edges[hi + 1])


def _scale(low: float, high: float) -> tuple[Any, Any]:
    """The public scale a number is binned on: signed log1p for a wide range, else linear."""
    if high - low > LOG_SPAN:
        return (lambda v: np.sign(v) * np.log1p(np.abs(v)),
                lambda t: np.sign(t) * np.expm1(np.abs(t)))
    return (lambda v: v, lambda t: t)


def knots(values: np.ndarray, low: float, high: float, n_knots: int, epsilon: float,
          rng: np.random.Generator) -> np.ndarray:
    """``n_knots`` quantile knots of ``values`` inside [low, high] from a noisy histogram of
    ``KNOT_CELLS`` equal cells on a public scale (epsilon-DP); the knots only cut the range
    into cells, whose frequencies are learnt (privately) by the model."""
    forward, back = _scale(low, high)
    t_lo, t_hi = float(forward(low)), float(forward(high))
    x = np.clip(np.asarray(values, dtype="float64"), low, high)
    x = x[~np.isnan(x)]
    grid = np.linspace(t_lo, t_hi, KNOT_CELLS + 1)
    if t_hi <= t_lo:
        return np.full(n_knots, low)
    index = np.clip(((forward(x) - t_lo) / (t_hi - t_lo) * KNOT_CELLS).astype("int64"),
                    0, KNOT_CELLS - 1)
    noisy = np.maximum(laplace(np.bincount(index, minlength=KNOT_CELLS), epsilon, rng), 0)
    noisy += 1e-9 * max(noisy.sum(), 1.0)  # never flat: empty stretches share a sliver
    cdf = np.r_[0.0, np.cumsum(noisy)] / noisy.sum()
    out = back(np.interp(np.linspace(0, 1, n_knots), cdf, grid))
    out[0], out[-1] = low, high
    return np.maximum.accumulate(np.clip(out, low, high))


# ---- a tokenizer fitted privately ---------------------------------------------------------
def _public_bounds(spec: Any) -> tuple[float | None, float | None]:
    if spec.inferred:
        return None, None
    lo = None if spec.min is None else float(_number(spec.min, spec))
    hi = None if spec.max is None else float(_number(spec.max, spec))
    return lo, hi


def _number(value: Any, spec: Any) -> float:
    from synthdata.schema import ColumnKind

    if spec.kind == ColumnKind.datetime:
        import pandas as pd

        return float(pd.Timestamp(value).value)
    return float(value)


def queries(schema: Any) -> list[tuple[str, str]]:
    """What a private tokenizer must learn from the data: (column, what) for every column
    whose categories, bounds or bins the schema does not declare."""
    from synthdata.schema import ColumnKind
    from synthdata.synthesizers._tokens import CATEGORY_KINDS, MAX_DISCRETE

    out = []
    for column in schema.modelled_columns:
        spec = schema.columns[column]
        if spec.kind == ColumnKind.id or spec.kind == ColumnKind.boolean:
            continue
        if spec.kind in CATEGORY_KINDS:
            if spec.categories is None or spec.inferred:
                out.append((column, "categories"))
            continue
        lo, hi = _public_bounds(spec)
        if lo is None or hi is None:
            out.append((column, "bounds"))
        if spec.kind == ColumnKind.datetime:
            if spec.datetime_format is None:
                out.append((column, "time of day"))
            continue
        if spec.kind == ColumnKind.integer and lo is not None and hi is not None \
                and hi - lo + 1 <= MAX_DISCRETE:
            continue
        out.append((column, "bins"))
    return out


def private_tokenizer(train: Any, schema: Any, *, epsilon_categories: float,
                      delta_categories: float, rho_numbers: float, bins: int, fine: int,
                      rng: np.random.Generator, ledger: Ledger) -> Any:
    """A :class:`~synthdata.synthesizers._tokens.Tokenizer` whose every data-dependent choice
    is private (:func:`queries`; nothing is spent on what the schema declares): category lists
    share (``epsilon_categories``, ``delta_categories``) evenly, bounds and bins of numbers
    share ``rho_numbers`` evenly (Laplace, epsilon = sqrt(2 rho) each). No value folding by
    count, no atoms, no partners: those read the data without noise."""
    import pandas as pd

    from synthdata.schema import ColumnKind, category_text
    from synthdata.synthesizers._tokens import (
        CATEGORY_KINDS,
        ColumnCode,
        Part,
        Tokenizer,
        _category_part,
        _numbers,
        _sized_bins,
    )

    asked = queries(schema)
    n_category_queries = sum(1 for _, what in asked if what == "categories")
    n_number_queries = len(asked) - n_category_queries
    each_rho = rho_numbers / n_number_queries if n_number_queries else 0.0
    each = math.sqrt(2.0 * each_rho)  # the Laplace epsilon of one number query
    codes = []
    for column in schema.modelled_columns:
        spec = schema.columns[column]
        series = train[column]
        nullable = bool(spec.nullable or spec.inferred)
        if spec.kind == ColumnKind.id:  # fresh keys in a fixed format: no pattern read
            numeric = pd.api.types.is_numeric_dtype(series.dtype) and not \
                pd.api.types.is_bool_dtype(series.dtype)
            codes.append(ColumnCode(column, "key", [], key_prefix="synthetic-", key_width=6,
                                    key_numeric=bool(numeric)))
            continue
        if spec.kind in CATEGORY_KINDS:
            rare: list[Any] = []
            if spec.kind == ColumnKind.boolean:
                values: list[Any] = [False, True]
            elif (column, "categories") in asked:
                eps = epsilon_categories / n_category_queries
                share = delta_categories / n_category_queries
                values = categories([category_text(v) for v in series.dropna()], eps, share,
                                    rng)
                ledger.spend(f"categories of {column}", epsilon=eps, delta=share,
                             mechanism=f"Laplace counts, thresholded: {len(values)} released")
                if not values and not nullable:
                    from synthdata.errors import DataError

                    threshold = 1.0 + (HISTOGRAM_SENSITIVITY / eps) * math.log(1.0 / share)
                    raise DataError([
                        f"column {column!r}: no category is frequent enough to be released "
                        f"under differential privacy (at epsilon {eps:.3g} for its category "
                        f"list a value needs about {threshold:.0f} rows), and the column may "
                        "not be empty (nullable: false). Declare its categories in the schema "
                        "(public, costs no budget) or raise epsilon"])
                if not values:
                    logger.warning(
                        "%s: no category cleared the differential privacy threshold at "
                        "epsilon %.3g; the column will be empty. Declare its categories in "
                        "the schema (public, costs no budget) or raise epsilon", column, eps)
                rare = ["(values not released)"]
            else:
                values = list(spec.categories or [])
            part, rare_code = _category_part(column, values, rare, nullable)
            codes.append(ColumnCode(column, "category", [part], values=values, rare=rare,
                                    rare_code=rare_code))
            continue
        numbers = _numbers(series) if spec.kind != ColumnKind.datetime else \
            pd.to_datetime(series, errors="coerce").to_numpy("datetime64[ns]").astype(
                "int64").astype("float64")
        if spec.kind == ColumnKind.datetime:
            numbers[pd.to_datetime(series, errors="coerce").isna().to_numpy()] = np.nan
        lo, hi = _public_bounds(spec)
        if (column, "bounds") in asked:
            found = bounds(numbers, each, rng)
            ledger.spend(f"bounds of {column}", rho=each_rho, epsilon=each,
                         mechanism="Laplace histogram")
            found = found or (0.0, 1.0)
            lo = found[0] if lo is None else lo
            hi = found[1] if hi is None else hi
        assert lo is not None and hi is not None
        hi = max(hi, lo)
        if spec.kind == ColumnKind.datetime:
            codes.append(_private_datetime(column, numbers, lo, hi, nullable, each, asked, rng,
                                           ledger, spec))
            continue
        integer = spec.kind == ColumnKind.integer
        if integer:
            lo, hi = math.ceil(lo), math.floor(hi) if math.floor(hi) >= math.ceil(lo) \
                else math.ceil(lo)
        if (column, "bins") not in asked:  # a declared small integer range: each value a code
            values = [float(v) for v in range(int(lo), int(hi) + 1)]
            part, rare_code = _category_part(column, values, [], nullable)
            codes.append(ColumnCode(column, "discrete", [part], values=values))
            continue
        n_bins, n_fine = _sized_bins(len(numbers), bins, fine)
        cut = knots(numbers, lo, hi, n_bins * n_fine + 1, each, rng)
        ledger.spend(f"bins of {column}", rho=each_rho, epsilon=each,
                     mechanism="Laplace histogram")
        coarse = Part(f"{column}.bin", n_bins + 1, [nullable] + [True] * n_bins)
        position = Part(f"{column}.pos", n_fine, [True] * n_fine)
        codes.append(ColumnCode(column, "quantile", [coarse, position],
                                knots=[float(v) for v in cut], bins=n_bins, fine=n_fine,
                                step=1.0 if integer else None, low=float(lo), high=float(hi)))
    return Tokenizer(codes, 1)


def _private_datetime(column: str, stamps: np.ndarray, lo: float, hi: float, nullable: bool,
                      each: float, asked: list[tuple[str, str]], rng: np.random.Generator,
                      ledger: Ledger, spec: Any) -> Any:
    """A datetime column's parts: years between the bounds, every month / day (/ time) code
    allowed; whether it has times comes from its format, else from a noisy count."""
    import pandas as pd

    from synthdata.synthesizers._tokens import (
        DATE_PARTS,
        TIME_PARTS,
        ColumnCode,
        Part,
        _category_part,
    )

    if (column, "time of day") in asked:
        present = stamps[~np.isnan(stamps)]
        timed = float(np.sum(np.mod(present, 86_400e9) != 0))
        with_time = bool(laplace(np.array([timed]), each, rng, sensitivity=1.0)[0]
                         > 0.01 * len(stamps))
        ledger.spend(f"time of day of {column}", rho=each * each / 2, epsilon=each,
                     mechanism="Laplace count")
    else:
        fmt = spec.datetime_format or ""
        with_time = any(t in fmt for t in ("%H", "%I", "%M", "%S", "%T", "%X", "%c"))
    first, last = pd.Timestamp(int(lo)).year, pd.Timestamp(int(hi)).year
    years = list(range(first, max(last, first) + 1))
    parts, values = [], []
    part, rare_code = _category_part(f"{column}.year", years, [], nullable)
    parts.append(part)
    values.append(years)
    for name in DATE_PARTS[1:] + (TIME_PARTS if with_time else ()):
        span = {"month": 12, "day": 31, "hour": 24, "minute": 60, "second": 60}[name]
        lowest = 1 if name in ("month", "day") else 0
        parts.append(Part(f"{column}.{name}", span + 1, [nullable] + [True] * span))
        values.append(list(range(lowest, lowest + span)))
    return ColumnCode(column, "datetime", parts, values=values, low=lo, high=hi,
                      with_time=with_time)
