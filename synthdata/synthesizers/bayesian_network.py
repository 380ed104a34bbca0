"""A Bayesian network over tokenised columns: a greedy structure of bounded in-degree,
conditional tables with smoothing, ancestral sampling; numpy only, fast on a CPU.

Columns become small categorical sub-columns exactly as for the any-order model
(``_tokens.py``: categories, quantile bin + position inside it for numbers, parts of dates;
rare values folded and extremes clipped by default), so decoded numbers keep their real
within-bin shape. Every sub-column is a node.

**Structure** (the greedy search of PrivBayes, Zhang et al. 2017, scored without noise): the
first node is the one sharing the most information with the others; then, step by step, the
(node, parent set) pair with the highest score is added, the parent set of at most
``max_parents`` nodes already in the network. The score is the mutual information between a
node and its parents, less a BIC penalty, ``(cells of the parents - 1) * (codes - 1) *
log(n) / (2 n)``, so that a parent set is only as large as the rows can support. Candidate
parents of a node are the ``CANDIDATES`` nodes already in the network that share the most
information with it on their own (pairs first, then sets: the search stays cheap on wide
tables). A number's position inside its bin always has its bin among its parents.

**Conditional tables**: counts of each code per parent configuration, smoothed towards the
node's marginal by ``smoothing`` pseudo-rows: a configuration seen in few rows borrows from the
marginal instead of copying them. Codes the tokenizer never generates (rare values, missing in
a column without missing values) have probability 0 when sampling.

**Conditional sampling, exact**: the condition columns' codes are fixed; the nodes they descend
from (their ancestors) are drawn from their exact posterior given the conditions, enumerated
(at most ``MAX_ENUMERATION`` configurations), then the rest of the network is sampled forward.
When the ancestors are too many to enumerate, ``sample_where`` falls back to reject sampling.

**Differential privacy** (``epsilon`` set; PrivBayes, Zhang et al. 2017, with zCDP accounting):
every data-dependent choice is private and recorded in one ledger (``privacy_guarantee()``,
``_private.Ledger``). The tokenizer takes declared categories and bounds as public and releases
the rest privately (thresholded Laplace counts for category lists, Laplace histograms for
bounds and quantile bins; no folding, atoms or partners). The joint of the target and the
declared sensitive columns is one Laplace histogram (``fairness_share`` of epsilon; cells the
schema rules out stay exactly 0) from which their tables follow; the rest of the network is
chosen by the exponential mechanism on mutual information (the first node at random when
there is no such joint), candidates limited to tables of at most rows / (usefulness * sigma)
cells (public sizes only); conditional tables get Gaussian noise, counts below
``NOISE_FLOOR`` sigmas read as 0 (post-processing). The sensitive columns' parents are the
target and the sensitive columns before them in the non-private network too.

Model files are arrays (``.npz``) and JSON: nothing is unpickled on load.
"""

from __future__ import annotations

import itertools
import json
import logging
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import Field, model_validator

from synthdata.synthesizers._tokens import Tokenizer
from synthdata.synthesizers.base import (
    BaseParams,
    Draw,
    Synthesizer,
    load_arrays,
    save_arrays,
)

logger = logging.getLogger(__name__)

TABLES = "tables.npz"
DESCRIPTION = "model.json"
CANDIDATES = 8  # parents are chosen among this many best single partners of a node
MAX_TABLE_CELLS = 2_000_000  # parent configurations x codes of one conditional table
MAX_ENUMERATION = 1_000_000  # ancestor configurations enumerated for exact conditioning
NOISE_FLOOR = 0.5  # DP: a noisy count below this many sigmas is read as 0
JOINT_CELLS = 256  # DP: most cells of the released joint of target and sensitive columns
SAMPLE_CHUNK = 65_536  # rows generated per pass; chunk i draws from seed (seed, i)


