"""Columns <-> small categorical sub-columns ("tokens"), shared by the native models.

Every modelled column becomes zero or more sub-columns of small integer codes:

- categorical, ordinal, boolean: one sub-column, the category (code 0 = missing);
- integer/numerical with few distinct values (at most ``MAX_DISCRETE``, and rare ones holding
  at most ``MAX_RARE_SHARE`` of the rows): one sub-column, the value itself as a category, so
  decoded numbers are exactly values of the column;
- other numbers: two sub-columns, a coarse quantile bin and a finer position inside it (code 0
  of the coarse one = missing). A value's position is its rank in the training values (ties
  spread at random over their share), so the quantile function stored at ``bins * fine``
  knots maps positions back to numbers with the real within-bin shape: point masses stay point
  masses, and decoded numbers are rounded to the step the column uses (whole numbers,
  hundreds, two decimals, ...); a value common inside its cell (a round payment) is drawn as
  itself at its share of the cell. A number that often equals an earlier one gets a third,
  "tie" sub-column (equal / near, by the offset's quantile bin / neither), see
  ``_find_partners``;
- datetimes: parts (year, month, day, and hour/minute/second when the column has times);
- id columns: none (keys are made afresh when sampling, never learnt).

Privacy protection (on by default): a category, discrete value or year seen in fewer than
``k`` training rows (``k`` drawn at random in [``RARE_MIN``, ``RARE_MAX``] from the fit seed,
so an attacker cannot know the cut) is "rare": it is kept as one shared code for training
and never generated (its probability goes to the frequent codes), and numbers are clipped to
the ``k``-th smallest and largest training value. So a value that occurs once in the training
table is never reproduced. Sampling never produces a code the training rows did not have
(e.g. missing in a column without missing values).

The encoder is plain data (JSON + arrays): :meth:`Tokenizer.to_json` / :meth:`from_json`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from synthdata.schema import ColumnKind, Schema, category_text
from synthdata.validation import derived_seed

MAX_DISCRETE = 128  # numbers with at most this many distinct values are categories ...
MAX_RARE_SHARE = 0.01  # ... unless values too rare to generate hold more than this share
RARE_MIN, RARE_MAX = 5, 9
TIE_SHARE = 0.01  # a number gets a tie sub-column when it equals an earlier one this often
NEAR_WIDTH = 0.2  # ... whose codes also say how far off the partner it is when this close:
NEAR_BINS = 16  # |value - partner| <= NEAR_WIDTH * (|partner| + scale), in quantile bins
NEAR_ROWS = 50  # rows per near bin at least
ATOM_SHARE = 0.02  # a value holding this share of a quantile cell's rows is drawn as itself
MISSING = 0  # code 0 of a column's first sub-column: the value is missing
DATE_PARTS = ("year", "month", "day")
TIME_PARTS = ("hour", "minute", "second")
CATEGORY_KINDS = (ColumnKind.categorical, ColumnKind.ordinal, ColumnKind.boolean)


@dataclass
class Part:
    """One sub-column: its vocabulary size and which codes may be generated."""

    name: str
    size: int
    allowed: list[bool]

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "size": self.size, "allowed": self.allowed}


@dataclass
class ColumnCode:
    """How one column is turned into sub-columns and back."""

    column: str
    method: str  # "category" | "discrete" | "quantile" | "datetime" | "key"
    parts: list[Part] = field(default_factory=list)
    values: list[Any] = field(default_factory=list)  # codes 1.. of category/discrete
    rare: list[Any] = field(default_factory=list)  # category texts folded into the rare code
    rare_code: int | None = None
    knots: list[float] = field(default_factory=list)  # quantile: value at position i/(len-1)
    bins: int = 0
    fine: int = 0
    step: float | None = None  # round decoded numbers to multiples of this
    low: float | None = None  # decoded values are clipped to [low, high]
    high: float | None = None
    with_time: bool = False
    key_prefix: str = ""
    key_width: int = 0
    key_numeric: bool = False
    atoms: list[list[float]] = field(default_factory=list)  # quantile: [cell, value, share]
    partner: str | None = None  # quantile: an earlier number column it often equals exactly
    near_knots: list[float] = field(default_factory=list)  # quantile function of the offset
    near_scale: float = 0.0  # offset = (value - partner) / (|partner| + near_scale)

    def to_json(self) -> dict[str, Any]:
        out = {k: v for k, v in self.__dict__.items() if k != "parts"}
        out["parts"] = [p.to_json() for p in self.parts]
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ColumnCode:
        data = dict(data)
        parts = [Part(str(p["name"]), int(p["size"]), [bool(a) for a in p["allowed"]])
                 for p in data.pop("parts")]
        return cls(parts=parts, **data)


def _step(values: np.ndarray, integer: bool) -> float | None:
    """The coarsest power of ten (10**-6 .. 10**6) every value is a multiple of."""
    if not len(values):
        return 1.0 if integer else None
    scale = max(float(np.max(np.abs(values))), 1.0)
    for exponent in range(6, -7, -1):
        step = 10.0 ** exponent
        if integer and step < 1:
            return 1.0
        ratio = values / step
        if np.all(np.abs(ratio - np.round(ratio)) <= 1e-9 * max(scale / step, 1.0)):
            return step
    return 1.0 if integer else None


def _sized_bins(n_values: int, bins: int, fine: int) -> tuple[int, int]:
    """Fewer bins for small tables: about 4 rows per finest cell at least."""
    while bins * fine > max(n_values / 4, 4) and (bins > 4 or fine > 4):
        if fine >= bins:
            fine //= 2
        else:
            bins //= 2
    return max(bins, 2), max(fine, 2)


class Tokenizer:
    """Fits the codes of a table's modelled columns; encodes rows to codes and back."""

    def __init__(self, codes: list[ColumnCode], k: int) -> None:
        self.codes = codes
        self.k = k

    # -- description --
    @property
    def parts(self) -> list[Part]:
        return [p for code in self.codes for p in code.parts]

    @property
    def part_column(self) -> list[int]:
        """For every sub-column, the index of the (token-bearing) column it belongs to."""
        out, i = [], 0
        for code in self.codes:
            if code.parts:
                out.extend([i] * len(code.parts))
                i += 1
        return out

    @property
    def token_columns(self) -> list[str]:
        return [c.column for c in self.codes if c.parts]

    def released_categories(self) -> dict[str, list[str]]:
        """The categories each category column can generate (of a private tokenizer: only
        what it released), as ``sample_where`` accepts them."""
        return {code.column: sorted(category_text(v) for v in code.values)
                for code in self.codes if code.method == "category"}

    def to_json(self) -> dict[str, Any]:
        return {"k": self.k, "codes": [c.to_json() for c in self.codes]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Tokenizer:
        return cls([ColumnCode.from_json(c) for c in data["codes"]], int(data["k"]))

    # -- fit --
    @classmethod
    def fit(cls, train: pd.DataFrame, schema: Schema, *, protect: bool, bins: int,
            fine: int, rng: np.random.Generator) -> Tokenizer:
        k = int(rng.integers(RARE_MIN, RARE_MAX + 1)) if protect else 1
        codes = []
        for column in schema.modelled_columns:
            spec = schema.columns[column]
            series = train[column]
            if spec.kind == ColumnKind.id:
                codes.append(_fit_key(column, series))
            elif spec.kind in CATEGORY_KINDS:
                codes.append(_fit_category(column, series, k))
            elif spec.kind == ColumnKind.datetime:
                codes.append(_fit_datetime(column, series, k))
            else:
                numbers = _numbers(series)
                integer = spec.kind == ColumnKind.integer
                distinct, counts = np.unique(numbers[~np.isnan(numbers)], return_counts=True)
                rare_share = counts[counts < k].sum() / max(counts.sum(), 1)
                if len(distinct) <= MAX_DISCRETE and rare_share <= MAX_RARE_SHARE:
                    codes.append(_fit_discrete(column, numbers, k))
                else:
                    codes.append(_fit_quantile(column, numbers, k, integer, bins, fine))
        _find_partners(codes, train, k)
        return cls(codes, k)

    # -- encode --
    def encode(self, frame: pd.DataFrame, rng: np.random.Generator) -> np.ndarray:
        """Codes of ``frame``'s rows: an int64 array (rows, sub-columns)."""
        out = []
        for code in self.codes:
            if code.parts:
                out.append(_encode(code, frame[code.column], rng))
            if code.partner is not None:
                out[-1] = np.concatenate([out[-1], _relation(code, frame[code.column],
                                                             frame[code.partner])], axis=1)
        if not out:
            return np.zeros((len(frame), 0), dtype=np.int64)
        return np.concatenate(out, axis=1)

    def condition_codes(self, column: str, value: Any) -> list[int] | None:
        """The sub-column codes that stand for ``value`` of a category-like column, or None."""
        code = next(c for c in self.codes if c.column == column)
        if code.method not in ("category", "discrete"):
            return None
        text = category_text(value)
        texts = [category_text(v) for v in code.values]
        if text in texts:
            return [texts.index(text) + 1]
        if text in code.rare and code.rare_code is not None:
            return [code.rare_code]
        return None

    def fixed_values(self, column: str, value: Any, n_rows: int) -> pd.Series:
        """``n_rows`` copies of a condition value as the column holds it (a category's own
        value; a rare one, whose code decodes to no value, as given)."""
        code = next(c for c in self.codes if c.column == column)
        texts = [category_text(v) for v in code.values]
        text = category_text(value)
        return pd.Series([code.values[texts.index(text)] if text in texts else value] * n_rows,
                         dtype=object)

    # -- decode --
    def generate(self, n_rows: int, seed: int, chunk: int, key_start: int,
                 draw: Callable[[int, int], tuple[np.ndarray, np.random.Generator]]
                 ) -> pd.DataFrame:
        """``n_rows`` decoded rows made ``chunk`` rows at a time: chunk i's tokens and the
        generator that decodes them come from ``draw(size, seed_i)``, seed_i derived from
        (``seed``, i), so a chunk's rows do not depend on the chunks before it; generated keys
        are numbered from ``key_start``."""
        frames = []
        for i, begin in enumerate(range(0, max(n_rows, 1), chunk)):
            size = min(chunk, n_rows - begin)
            tokens, rng = draw(size, derived_seed(seed, i))
            frames.append(self.decode(tokens, rng, n_rows=size, key_start=key_start + begin))
        return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]

    def decode(self, tokens: np.ndarray, rng: np.random.Generator, *, n_rows: int,
               key_start: int = 0) -> pd.DataFrame:
        out: dict[str, Any] = {}
        j = 0
        for code in self.codes:
            width = len(code.parts)
            out[code.column] = _decode(code, tokens[:, j:j + width], rng, n_rows, key_start)
            if code.partner is not None:  # tied or near rows follow the partner (decoded before)
                out[code.column] = _follow(code, out[code.column], out[code.partner],
                                           tokens[:, j:j + width], rng)
            j += width
        return pd.DataFrame(out)