class BayesianNetworkParams(BaseParams):
    max_parents: int = Field(2, ge=0, le=4, description="Most parents of a node (sub-column) "
                             "in the network.")
    smoothing: float = Field(
        1.0, ge=0, description="Pseudo-rows, spread by the node's marginal, added to every "
        "parent configuration of a conditional table (0: raw frequencies).")
    value_protection: bool = Field(
        True, description="Never generate values seen in fewer than a few (5-9, random) "
        "training rows, and clip numbers to the 5th-9th smallest / largest value: a unique "
        "value is never reproduced.")
    penalty: float = Field(
        0.25, ge=0, description="Weight of the BIC penalty on a parent set's size (0: parent "
        "sets as large as max_parents allows, scored by mutual information alone).")
    quantile_bins: int = Field(16, ge=2, le=256, description="Coarse quantile bins of a "
                               "continuous number.")
    bin_positions: int = Field(8, ge=2, le=256, description="Finer positions inside a bin.")
    epsilon: float | None = Field(
        None, gt=0, description="Differential privacy budget (PrivBayes): None = not private. "
        "Any one person's row changes the probability of any output by at most e^epsilon.")
    delta: float | None = Field(
        None, gt=0, lt=1, description="DP delta: the chance the epsilon bound may fail (zCDP "
        "conversion, and half of it for category lists the schema does not declare); None = "
        "min(1e-5, 0.1 / rows). Must be below 1 / rows.")
    metadata_share: float = Field(
        0.1, gt=0, lt=1, description="With epsilon: share of the budget for what the schema "
        "does not declare (category lists, bounds, bins); unused when it declares all.")
    structure_share: float = Field(
        0.3, gt=0, lt=1, description="With epsilon: share of the rest for choosing the network "
        "(the exponential mechanism); the remainder goes to the conditional tables.")
    fairness_share: float = Field(
        0.4, ge=0, lt=1, description="With epsilon, a target and sensitive columns: share of "
        "the budget for their joint (one Laplace histogram), so that outcome rates of small "
        "groups, which the bias checks compare, keep their precision.")
    usefulness: float = Field(
        1.0, gt=0, description="With epsilon: a conditional table may have at most rows / "
        "(usefulness * sigma) cells, sigma the noise of its counts (PrivBayes' theta): its "
        "counts stay well above their noise.")


    @model_validator(mode="after")
    def _budget_left(self) -> BayesianNetworkParams:
        from synthdata.synthesizers._private import check_shares

        check_shares(self.metadata_share, self.fairness_share, "fits the network")
        return self


class BayesianNetwork(Synthesizer):
    """Greedy bounded in-degree network over tokenised columns; numpy only."""

    Params = BayesianNetworkParams
    conditional = True
    differentially_private = True  # with epsilon set
    conditional_method = "condition columns fixed, their ancestors drawn from the exact " \
        "posterior, the rest sampled forward"

    # -- fit --
    def _fit(self, train: pd.DataFrame, params: Any, *, progress: bool) -> None:
        rng = np.random.default_rng(self.seed)
        if params.epsilon is not None:
            self._fit_private(train, params, rng)
            return
        self.tokenizer_ = Tokenizer.fit(train, self.schema, protect=params.value_protection,
                                        bins=params.quantile_bins, fine=params.bin_positions,
                                        rng=rng)
        tokens = self.tokenizer_.encode(train, rng)
        parts = self.tokenizer_.parts
        sizes = [p.size for p in parts]
        forced = _forced_parents(self.tokenizer_, self.schema, MAX_TABLE_CELLS)
        self.order_, self.parents_ = learn_structure(tokens, sizes, params.max_parents,
                                                     forced=forced, penalty=params.penalty)
        self.tables_ = [conditional_table(tokens, j, self.parents_[j], sizes,
                                          params.smoothing) for j in range(len(parts))]
        self.privacy_ = None
        logger.info("network: %s", self._describe())

    def _fit_private(self, train: pd.DataFrame, params: Any, rng: np.random.Generator) -> None:
        """PrivBayes with a released joint of target and sensitive columns: private
        tokenizer, that joint (Laplace), the rest of the structure by the exponential
        mechanism, Gaussian conditional tables; every spend in one ledger (``privacy_``)."""
        from synthdata.synthesizers import _private

        n = len(train)
        epsilon = float(params.epsilon)
        delta = _private.check_delta(params.delta, n)
        ledger = _private.Ledger(epsilon, delta)
        asked = _private.queries(self.schema)
        n_categories = sum(1 for _, what in asked if what == "categories")
        eps_categories = params.metadata_share * epsilon * n_categories / max(len(asked), 1)
        delta_categories = delta / 2 if n_categories else 0.0
        fair = self.schema.target in self.schema.modelled_columns and any(
            c in self.schema.modelled_columns and c != self.schema.target
            for c in self.schema.sensitive)
        eps_joint = params.fairness_share * epsilon if fair else 0.0
        ledger.delta_conversion = delta - delta_categories
        # a hair under the budget, so that rounding never reports an epsilon above it
        rho = _private.rho_for(epsilon - eps_categories - eps_joint,
                               ledger.delta_conversion) * (1 - 1e-9)
        rho_numbers = params.metadata_share * rho if len(asked) > n_categories else 0.0
        self.tokenizer_ = _private.private_tokenizer(
            train, self.schema, epsilon_categories=eps_categories,
            delta_categories=delta_categories, rho_numbers=rho_numbers,
            bins=params.quantile_bins, fine=params.bin_positions, rng=rng, ledger=ledger)
        tokens = self.tokenizer_.encode(train, rng)
        sizes = [p.size for p in self.tokenizer_.parts]
        allowed = self._allowed()
        m = len(sizes)
        joint = _fairness_nodes(self.tokenizer_, self.schema, allowed, JOINT_CELLS) \
            if fair else []
        tables: dict[int, np.ndarray] = {}
        if eps_joint > 0 and joint:
            tables = joint_tables(tokens, joint, sizes, allowed, eps_joint, rng)
            ledger.spend("target and sensitive columns: "
                         + ", ".join(self.tokenizer_.parts[j].name for j in joint),
                         epsilon=eps_joint, mechanism="Laplace histogram of their joint "
                         "(structural zeros of the schema left exact)")
        rest = rho - rho_numbers
        others = m - len(tables)
        choices = others - (0 if tables else 1)  # the first node is drawn without data
        structure = params.structure_share * rest if choices > 0 else 0.0
        rho_tables = rest - structure
        sigma = _private.gaussian_sigma(rho_tables / max(others, 1))
        cap = n / (params.usefulness * sigma)
        step = math.sqrt(8.0 * structure / choices) if choices > 0 else 0.0
        forced = _forced_parents(self.tokenizer_, self.schema if not tables else None, cap)
        self.order_, self.parents_ = private_structure(
            tokens, sizes, params.max_parents, forced=forced, epsilon=step, max_cells=cap,
            rng=rng, placed=[(j, joint[:i]) for i, j in enumerate(joint) if j in tables])
        if structure > 0:
            ledger.spend("network structure", rho=structure, epsilon=step * choices,
                         mechanism=f"exponential mechanism on mutual information: {choices} "
                         f"choices of epsilon {step:.3g} each (rho = epsilon^2 / 8)")
        self.tables_ = [tables[j] if j in tables else conditional_table(
            tokens, j, self.parents_[j], sizes, params.smoothing, rho=rho_tables / others,
            rng=rng, allowed=allowed) for j in range(m)]
        if others:
            ledger.spend("conditional tables", rho=rho_tables, mechanism=(
                f"Gaussian noise (sigma {sigma:.3g} rows) on {others} contingency tables"))
        self.privacy_ = ledger.to_json("PrivBayes (exponential-mechanism structure, Gaussian "
                                       "conditional tables)")

    def _seen_categories(self, train: pd.DataFrame) -> dict[str, list[str]]:
        if self.privacy_ is None:
            return super()._seen_categories(train)
        return self.tokenizer_.released_categories()

    def privacy_guarantee(self) -> dict[str, Any] | None:
        return self.privacy_

    def summary(self) -> dict[str, Any]:
        """The network between columns: each column's parents (other columns), in the order
        the columns are generated."""
        part_column = self.tokenizer_.part_column
        columns = self.tokenizer_.token_columns
        out: dict[str, list[str]] = {}
        for j in self.order_:
            own = columns[part_column[j]]
            parents = out.setdefault(own, [])
            for p in self.parents_[j]:
                other = columns[part_column[p]]
                if other != own and other not in parents:
                    parents.append(other)
        return {"network": [{"column": c, "parents": ps} for c, ps in out.items()]}

    def _describe(self) -> list[dict[str, Any]]:
        names = [p.name for p in self.tokenizer_.parts]
        return [{"node": names[j], "parents": [names[p] for p in self.parents_[j]]}
                for j in self.order_]

    # -- sample --
    def _begin_sampling(self) -> None:
        self._keys_drawn = 0

    def _sample(self, n_rows: int, seed: int) -> pd.DataFrame:
        return self._generate(n_rows, {}, seed)

    def _sample_where(self, n_rows: int, conditions: dict[str, Any], seed: int) -> Draw | None:
        fixed: dict[int, int] = {}
        columns = self.tokenizer_.token_columns
        part_column = self.tokenizer_.part_column
        for column, value in conditions.items():
            codes = self.tokenizer_.condition_codes(column, value) \
                if column in columns else None
            if codes is None:
                return None
            first = part_column.index(columns.index(column))
            fixed.update({first + i: c for i, c in enumerate(codes)})
        if _ancestor_cells(self.parents_, fixed, self.tables_) > MAX_ENUMERATION:
            return None
        rows = self._generate(n_rows, fixed, seed)
        for column, value in conditions.items():  # the rare code decodes to no value
            rows[column] = self.tokenizer_.fixed_values(column, value, n_rows)
        return Draw(rows, n_rows)

    def _generate(self, n_rows: int, fixed: dict[int, int], seed: int) -> pd.DataFrame:
        start = getattr(self, "_keys_drawn", 0)
        self._keys_drawn = start + n_rows

        def draw(size: int, chunk_seed: int) -> tuple[np.ndarray, np.random.Generator]:
            rng = np.random.default_rng(chunk_seed)  # draws the tokens, then decodes them
            return sample_network(self.order_, self.parents_, self.tables_, self._allowed(),
                                  size, fixed, rng), rng

        return self.tokenizer_.generate(n_rows, seed, SAMPLE_CHUNK, start, draw)

    def _allowed(self) -> list[np.ndarray]:
        return [np.asarray(p.allowed, dtype=bool) for p in self.tokenizer_.parts]

    # -- model files --
    def _state(self, folder: Path) -> None:
        description = {"tokenizer": self.tokenizer_.to_json(), "order": self.order_,
                       "parents": self.parents_, "network": self._describe(),
                       "privacy": self.privacy_}
        (folder / DESCRIPTION).write_text(json.dumps(description, indent=1), encoding="utf-8")
        save_arrays(folder / TABLES, {f"table_{j}": t for j, t in enumerate(self.tables_)})

    def _from_state(self, folder: Path, device: str) -> None:
        description = json.loads((folder / DESCRIPTION).read_text(encoding="utf-8"))
        self.tokenizer_ = Tokenizer.from_json(description["tokenizer"])
        self.order_ = [int(j) for j in description["order"]]
        self.parents_ = [[int(p) for p in ps] for ps in description["parents"]]
        self.privacy_ = description.get("privacy")
        arrays = load_arrays(folder / TABLES)
        self.tables_ = [arrays[f"table_{j}"] for j in range(len(self.parents_))]