def _numbers(series: pd.Series) -> np.ndarray:
    return pd.to_numeric(series, errors="coerce").to_numpy("float64", na_value=np.nan)


def _offsets(code: ColumnCode, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """A value's offset from its partner's, relative to the partner's size."""
    return (a - b) / (np.abs(b) + code.near_scale)


def _relation(code: ColumnCode, series: pd.Series, partner: pd.Series) -> np.ndarray:
    """The tie sub-column (a rows x 1 array): 1 where a row's value equals its partner's
    exactly, 2.. where it is near it (the offset's quantile bin), else 0."""
    a, b = _numbers(series), _numbers(partner)
    out = ((a == b) & ~np.isnan(a)).astype("int64")
    if code.near_knots:
        knots = np.asarray(code.near_knots)
        n_bins = len(code.parts[-1].allowed) - 2
        with np.errstate(invalid="ignore", divide="ignore"):
            u = _offsets(code, a, b)
        near = (out == 0) & (np.abs(u) <= NEAR_WIDTH) & ~np.isnan(u)
        pos = np.interp(np.where(near, u, 0.0), knots, np.linspace(0, 1, len(knots)))
        out = np.where(near, 2 + np.clip(np.floor(pos * n_bins), 0, n_bins - 1), out)
    return out.astype("int64").reshape(-1, 1)


def _follow(code: ColumnCode, own: np.ndarray, partner: Any, tokens: np.ndarray,
            rng: np.random.Generator) -> np.ndarray:
    """Decoded values of a column with a partner: tied rows copy the partner's value (clipped
    to the column's own range, rounded to its step); near rows add to it an offset drawn in
    their offset bin and inside the row's own coarse bin (if the two do not meet, the value
    drawn from the bin and position stays, so the column keeps about the distribution its
    bins give); a missing value stays missing."""
    partner = np.asarray(partner, dtype="float64")
    relation = tokens[:, -1]
    follow = (relation >= 1) & ~np.isnan(partner) & (tokens[:, 0] != MISSING)
    target = partner.copy()
    if code.near_knots:  # the offset is drawn inside its bin *and* the row's own coarse bin
        knots = np.asarray(code.near_knots)
        grid = np.linspace(0, 1, len(knots))
        n_bins = len(code.parts[-1].allowed) - 2
        near = relation >= 2
        scale = np.abs(np.nan_to_num(partner)) + code.near_scale
        edges = np.asarray(code.knots)[::code.fine]  # the coarse bins' edges
        coarse = np.maximum(tokens[:, 0], 1) - 1
        slack = (code.step or 0.0) / 2
        lo = np.interp((edges[coarse] - slack - np.nan_to_num(partner)) / scale, knots, grid)
        hi = np.interp((edges[coarse + 1] + slack - np.nan_to_num(partner)) / scale, knots,
                       grid)
        start = np.maximum(np.maximum(relation - 2, 0) / n_bins, lo)
        stop = np.minimum((np.maximum(relation - 2, 0) + 1) / n_bins, hi)
        u = np.interp(start + rng.random(len(relation)) * np.maximum(stop - start, 0), grid,
                      knots)
        target = np.where(near, partner + u * scale, partner)
        follow &= ~near | (stop > start)
    moved = np.clip(target, code.low, code.high)
    if code.step is not None:
        moved = np.round(moved / code.step) * code.step
    target = np.where(moved == target, target, moved)  # a tie stays equal to the last bit
    return np.where(follow, target, own)


def _fit_near(code: ColumnCode, a: np.ndarray, b: np.ndarray, k: int) -> int:
    """Fit the near codes of a column tied to a partner; returns how many (0: none)."""
    present = np.abs(a[~np.isnan(a)])
    code.near_scale = max(0.01 * float(np.median(present)) if len(present) else 0.0,
                          code.step or 0.0, 1e-9)
    with np.errstate(invalid="ignore", divide="ignore"):
        u = _offsets(code, a, b)
    u = np.sort(u[(a != b) & (np.abs(u) <= NEAR_WIDTH) & ~np.isnan(u)])
    n_bins = min(NEAR_BINS, len(u) // NEAR_ROWS)
    if n_bins < 2 or len(u) < 2 * k:
        return 0
    knots = np.quantile(u, np.linspace(0, 1, 4 * n_bins + 1), method="inverted_cdf")
    knots[0], knots[-1] = u[k - 1], u[len(u) - k]  # the k-th most extreme, as for values
    code.near_knots = [float(v) for v in np.maximum.accumulate(knots)]
    return n_bins


def _find_partners(codes: list[ColumnCode], train: pd.DataFrame, k: int) -> None:
    """Give a quantile-coded number a "tie" sub-column when it often equals an earlier number
    column exactly (a bill paid in full, a balance unchanged from last month): at least
    ``TIE_SHARE`` of the rows and ``k`` rows tie on values other than the column's most
    common one. Bins and positions cannot make two columns exactly equal; the tie code does,
    and decoding copies the partner's value. The earlier column tied most often is chosen.
    The same sub-column codes a value near its partner's (a balance that moved by a few
    percent) by the offset's quantile bin, which positions inside a value's own bin cannot
    keep: decoding adds the offset to the partner's value."""
    numeric: dict[str, np.ndarray] = {}  # earlier number columns, by name
    for code in codes:
        if code.method not in ("quantile", "discrete"):
            continue
        a = _numbers(train[code.column])
        if code.method == "quantile":
            present = a[~np.isnan(a)]
            if len(present):
                values, counts = np.unique(present, return_counts=True)
                common = values[np.argmax(counts)]
                best, best_count = None, max(TIE_SHARE * len(a), k) - 1
                for other, b in numeric.items():
                    count = int(np.sum((a == b) & (a != common)))
                    if count > best_count:
                        best, best_count = other, count
                if best is not None:
                    code.partner = best
                    size = 2 + _fit_near(code, a, numeric[best], k)
                    code.parts.append(Part(f"{code.column}.tie", size, [True] * size))
        numeric[code.column] = a


# ---- per method ------------------------------------------------------------------------
def _fold(counts: pd.Series, k: int) -> tuple[list[Any], list[Any]]:
    """(frequent values by count then text, rare values) for a value -> count series."""
    frequent = counts[counts >= k]
    rare = counts[counts < k]
    order = sorted(frequent.index, key=lambda v: (-int(frequent[v]), category_text(v)))
    return order, sorted(rare.index, key=category_text)


def _category_part(name: str, values: list[Any], rare: list[Any], has_missing: bool
                   ) -> tuple[Part, int | None]:
    size = 1 + len(values) + (1 if rare else 0)
    allowed = [has_missing] + [True] * len(values) + ([False] if rare else [])
    if not any(allowed):  # every value rare: the least-bad choice is the rare code itself
        allowed[-1] = True
    return Part(name, size, allowed), (size - 1 if rare else None)


def _fit_category(column: str, series: pd.Series, k: int) -> ColumnCode:
    present = series.dropna()
    if pd.api.types.is_bool_dtype(present.dtype) or all(
            isinstance(v, bool | np.bool_) for v in present.head(100)):
        present = present.astype(bool)
        counts = present.value_counts()
        values, rare = _fold(counts, k)
        values = [bool(v) for v in values]
        rare = [category_text(bool(v)) for v in rare]
    else:
        counts = present.map(category_text).value_counts()
        values, rare = _fold(counts, k)
    part, rare_code = _category_part(column, values, rare, bool(series.isna().any()))
    return ColumnCode(column, "category", [part], values=list(values), rare=list(rare),
                      rare_code=rare_code)


def _fit_discrete(column: str, numbers: np.ndarray, k: int) -> ColumnCode:
    present = numbers[~np.isnan(numbers)]
    values, counts = np.unique(present, return_counts=True)
    keep = counts >= k
    rare = [category_text(float(v)) for v in values[~keep]]
    frequent = [float(v) for v in values[keep]]
    part, rare_code = _category_part(column, frequent, rare, bool(np.isnan(numbers).any()))
    return ColumnCode(column, "discrete", [part], values=frequent, rare=rare,
                      rare_code=rare_code)


def _fit_quantile(column: str, numbers: np.ndarray, k: int, integer: bool, bins: int,
                  fine: int) -> ColumnCode:
    present = np.sort(numbers[~np.isnan(numbers)])
    low, high = float(present[min(k - 1, len(present) - 1)]), float(
        present[max(len(present) - k, 0)])
    clipped = np.clip(present, low, high)
    bins, fine = _sized_bins(len(present), bins, fine)
    grid = np.linspace(0.0, 1.0, bins * fine + 1)
    knots = np.quantile(clipped, grid, method="inverted_cdf")
    knots[0], knots[-1] = low, high
    coarse = Part(f"{column}.bin", bins + 1, [bool(np.isnan(numbers).any())] + [True] * bins)
    position = Part(f"{column}.pos", fine, [True] * fine)
    code = ColumnCode(column, "quantile", [coarse, position], knots=[float(v) for v in knots],
                      bins=bins, fine=fine, step=_step(present, integer), low=low, high=high)
    code.atoms = _fit_atoms(code, clipped, present, k)
    return code


def _fit_atoms(code: ColumnCode, present: np.ndarray, raw: np.ndarray, k: int
               ) -> list[list[float]]:
    """Values that hold a share of their quantile cell (round payments: 1,000, 1,500, ...):
    at least ``ATOM_SHARE`` of the cell's rows, of a value seen in at least ``k`` rows (2
    without protection) before clipping to the protected range. Drawing a cell's numbers
    evenly between its knots would turn them into 1,003s and 1,497s."""
    tokens = _encode(code, pd.Series(present), np.random.default_rng(0))
    cell = (tokens[:, 0] - 1) * code.fine + tokens[:, 1]
    pairs, counts = np.unique(np.stack([cell, present], axis=1), axis=0, return_counts=True)
    per_cell = np.bincount(cell, minlength=len(code.knots) - 1)
    share = counts / per_cell[pairs[:, 0].astype("int64")]
    values, seen = np.unique(raw, return_counts=True)
    unclipped = seen[np.searchsorted(values, pairs[:, 1])]  # clipped values are in ``raw``
    keep = (unclipped >= max(k, 2)) & (share >= ATOM_SHARE) & (share < 1)
    return [[int(c), float(v), float(f)] for (c, v), f in zip(pairs[keep], share[keep],
                                                              strict=True)]


def _fit_datetime(column: str, series: pd.Series, k: int) -> ColumnCode:
    stamps = pd.to_datetime(series, errors="coerce")
    present = stamps.dropna().sort_values()
    has_missing = bool(stamps.isna().any())
    with_time = bool(len(present)) and bool(
        (present - present.dt.normalize()).dt.total_seconds().abs().gt(0).any())
    parts, values = [], []
    names = DATE_PARTS + (TIME_PARTS if with_time else ())
    rare: list[Any] = []
    rare_code = None
    for part in names:
        got = getattr(present.dt, part).to_numpy() if len(present) else np.array([], int)
        if part == "year":  # rare years folded, as categories are
            uniq, counts = np.unique(got, return_counts=True)
            kept = [int(v) for v in uniq[counts >= k]]
            rare = [str(int(v)) for v in uniq[counts < k]]
            p, rare_code = _category_part(f"{column}.year", kept, rare, has_missing)
            parts.append(p)
            values.append(kept)
            continue
        span = {"month": 12, "day": 31, "hour": 24, "minute": 60, "second": 60}[part]
        seen = {int(v) for v in got}
        lowest = 1 if part in ("month", "day") else 0
        allowed = [has_missing] + [v in seen for v in range(lowest, lowest + span)]
        parts.append(Part(f"{column}.{part}", span + 1, allowed))
        values.append(list(range(lowest, lowest + span)))
    low = high = None
    if len(present):
        low = float(present.iloc[min(k - 1, len(present) - 1)].value)
        high = float(present.iloc[max(len(present) - k, 0)].value)
    return ColumnCode(column, "datetime", parts, values=values, rare=rare, rare_code=rare_code,
                      low=low, high=high, with_time=with_time)


def _fit_key(column: str, series: pd.Series) -> ColumnCode:
    present = series.dropna()
    numeric = pd.api.types.is_numeric_dtype(present.dtype) and not pd.api.types.is_bool_dtype(
        present.dtype)
    prefix, width = "synthetic-", 6
    if not numeric and len(present):
        found = present.astype(str).str.extract(r"^([A-Za-z_\-]*)(\d+)$")
        if found[0].notna().all() and found[0].nunique() == 1 and found[1].str.len().nunique() \
                == 1:
            prefix, width = str(found[0].iloc[0]), int(found[1].str.len().iloc[0])
    return ColumnCode(column, "key", [], key_prefix=prefix, key_width=width,
                      key_numeric=bool(numeric))


# ---- encode / decode -------------------------------------------------------------------
def _encode(code: ColumnCode, series: pd.Series, rng: np.random.Generator) -> np.ndarray:
    n = len(series)
    if code.method == "category":
        index = {category_text(v): i + 1 for i, v in enumerate(code.values)}
        texts = series.map(lambda v: None if pd.isna(v) else category_text(
            bool(v) if isinstance(v, np.bool_) else v))
        codes = texts.map(lambda t: MISSING if t is None else index.get(
            t, code.rare_code if code.rare_code is not None else MISSING))
        return codes.to_numpy("int64").reshape(n, 1)
    numbers = _numbers(series) if code.method in ("discrete", "quantile") else None
    if code.method == "discrete":
        assert numbers is not None
        values = np.asarray(code.values, dtype="float64")
        pos = np.searchsorted(values, numbers)
        hit = (pos < len(values)) & (values[np.minimum(pos, max(len(values) - 1, 0))]
                                     == numbers) if len(values) else np.zeros(n, bool)
        out = np.where(hit, pos + 1, code.rare_code if code.rare_code is not None else MISSING)
        out = np.where(np.isnan(numbers), MISSING, out)
        return out.astype("int64").reshape(n, 1)
    if code.method == "quantile":
        assert numbers is not None
        missing = np.isnan(numbers)
        knots = np.asarray(code.knots)
        x = np.clip(np.where(missing, knots[0], numbers), code.low, code.high)
        # position in [0, 1]: a value's share of the quantile function, ties spread at random
        left = np.searchsorted(knots, x, side="left")
        right = np.searchsorted(knots, x, side="right")
        cells = len(knots) - 1
        # within a strictly rising knot interval, interpolate; on a flat run, spread over it
        inner = np.clip(left, 1, cells)
        lo_k, hi_k = knots[inner - 1], knots[inner]
        frac = np.where(hi_k > lo_k, (x - lo_k) / np.where(hi_k > lo_k, hi_k - lo_k, 1), 0.5)
        pos = (inner - 1 + np.clip(frac, 0, 1)) / cells
        flat = right - left > 0
        lo_f = np.maximum(left - 1, 0) / cells
        hi_f = np.minimum(right, cells) / cells
        pos = np.where(flat, lo_f + rng.random(n) * (hi_f - lo_f), pos)
        pos = np.clip(pos, 0, 1 - 1e-12)
        cell = np.floor(pos * cells).astype("int64")
        coarse = cell // code.fine + 1
        finer = cell % code.fine
        coarse = np.where(missing, MISSING, coarse)
        finer = np.where(missing, 0, finer)
        return np.stack([coarse, finer], axis=1).astype("int64")
    if code.method == "datetime":
        stamps = pd.to_datetime(series, errors="coerce")
        missing = stamps.isna().to_numpy()
        cols = []
        for i, part in enumerate(code.parts):
            name = part.name.rsplit(".", 1)[1]
            got = getattr(stamps.dt, name).to_numpy("float64", na_value=np.nan)
            if name == "year":
                years = np.asarray(code.values[0], dtype="float64")
                pos = np.searchsorted(years, got)
                hit = (pos < len(years)) & (years[np.minimum(pos, max(len(years) - 1, 0))]
                                            == got) if len(years) else np.zeros(n, bool)
                col = np.where(hit, pos + 1,
                               code.rare_code if code.rare_code is not None else MISSING)
            else:
                lowest = code.values[i][0]
                col = np.nan_to_num(got, nan=lowest) - lowest + 1
            cols.append(np.where(missing, MISSING, col).astype("int64"))
        return np.stack(cols, axis=1)
    raise ValueError(code.method)


def _decode(code: ColumnCode, tokens: np.ndarray, rng: np.random.Generator, n: int,
            key_start: int) -> Any:
    if code.method == "key":
        numbers = np.arange(key_start + 1, key_start + n + 1)
        if code.key_numeric:
            return pd.array(numbers, dtype="Int64")
        width = max(code.key_width, len(str(key_start + n)))
        return pd.Series([f"{code.key_prefix}{i:0{width}d}" for i in numbers], dtype=object)
    t = tokens[:, 0]
    if code.method == "category":
        lookup = np.empty(code.parts[0].size, dtype=object)
        lookup[:] = None
        lookup[1:1 + len(code.values)] = code.values
        return pd.Series(lookup[t], dtype=object)
    if code.method == "discrete":
        lookup = np.full(code.parts[0].size, np.nan)
        lookup[1:1 + len(code.values)] = code.values
        return lookup[t]
    if code.method == "quantile":
        knots = np.asarray(code.knots)
        cells = len(knots) - 1
        cell = (np.maximum(t, 1) - 1) * code.fine + tokens[:, 1]
        pos = (cell + rng.random(n)) / cells
        values = np.interp(pos, np.linspace(0, 1, cells + 1), knots)
        if code.step is not None:
            values = np.round(values / code.step) * code.step
        values = np.clip(values, code.low, code.high)
        if code.atoms:  # a cell's common values, at their share of it
            atoms = np.asarray(code.atoms)
            atoms = atoms[np.argsort(atoms[:, 0], kind="stable")]
            first = np.flatnonzero(np.r_[True, atoms[1:, 0] != atoms[:-1, 0]])
            running = np.cumsum(atoms[:, 2])
            group = np.cumsum(np.r_[True, atoms[1:, 0] != atoms[:-1, 0]]) - 1
            running -= np.r_[0.0, running][first][group]  # share up to this atom, per cell
            keys = atoms[:, 0] + running  # increasing: cell + running share (<= 1)
            found = np.searchsorted(keys, cell + rng.random(n), side="right")
            hit = found < len(keys)
            hit[hit] = atoms[found[hit], 0] == cell[hit]
            values = np.where(hit, atoms[np.minimum(found, len(keys) - 1), 1], values)
        return np.where(t == MISSING, np.nan, values)
    if code.method == "datetime":
        years = np.asarray(code.values[0], dtype="int64")
        year = np.where(t > 0, years[np.clip(t - 1, 0, max(len(years) - 1, 0))]
                        if len(years) else 2000, 2000)
        parts = {"year": year}
        for i, part in enumerate(code.parts[1:], start=1):
            name = part.name.rsplit(".", 1)[1]
            parts[name] = np.maximum(tokens[:, i], 1) - 1 + code.values[i][0]
        month = np.clip(parts["month"], 1, 12)
        first = pd.to_datetime(pd.DataFrame({"year": year, "month": month, "day": 1}))
        length = first.dt.days_in_month.to_numpy()
        day = np.clip(parts["day"], 1, length)
        stamps = first + pd.to_timedelta(day - 1, unit="D")
        if code.with_time:
            stamps = stamps + pd.to_timedelta(parts["hour"], unit="h") + pd.to_timedelta(
                parts["minute"], unit="m") + pd.to_timedelta(parts["second"], unit="s")
        values = stamps.to_numpy("datetime64[ns]").astype("int64").astype("float64")
        if code.low is not None and code.high is not None:
            values = np.clip(values, code.low, code.high)
        out = pd.Series(pd.to_datetime(values.astype("int64")))
        return out.where(t != MISSING, pd.NaT)
    raise ValueError(code.method)


def embedding_width(size: int) -> int:
    """Embedding width of a sub-column with ``size`` codes (a few dims for small vocabularies)."""
    return int(min(32, max(4, round(3 * math.sqrt(size)))))