# ---- structure ----------------------------------------------------------------------------
def _forced_parents(tokenizer: Tokenizer, schema: Any | None, max_cells: float
                    ) -> dict[int, list[int]]:
    """Parents every network has, from public facts only:

    - a sub-column after the first of its column has that first one (a number's position
      inside its bin, a date's month after its year);
    - each declared sensitive column has the target and the sensitive columns before it (as
      many as fit ``max_cells``): the joint law of target and sensitive columns, whose
      outcome rates per group the bias checks compare, is learnt directly, and the target's
      own parents stay free for its best predictors.

    Forced parents do not count against ``max_parents``."""
    part_column = tokenizer.part_column
    columns = tokenizer.token_columns
    forced = {j: [part_column.index(c)] for j, c in enumerate(part_column)
              if part_column.index(c) != j}
    if schema is None or schema.target not in columns:
        return forced
    sizes = [p.size for p in tokenizer.parts]
    first = {c: part_column.index(i) for i, c in enumerate(columns)}
    before = [first[schema.target]]
    for column in schema.sensitive:
        if column not in columns or column == schema.target:
            continue
        child = first[column]
        chosen: list[int] = []
        for j in before:
            if math.prod(sizes[p] for p in [*chosen, j]) * sizes[child] <= max_cells:
                chosen.append(j)
        forced[child] = chosen
        before.append(child)
    return forced


def _fairness_nodes(tokenizer: Tokenizer, schema: Any, allowed: list[np.ndarray],
                    max_cells: int) -> list[int]:
    """The target's node, then the declared sensitive columns' nodes, as many as keep their
    joint within ``max_cells`` cells that can hold rows (public: schema facts only)."""
    part_column = tokenizer.part_column
    columns = tokenizer.token_columns
    if schema.target not in columns:
        return []
    first = {c: part_column.index(i) for i, c in enumerate(columns)}
    if tokenizer.parts[first[schema.target]].size > max_cells:
        return []
    nodes = [first[schema.target]]
    for column in schema.sensitive:
        if column in columns and column != schema.target:
            j = first[column]
            if math.prod(int(allowed[k].sum()) for k in [*nodes, j]) <= max_cells:
                nodes.append(j)
    return nodes


def joint_tables(tokens: np.ndarray, nodes: list[int], sizes: list[int],
                 allowed: list[np.ndarray], epsilon: float, rng: np.random.Generator
                 ) -> dict[int, np.ndarray]:
    """The conditional tables of ``nodes`` (each given the ones before it) from one noisy
    joint histogram (Laplace, epsilon-DP; cells with a code the schema rules out stay 0)."""
    from synthdata.synthesizers import _private

    index, cells = _config(tokens, nodes, sizes)
    counts = np.bincount(index, minlength=cells).astype("float64").reshape(
        [sizes[j] for j in nodes])
    noisy = np.maximum(_private.laplace(counts, epsilon, rng), 0.0)
    for axis, j in enumerate(nodes):
        shape = [1] * len(nodes)
        shape[axis] = sizes[j]
        noisy = noisy * allowed[j].reshape(shape)
    out = {}
    for i, j in enumerate(nodes):
        marginal = noisy.sum(axis=tuple(range(i + 1, len(nodes)))).reshape(-1, sizes[j])
        prior = marginal.sum(axis=0)
        prior = prior / prior.sum() if prior.sum() > 0 else allowed[j] / allowed[j].sum()
        smoothed = marginal + 1e-3 * prior
        out[j] = (smoothed / smoothed.sum(axis=1, keepdims=True)).astype("float32")
    return out


def _config(tokens: np.ndarray, parents: list[int], sizes: list[int]) -> tuple[np.ndarray, int]:
    """Each row's parent configuration as one index (mixed radix), and how many there are."""
    index = np.zeros(len(tokens), dtype=np.int64)
    cells = 1
    for p in parents:
        index = index * sizes[p] + tokens[:, p]
        cells *= sizes[p]
    return index, cells


def _entropy(counts: np.ndarray, n: int) -> float:
    p = counts[counts > 0] / n
    return float(-(p * np.log(p)).sum())


def mutual_information(tokens: np.ndarray, child: int, parents: list[int],
                       sizes: list[int]) -> float:
    """I(child; parents) in nats, from the rows' frequencies."""
    n = len(tokens)
    if not parents or n == 0:
        return 0.0
    index, cells = _config(tokens, parents, sizes)
    joint = np.bincount(index * sizes[child] + tokens[:, child], minlength=cells * sizes[child])
    return (_entropy(np.bincount(index, minlength=cells), n)
            + _entropy(np.bincount(tokens[:, child], minlength=sizes[child]), n)
            - _entropy(joint, n))


def learn_structure(tokens: np.ndarray, sizes: list[int], max_parents: int, *,
                    forced: dict[int, list[int]] | None = None, penalty: float = 1.0
                    ) -> tuple[list[int], list[list[int]]]:
    """The greedy search (see the module docstring): (node order, parents of every node)."""
    n, m = tokens.shape
    forced = forced or {}
    parents: list[list[int]] = [[] for _ in range(m)]
    if m == 0:
        return [], parents
    pair = np.zeros((m, m))
    for a, b in itertools.combinations(range(m), 2):
        pair[a, b] = pair[b, a] = mutual_information(tokens, a, [b], sizes)
    per_cell = penalty * math.log(max(n, 2)) / (2 * max(n, 1))
    free = [j for j in range(m) if j not in forced]
    order = [max(free or range(m), key=lambda j: (pair[j].sum(), -j))]
    if order[0] in forced:  # only when every node is forced (cannot happen: firsts are free)
        order = [forced[order[0]][0]]
    cache: dict[tuple[int, tuple[int, ...]], float] = {}

    def score(child: int, chosen: tuple[int, ...]) -> float:
        key = (child, chosen)
        if key not in cache:
            cells = math.prod(sizes[p] for p in chosen)
            if cells * sizes[child] > MAX_TABLE_CELLS:
                cache[key] = -math.inf
            else:
                cache[key] = (mutual_information(tokens, child, list(chosen), sizes)
                              - (cells - 1) * (sizes[child] - 1) * per_cell)
        return cache[key]

    while len(order) < m:
        best: tuple[float, int, tuple[int, ...]] | None = None
        placed = set(order)
        for child in range(m):
            if child in placed or not set(forced.get(child, [])) <= placed:
                continue
            must = tuple(forced.get(child, []))
            others = sorted((p for p in order if p not in must),
                            key=lambda p: (-pair[child, p], p))[:CANDIDATES]
            room = max_parents
            for size in range(room + 1):
                for extra in itertools.combinations(others, size):
                    chosen = tuple(sorted(must + extra))
                    got = score(child, chosen)
                    if best is None or got > best[0] + 1e-12:
                        best = (got, child, chosen)
        assert best is not None
        _, child, chosen = best
        order.append(child)
        parents[child] = list(chosen)
    return order, parents


def private_structure(tokens: np.ndarray, sizes: list[int], max_parents: int, *,
                      forced: dict[int, list[int]], epsilon: float, max_cells: float,
                      rng: np.random.Generator, placed: list[tuple[int, list[int]]] | None = None
                      ) -> tuple[list[int], list[list[int]]]:
    """PrivBayes' greedy search, private: the first node drawn at random (no data read), then
    each of the other m - 1 (node, parent set) choices by the exponential mechanism on mutual
    information with ``epsilon`` each. Candidates are every parent set of at most
    ``max_parents`` placed nodes whose table has at most ``max_cells`` cells (public sizes
    only)."""
    from synthdata.synthesizers import _private

    n, m = tokens.shape
    parents: list[list[int]] = [[] for _ in range(m)]
    if m == 0:
        return [], parents
    if placed:  # nodes already in the network (with their parents)
        order = [j for j, _ in placed]
        for j, ps in placed:
            parents[j] = list(ps)
    else:
        order = [int(rng.choice([j for j in range(m) if j not in forced]))]
    step = epsilon
    sensitivity = _private.mutual_information_sensitivity(n)
    cache: dict[tuple[int, tuple[int, ...]], float] = {}
    while len(order) < m:
        placed = set(order)
        candidates: list[tuple[int, tuple[int, ...]]] = []
        for child in range(m):
            if child in placed or not set(forced.get(child, [])) <= placed:
                continue
            must = tuple(forced.get(child, []))
            others = [p for p in order if p not in must]
            room = max_parents
            for size in range(room + 1):
                for extra in itertools.combinations(others, size):
                    chosen = tuple(sorted(must + extra))
                    if size and math.prod(sizes[p] for p in chosen) * sizes[child] > min(
                            max_cells, MAX_TABLE_CELLS):
                        continue
                    candidates.append((child, chosen))
        scores = np.array([cache.setdefault(c, mutual_information(tokens, c[0], list(c[1]),
                                                                  sizes))
                           for c in candidates])
        child, chosen = candidates[_private.exponential(scores, step, sensitivity, rng)]
        order.append(child)
        parents[child] = list(chosen)
    return order, parents


# ---- tables and sampling --------------------------------------------------------------------
def conditional_table(tokens: np.ndarray, child: int, parents: list[int], sizes: list[int],
                      smoothing: float, *, rho: float | None = None,
                      rng: np.random.Generator | None = None,
                      allowed: list[np.ndarray] | None = None) -> np.ndarray:
    """P(child | parent configuration): (configurations, codes), rows summing to 1. With
    ``rho``, the counts get Gaussian noise first (rho-zCDP; negatives cut to 0)."""
    index, cells = _config(tokens, parents, sizes)
    size = sizes[child]
    counts = np.bincount(index * size + tokens[:, child], minlength=cells * size).reshape(
        cells, size).astype("float64")
    if rho is not None:
        from synthdata.synthesizers import _private

        assert rng is not None
        noisy = _private.gaussian(counts, rho, rng)
        # post-processing: cells below NOISE_FLOOR sigmas are read as empty (most empty cells
        # of a sparse table would otherwise keep a positive draw of pure noise)
        counts = np.where(noisy < NOISE_FLOOR * _private.gaussian_sigma(rho), 0.0, noisy)
        if allowed is not None:  # codes the schema rules out hold no rows: exactly 0
            counts = counts * allowed[child]
    marginal = counts.sum(axis=0)
    marginal = marginal / marginal.sum() if marginal.sum() > 0 else np.full(size, 1.0 / size)
    smoothed = counts + max(smoothing, 1e-9) * marginal
    return (smoothed / smoothed.sum(axis=1, keepdims=True)).astype("float32")


def _ancestors(parents: list[list[int]], nodes: list[int]) -> set[int]:
    seen: set[int] = set()
    stack = [p for j in nodes for p in parents[j]]
    while stack:
        j = stack.pop()
        if j not in seen:
            seen.add(j)
            stack.extend(parents[j])
    return seen


def _ancestor_cells(parents: list[list[int]], fixed: dict[int, int],
                    tables: list[np.ndarray]) -> int:
    free = _ancestors(parents, list(fixed)) - set(fixed)
    return math.prod(tables[j].shape[1] for j in free)


def _draw(probs: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    cdf = np.cumsum(probs, axis=1)
    u = rng.random((len(probs), 1)) * cdf[:, -1:]
    return np.minimum((cdf <= u).sum(axis=1), probs.shape[1] - 1)


def sample_network(order: list[int], parents: list[list[int]], tables: list[np.ndarray],
                   allowed: list[np.ndarray], n_rows: int, fixed: dict[int, int],
                   rng: np.random.Generator) -> np.ndarray:
    """Codes of ``n_rows`` rows (rows, nodes): ``fixed`` nodes set, their ancestors drawn
    from the exact posterior given them, the other nodes forward in ``order``."""
    sizes = [t.shape[1] for t in tables]
    out = np.zeros((n_rows, len(tables)), dtype=np.int64)
    for j, code in fixed.items():
        out[:, j] = code
    free = sorted(_ancestors(parents, list(fixed)) - set(fixed))
    if free:
        _posterior_draw(out, free, fixed, parents, tables, allowed, rng)
    done = set(fixed) | set(free)
    for j in order:
        if j in done:
            continue
        index, _ = _config(out, parents[j], sizes)
        probs = tables[j][index] * allowed[j]
        dead = probs.sum(axis=1) <= 0  # every allowed code has 0: fall back to allowed ones
        if dead.any():
            probs[dead] = allowed[j]
        out[:, j] = _draw(probs, rng)
    return out


def _posterior_draw(out: np.ndarray, free: list[int], fixed: dict[int, int],
                    parents: list[list[int]], tables: list[np.ndarray],
                    allowed: list[np.ndarray], rng: np.random.Generator) -> None:
    """Draw the ``free`` ancestors of the fixed nodes from P(free | fixed), enumerated."""
    sizes = [t.shape[1] for t in tables]
    grid = np.stack(np.meshgrid(*[np.arange(sizes[j]) for j in free], indexing="ij"),
                    axis=-1).reshape(-1, len(free))
    configs = np.zeros((len(grid), len(tables)), dtype=np.int64)
    configs[:, free] = grid
    for j, code in fixed.items():
        configs[:, j] = code
    log_weight = np.zeros(len(grid))
    for j in free:
        ok = allowed[j][configs[:, j]]
        log_weight[~ok] = -np.inf
    for j in [*free, *fixed]:
        index, _ = _config(configs, parents[j], sizes)
        with np.errstate(divide="ignore"):
            log_weight += np.log(tables[j][index, configs[:, j]].astype("float64"))
    if not np.isfinite(log_weight).any():  # the conditions never meet: ancestors by prior
        log_weight = np.zeros(len(grid))
    weight = np.exp(log_weight - log_weight.max())
    pick = rng.choice(len(grid), size=len(out), p=weight / weight.sum())
    out[:, free] = grid[pick]
