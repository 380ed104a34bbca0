"""An any-order model of our own that generates one column at a time, each conditioned on the
columns generated before it (the default synthesizer).

Every column is turned into a few small categorical sub-columns (``_tokens.py``: categories,
quantile bin + position for numbers, a tie code for a number that often equals an earlier one,
parts for datetimes; rare values folded and extremes clipped by default). Each sub-column has a
head that predicts its code from the sub-columns that come before it in the column order, the
others masked out. The order is random for half of the training rows (any-order training) and
the schema's, the order of unconditional sampling, for the other half (``fixed_order_share``;
on credit_default this half took detection AUC from 0.73 to 0.61), so the one model generates
from *any* subset of fixed columns and is best at the order it samples in: ``sample_where``
fixes the condition columns' codes and generates the rest in one pass, with exact counts and no
reject sampling.

Two ways for a head to read what comes before it (``architecture``):

- ``sum`` (the default): every code of every sub-column has a vector; a head reads the *sum*
  of the vectors of the sub-columns before it, so a row's contexts for all heads are one
  cumulative sum in the row's order (cost linear in the number of sub-columns), followed by
  per-head residual hidden layers and an output layer. Fewer parameters: on magic, online
  shoppers, adult and bank_full its rows are harder to tell from real ones than 'concat's.
- ``concat``: each head has its own first layer over the concatenated embeddings of the
  sub-columns before it; all heads of a batch are one masked matrix product (the mask
  multiplies the first-layer weights, not the inputs).

Training: a validation split carved out of the training rows, AdamW, the learning
rate halved on a plateau, early stopping with the best weights kept, a time budget. Fit and
sample are seeded (torch's global generator is forked for fitting, sampling draws from its
own generators). Model files are arrays (``.npz``) and JSON: nothing is unpickled on load.

**Differential privacy** (``epsilon`` set; needs the ``dp`` extra, Opacus): the tokenizer is
the private one of ``_private.py`` (declared categories and bounds are public; the rest are
thresholded Laplace category lists and Laplace histograms, ``metadata_share`` of epsilon; no
folding by counts), then DP-SGD (``_torch.train_private``: Poisson sampling, per-row
gradients clipped to ``max_grad_norm``, Gaussian noise) for a planned number of epochs whose
noise multiplier is the smallest that fits the budget beside the tokenizer's spends, by
Opacus' RDP accountant. No validation split, early stopping, best-epoch choice or
calibration (they read the data without noise); biases start at zero. Every spend is in one
ledger (``privacy_guarantee()``).
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import Field, model_validator

from synthdata.errors import DataError, ParameterError
from synthdata.synthesizers._tokens import Tokenizer, embedding_width
from synthdata.synthesizers.base import (
    BaseParams,
    Draw,
    Synthesizer,
    load_arrays,
    save_arrays,
)

logger = logging.getLogger(__name__)

WEIGHTS = "weights.npz"
DESCRIPTION = "model.json"
CALIBRATION_ROWS = 20_000  # rows of the calibration pass
CALIBRATION_STEPS = 50
JOINT_CELLS = 256  # DP: most cells of the released joint of sensitive columns and target
GROUP_CALIBRATION_ROWS = 100_000  # DP: rows of the group calibration pass (small groups too)
SAMPLE_CHUNK = 32_768  # rows generated per pass; chunk i draws from seed (seed, i)
STREAM_EPOCH_ROWS = 1_000_000  # a streamed fit's epoch: at most this many rows
STREAM_VALIDATION_ROWS = 50_000  # a streamed fit's validation rows (about)


DP_EPOCHS = 30  # planned epochs of DP-SGD by default


class AutoregressiveParams(BaseParams):
    epochs: int | None = Field(
        None, ge=1, description="Most training epochs; None = 100 (early stopping usually ends "
        "training sooner), or 30 with epsilon (DP-SGD trains all the epochs its noise is "
        "calibrated to).")
    batch_size: int | None = Field(
        None, ge=2, description="Rows per training batch; None scales it to the table "
        "(32 to 512; with epsilon the expected Poisson batch, 64 to 1024).")
    learning_rate: float | None = Field(
        None, gt=0, description="AdamW learning rate; None scales it with the batch size "
        "(3e-3 with epsilon).")
    weight_decay: float = Field(1e-4, ge=0, description="AdamW weight decay.")
    hidden: int | None = Field(
        None, ge=1, description="Hidden width of each sub-column's head; None scales it to the "
        "table ('sum': 64 to 128, 'concat': 64 to 256; 64 with epsilon).")
    dropout: float = Field(0.3, ge=0, lt=1, description="Dropout on the embeddings a head "
                           "reads, in training (none with epsilon).")
    architecture: Literal["sum", "concat"] = Field(
        "sum", description="How a head reads the sub-columns before it: 'sum' adds one "
        "vector per code (a row's contexts are one running sum; fewer parameters, better "
        "rows on most tables); 'concat' gives every head its own first layer over the "
        "concatenated embeddings (the first design).")
    depth: int | None = Field(
        None, ge=1, le=4, description="Hidden layers of each head (the ones after the first "
        "are residual); None = 2 for 'sum', 1 for 'concat'.")
    patience: int = Field(6, ge=1, description="Epochs without a better validation loss "
                          "before training stops (the best weights are kept; not with "
                          "epsilon).")
    validation_share: float = Field(
        0.1, ge=0, lt=1, description="Share of the training rows held out of training to "
        "decide early stopping (never the pipeline's holdout; none with epsilon).")
    max_training_seconds: float | None = Field(
        None, gt=0, description="Time budget of training; None = no limit.")
    fixed_order_share: float = Field(
        0.5, ge=0, le=1, description="Share of training rows in the schema's column order "
        "(the order of unconditional sampling); the rest use a random order, which lets the "
        "model generate from any fixed columns.")
    value_protection: bool = Field(
        True, description="Never generate values seen in fewer than a few (5-9, random) "
        "training rows, and clip numbers to the 5th-9th smallest / largest value: a unique "
        "value is never reproduced (with epsilon the private tokenizer does this: category "
        "lists and bounds released with noise).")
    quantile_bins: int = Field(32, ge=2, le=256, description="Coarse quantile bins of a "
                               "continuous number.")
    bin_positions: int = Field(8, ge=2, le=256, description="Finer positions inside a bin.")
    calibrate: bool = Field(
        True, description="After training, shift each column's logits so that sampled rows "
        "have the training marginals (see Autoregressive._calibrate; not with epsilon).")
    temperature: float = Field(1.0, gt=0, description="Sampling temperature (below 1: more "
                               "typical rows, above 1: more varied).")
    top_p: float = Field(1.0, gt=0, le=1, description="Nucleus sampling: draw only from the "
                         "most likely codes holding this share of probability.")
    epsilon: float | None = Field(
        None, gt=0, description="Differential privacy budget (DP-SGD through Opacus; needs "
        "the 'dp' extra): None = not private. Any one person's row changes the probability of "
        "any output by at most e^epsilon.")
    delta: float | None = Field(
        None, gt=0, lt=1, description="DP delta (RDP conversion, and half of it for category "
        "lists the schema does not declare); None = min(1e-5, 0.1 / rows). Must be below "
        "1 / rows.")
    metadata_share: float = Field(
        0.1, gt=0, lt=1, description="With epsilon: share of the budget for what the schema "
        "does not declare (category lists, bounds, bins); unused when it declares all.")
    max_grad_norm: float = Field(
        1.0, gt=0, description="With epsilon: each row's gradient is clipped to this L2 norm "
        "(DP-SGD's sensitivity).")
    fairness_share: float = Field(
        0.2, ge=0, lt=1, description="With epsilon, a target and sensitive columns before it: "
        "share of the budget (of its zCDP rho) for their joint (one Gaussian histogram); "
        "sampling then gives the "
        "sensitive columns its margins and each group its outcome rates (DP-SGD alone pulls "
        "small groups towards the majority's rates).")

    @model_validator(mode="after")
    def _opacus_installed(self) -> AutoregressiveParams:
        import importlib.util

        from synthdata.synthesizers._private import OPACUS_INSTALL, check_shares

        check_shares(self.metadata_share, self.fairness_share, "trains the model")
        if self.epsilon is not None and importlib.util.find_spec("opacus") is None:

            raise ValueError(
                "epsilon trains this model with DP-SGD, which needs Opacus; it is not "
                f"installed. Install it: {OPACUS_INSTALL}")
        return self


def _net_class() -> Any:
    import torch
    from torch import nn

    def register_masks(net: nn.Module, sizes: list[int], allowed: list[list[bool]]) -> None:
        """Buffers: ``pad`` (codes beyond a sub-column's vocabulary), ``banned`` (codes never
        generated) and ``shift`` (logit shifts set by calibration after training)."""
        n_parts, vocab = len(sizes), max(sizes)
        pad = torch.ones(n_parts, vocab, dtype=torch.bool)
        banned = torch.ones(n_parts, vocab, dtype=torch.bool)
        for j, (size, ok) in enumerate(zip(sizes, allowed, strict=True)):
            pad[j, :size] = False
            banned[j, :size] = ~torch.tensor(ok, dtype=torch.bool)
        net.register_buffer("pad", pad, persistent=False)
        net.register_buffer("banned", banned, persistent=False)
        net.register_buffer("shift", torch.zeros(n_parts, vocab))

    def residual_layers(n_parts: int, hidden: int, depth: int
                        ) -> tuple[nn.ParameterList, nn.ParameterList]:
        """Weights and biases of the ``depth - 1`` residual layers after a head's first."""
        return (nn.ParameterList(nn.Parameter(torch.randn(n_parts, hidden, hidden) * 0.5
                                              / math.sqrt(hidden)) for _ in range(depth - 1)),
                nn.ParameterList(nn.Parameter(torch.zeros(n_parts, 1, hidden))
                                 for _ in range(depth - 1)))

    def residual(h: torch.Tensor, wh: nn.ParameterList, bh: nn.ParameterList,
                 j: int | None = None) -> torch.Tensor:
        """All heads at once (``h``: heads x rows x hidden), or head ``j`` (rows x hidden)."""
        for w, b in zip(wh, bh, strict=True):
            h = h + (torch.relu(torch.baddbmm(b, h, w)) if j is None
                     else torch.addmm(b[j], h, w[j]).relu_())
        return h

    class ConcatNet(nn.Module):
        """Embeddings per sub-column and a masked head per sub-column ('concat').

        A head reads the concatenated embeddings of the sub-columns visible to it (the others
        zeroed) plus a learnt bias per visible column, so that "absent" differs from any
        embedding.
        """

        def __init__(self, sizes: list[int], widths: list[int], allowed: list[list[bool]],
                     part_column: list[int], hidden: int, dropout: float = 0.0,
                     depth: int = 1) -> None:
            super().__init__()
            self.dropout = dropout
            n_parts, dim, vocab = len(sizes), sum(widths), max(sizes)
            n_columns = max(part_column) + 1
            self.embeddings = nn.ModuleList(nn.Embedding(s, w) for s, w in zip(sizes, widths,
                                                                                 strict=True))
            self.w1 = nn.Parameter(torch.randn(n_parts, dim, hidden) / math.sqrt(dim))
            self.b1 = nn.Parameter(torch.zeros(n_parts, hidden))
            self.m1 = nn.Parameter(torch.zeros(n_parts, n_columns, hidden))
            self.w2 = nn.Parameter(torch.randn(n_parts, hidden, vocab) * 0.1 / math.sqrt(hidden))
            self.b2 = nn.Parameter(torch.zeros(n_parts, vocab))
            self.wh, self.bh = residual_layers(n_parts, hidden, depth)
            owner = torch.repeat_interleave(torch.arange(n_parts), torch.tensor(widths))
            self.register_buffer("owner", owner, persistent=False)
            first = [part_column.index(c) for c in range(n_columns)]
            self.register_buffer("first", torch.tensor(first), persistent=False)
            register_masks(self, sizes, allowed)
            starts = [0]
            for w in widths:
                starts.append(starts[-1] + w)
            self.starts = starts

        def embed(self, tokens: torch.Tensor) -> torch.Tensor:
            return torch.cat([e(tokens[:, j]) for j, e in enumerate(self.embeddings)], dim=1)

        def new_context(self, rows: int) -> torch.Tensor:
            return torch.zeros(rows, self.starts[-1], device=self.b1.device)

        def absorb(self, x: torch.Tensor, j: int, values: torch.Tensor) -> None:
            x[:, self.starts[j]:self.starts[j + 1]] = self.embeddings[j](values)

        def loss(self, tokens: torch.Tensor, part_rank: torch.Tensor) -> torch.Tensor:
            """Mean over rows of the summed cross-entropy of every sub-column, each predicted
            from the sub-columns that come before it in its row's order (``part_rank``: rows x
            sub-columns, lower = earlier)."""
            x = torch.nn.functional.dropout(self.embed(tokens), self.dropout, self.training)
            visible = part_rank.unsqueeze(1) < part_rank.unsqueeze(2)  # [row, head, part]
            inputs = (x.unsqueeze(1) * visible[:, :, self.owner]).transpose(0, 1)
            columns = visible[:, :, self.first].to(x.dtype).transpose(0, 1)
            h = torch.relu(torch.bmm(inputs, self.w1) + torch.bmm(columns, self.m1)
                           + self.b1.unsqueeze(1))
            h = residual(h, self.wh, self.bh)
            logits = torch.baddbmm(self.b2.unsqueeze(1), h, self.w2)
            logits = logits.masked_fill(self.pad.unsqueeze(1), -1e9)
            n_parts, rows, vocab = logits.shape
            return torch.nn.functional.cross_entropy(
                logits.reshape(n_parts * rows, vocab), tokens.t().reshape(-1),
                reduction="sum") / rows

        def forward(self, tokens: torch.Tensor, part_rank: torch.Tensor) -> torch.Tensor:
            return self.loss(tokens, part_rank)

        def step_logits(self, x: torch.Tensor, j: int, seen: torch.Tensor,
                        visible: list[int]) -> torch.Tensor:
            """Logits of sub-column ``j`` from the embeddings in ``x`` of the sub-columns
            ``visible`` (generated so far) and ``seen``, the 0/1 vector of their columns.
            Only the visible embedding dimensions are multiplied."""
            bias = seen @ self.m1[j] + self.b1[j]
            if not visible:
                h = torch.relu(bias).expand(len(x), -1)
            elif visible == list(range(len(visible))):  # a prefix: a view, no copy
                end = self.starts[len(visible)]
                h = torch.addmm(bias, x[:, :end], self.w1[j, :end]).relu_()
            else:
                dims = torch.cat([torch.arange(self.starts[i], self.starts[i + 1])
                                  for i in sorted(visible)]).to(x.device)
                h = torch.addmm(bias, x.index_select(1, dims),
                                self.w1[j].index_select(0, dims)).relu_()
            h = residual(h, self.wh, self.bh, j)
            return torch.addmm(self.b2[j] + self.shift[j], h, self.w2[j]).masked_fill_(
                self.banned[j], -math.inf)

    class SumNet(nn.Module):
        """Each code of each sub-column has a vector; a head reads the *sum* of the vectors of
        the sub-columns before it (so a row's contexts are one cumulative sum in its order),
        then residual hidden layers and an output layer of its own."""

        def __init__(self, sizes: list[int], widths: list[int], allowed: list[list[bool]],
                     part_column: list[int], hidden: int, dropout: float = 0.0,
                     depth: int = 2) -> None:
            super().__init__()
            self.dropout = dropout
            n_parts, vocab = len(sizes), max(sizes)
            self.embeddings = nn.ModuleList(nn.Embedding(s, hidden) for s in sizes)
            for e in self.embeddings:
                nn.init.normal_(e.weight, std=1.0 / math.sqrt(n_parts))
            self.b1 = nn.Parameter(torch.zeros(n_parts, 1, hidden))
            self.wh, self.bh = residual_layers(n_parts, hidden, depth)
            self.w2 = nn.Parameter(torch.randn(n_parts, hidden, vocab) * 0.1 / math.sqrt(hidden))
            self.b2 = nn.Parameter(torch.zeros(n_parts, 1, vocab))
            register_masks(self, sizes, allowed)

        def loss(self, tokens: torch.Tensor, part_rank: torch.Tensor) -> torch.Tensor:
            return self._pass(tokens, part_rank)[0].sum() / len(tokens)

        def _pass(self, tokens: torch.Tensor, part_rank: torch.Tensor
                  ) -> tuple[torch.Tensor, list[torch.Tensor]]:
            """Cross-entropies (sub-columns x rows) and the intermediate tensors that
            :meth:`row_grad_norms` reads: the embeddings c, the first pre-activation a, each
            residual layer's input and pre-activation, the last hidden layer and the logits."""
            c = torch.stack([e(tokens[:, j]) for j, e in enumerate(self.embeddings)], dim=1)
            kept = [c]
            c = torch.nn.functional.dropout(c, self.dropout, self.training)
            order = part_rank.argsort(dim=1)
            perm = order.unsqueeze(-1).expand(-1, -1, c.shape[2])
            back = order.argsort(dim=1).unsqueeze(-1).expand(-1, -1, c.shape[2])
            ordered = torch.gather(c, 1, perm)
            ordered = ordered.cumsum(dim=1) - ordered  # what comes strictly before
            a = torch.gather(ordered, 1, back).transpose(0, 1) + self.b1
            h = torch.relu(a)
            kept.append(a)
            for w, b in zip(self.wh, self.bh, strict=True):
                z = torch.baddbmm(b, h, w)
                kept += [h, z]
                h = h + torch.relu(z)
            logits = torch.baddbmm(self.b2, h, self.w2)
            kept += [h, logits]
            logits = logits.masked_fill(self.pad.unsqueeze(1), -1e9)
            n_parts, rows, vocab = logits.shape
            return torch.nn.functional.cross_entropy(
                logits.reshape(n_parts * rows, vocab), tokens.t().reshape(-1),
                reduction="none").reshape(n_parts, rows), kept

        def row_grad_norms(self, tokens: torch.Tensor, part_rank: torch.Tensor
                           ) -> tuple[torch.Tensor, torch.Tensor]:
            """Each row's loss and the L2 norm of its gradient over all weights, without
            forming per-row gradients (DP-SGD's clipping; the "ghost norm" of Goodfellow
            2015 and Li et al. 2022): a row's gradient of a weight matrix is the outer
            product of the layer's input and the gradient at its output, so its squared norm
            is the product of theirs; an embedding table gets one row per row."""
            ce, kept = self._pass(tokens, part_rank)
            losses = ce.sum(0)
            c, a, *layers, h, logits = kept
            outputs = [c, a, *layers[1::2], logits]
            grads = torch.autograd.grad(losses.sum(), outputs, retain_graph=True)
            dc, da, *dz, dlogits = grads
            square = dc.pow(2).sum((1, 2)) + da.pow(2).sum((0, 2))
            for x, g in zip(layers[0::2] + [h], dz + [dlogits], strict=True):
                g2 = g.pow(2).sum(2)
                square = square + (x.pow(2).sum(2) * g2).sum(0) + g2.sum(0)
            return losses, square.sqrt()

        def forward(self, tokens: torch.Tensor, part_rank: torch.Tensor) -> torch.Tensor:
            return self.loss(tokens, part_rank)

        def new_context(self, rows: int) -> torch.Tensor:
            return torch.zeros(rows, self.b1.shape[2], device=self.b1.device)

        def absorb(self, x: torch.Tensor, j: int, values: torch.Tensor) -> None:
            x += self.embeddings[j](values)

        def step_logits(self, x: torch.Tensor, j: int, seen: torch.Tensor,
                        visible: list[int]) -> torch.Tensor:
            h = residual(torch.relu(x + self.b1[j]), self.wh, self.bh, j)
            return torch.addmm(self.b2[j, 0] + self.shift[j], h, self.w2[j]).masked_fill_(
                self.banned[j], -math.inf)

    return ConcatNet, SumNet


class Autoregressive(Synthesizer):
    """Any-order, column-by-column generation over tokenised columns; CUDA when present."""

    Params = AutoregressiveParams
    uses_torch = True
    conditional = True
    differentially_private = True  # with epsilon set
    conditional_method = "fixed condition columns, the rest generated in one pass"
    streams = True  # fit_stream: every row of a big dataset, through a memory-mapped file

    # -- fit --
    def _fit(self, train: pd.DataFrame, params: Any, *, progress: bool) -> None:
        rng = np.random.default_rng(self.seed)
        self.privacy_: dict[str, Any] | None = None
        self.groups_: dict[str, Any] | None = None
        if params.epsilon is not None:
            self._fit_private(train, params, rng, progress=progress)
            return
        self.tokenizer_ = Tokenizer.fit(train, self.schema, protect=params.value_protection,
                                        bins=params.quantile_bins, fine=params.bin_positions,
                                        rng=rng)
        tokens = self.tokenizer_.encode(train, rng)
        n = len(tokens)
        n_val = int(round(params.validation_share * n)) if n >= 20 else 0
        order = rng.permutation(n)
        counts = [np.bincount(tokens[:, j], minlength=part.size)
                  for j, part in enumerate(self.tokenizer_.parts)]
        self._train_net(params, n, tokens[order[n_val:]], tokens[order[:n_val]], counts,
                        progress=progress)

    def _train_net(self, params: Any, n: int, data: np.ndarray | Path, val: np.ndarray,
                   counts: list[np.ndarray], *, progress: bool, rows: int = 0,
                   engine: Any = None) -> None:
        """Build the net for ``n`` rows, train it on ``data`` (an array in memory, or the
        first ``rows`` rows of a ``.npy`` file of codes, read memory-mapped, on ``engine``:
        data-parallel over Ray Train workers with the Ray engine) with ``val`` for early
        stopping, then calibrate to ``counts`` (each sub-column's code counts over all ``n``
        rows)."""
        import torch

        from synthdata.synthesizers import _torch

        n_val = len(val)
        batch_size = params.batch_size or int(min(512, max(32, 2 ** round(math.log2(
            max(n - n_val, 1) / 32)))))
        concat = params.architecture == "concat"
        # the sum heads start slower on small tables: a higher floor of the learning rate
        lr = params.learning_rate or float(min(3e-3, max(1e-3 if concat else 2e-3, 1e-3 * (
            math.sqrt(batch_size / 64)))))
        hidden = params.hidden or (
            int(min(256, max(64, 2 ** round(math.log2(max(n, 1) / 40))))) if concat
            else int(min(128, max(64, 2 ** round(math.log2(max(n, 1) / 100))))))
        depth = params.depth or (1 if concat else 2)
        self.training_: dict[str, Any] = {"batch_size": batch_size, "learning_rate": lr,
                                          "hidden": hidden, "depth": depth,
                                          "architecture": params.architecture,
                                          "validation_rows": n_val}
        parts = self.tokenizer_.parts
        if not parts:  # nothing to learn (only key columns)
            self.net_ = None
            return
        device = self.device_
        if isinstance(data, Path):  # a big table's codes: trained by the engine
            config = {"model": self, "codes": str(data), "rows": rows, "val": val,
                      "device": engine.train_device(device) if engine is not None else device,
                      "progress": progress, "epoch_rows": STREAM_EPOCH_ROWS,
                      "train": {"batch_size": batch_size, "lr": lr, "hidden": hidden,
                                "depth": depth, "dropout": params.dropout,
                                "architecture": params.architecture,
                                "fixed_order_share": params.fixed_order_share,
                                "weight_decay": params.weight_decay,
                                "epochs": params.epochs or 100, "patience": params.patience,
                                "max_seconds": params.max_training_seconds}}
            arrays, history = (engine.train(_train_codes, config) if engine is not None
                               else _train_codes(config, 0, 1))
            with _torch.forked_seed(self.seed, device):
                self.net_ = self._build(hidden, params.dropout, depth,
                                        params.architecture).to(device)
            _torch.load_state(self.net_, arrays, device)
            self.net_.eval()
            self.training_.update(history)
        else:
            with _torch.forked_seed(self.seed, device):
                self.net_ = self._build(hidden, params.dropout, depth,
                                        params.architecture).to(device)
                tensor = torch.as_tensor(data, device=device)
                gen = _torch.generator(self.seed, device)
                history = _torch.train(
                    self.net_, self._loss_fn(params.fixed_order_share), tensor,
                    torch.as_tensor(val, device=device), batch_size=batch_size, lr=lr,
                    weight_decay=params.weight_decay, epochs=params.epochs or 100,
                    patience=params.patience, max_seconds=params.max_training_seconds,
                    gen=gen, progress=progress, name=self.name)
            self.training_.update(history.to_json())
        if params.calibrate:
            with _torch.forked_seed(self.seed, device):
                self.training_["calibration"] = self._calibrate(counts, n, self.seed)

    def _fit_stream(self, dataset: Any, params: Any, *, progress: bool,
                    engine: Any = None) -> int:
        """Train on every training row of a streamed dataset.

        The tokenizer is fitted on the dataset's uniform training sample; then one pass
        encodes every training row into a memory-mapped file of codes (int16 per sub-column
        when they fit; a temporary file, removed after training), keeps a uniform
        validation share (at most :data:`STREAM_VALIDATION_ROWS` rows, chosen by a hash of
        the row number) in memory and counts each sub-column's codes for the calibration.
        Training then draws its shuffled batches from the file: an epoch is at most
        :data:`STREAM_EPOCH_ROWS` rows (a running permutation of all rows), so early
        stopping and the learning-rate plateaus act on big tables as on small ones. With the
        Ray engine, training is data-parallel over its workers (Ray Train; ``_train_codes``):
        each reads its share of every batch from the file, gradients are averaged. The
        encoding pass is one task per dataset unit on ``engine`` (``_encode_unit``); their
        codes come back in row order and are written to the file here. A unit bigger than
        ``UNIT_ROWS`` (one big row group) is encoded here instead, batch by batch, in its turn.
        """
        import contextlib
        import shutil
        import tempfile

        from synthdata.dataset import UNIT_ROWS

        if params.epsilon is not None:
            raise ParameterError(
                "epsilon: DP-SGD on a streamed dataset is not supported yet (its accountant "
                "needs Poisson sampling over rows held in memory); expected a table file: "
                "run on one file, or drop --epsilon", param="epsilon")
        rng = np.random.default_rng(self.seed)
        self.privacy_, self.groups_ = None, None
        self.tokenizer_ = Tokenizer.fit(dataset.train_sample, self.schema,
                                        protect=params.value_protection,
                                        bins=params.quantile_bins, fine=params.bin_positions,
                                        rng=rng)
        parts = self.tokenizer_.parts
        n = dataset.n_train
        if not parts:  # nothing to learn (only key columns)
            empty = np.zeros((0, 0), dtype=np.int64)
            self._train_net(params, n, empty, empty, [], progress=progress)
            return n
        share = min(params.validation_share, STREAM_VALIDATION_ROWS / max(n, 1)) \
            if n >= 20 else 0.0
        dtype = np.int16 if all(p.size < 2**15 for p in parts) else np.int32
        folder = Path(tempfile.mkdtemp(prefix="synthdata-codes-"))
        try:
            codes = np.lib.format.open_memmap(folder / "codes.npy", mode="w+", dtype=dtype,
                                              shape=(max(n, 1), max(len(parts), 1)))
            counts = [np.zeros(p.size, dtype=np.int64) for p in parts]
            val: list[np.ndarray] = []
            written = seen = 0
            # one task per unit of the dataset (on the engine: here, a process pool, Ray);
            # results come back in row order and are written at the next free row
            job = {"reader": dataset.reader(), "tokenizer": self.tokenizer_, "seed": self.seed,
                   "share": share, "dtype": dtype}
            if engine is None:
                from synthdata.execution.local import LocalEngine

                engine = LocalEngine(workers=1)
            dataset.check_unchanged()
            started = time.perf_counter()
            # a unit bigger than UNIT_ROWS is one big row group: its codes would not fit the
            # bound of a task's result, so it is encoded here, batch by batch, in its turn
            alone = {u.index for u in dataset.units if u.rows > UNIT_ROWS}
            if alone:
                logger.warning(
                    "%s: %d row group(s) of the dataset hold more than %d rows; they are "
                    "encoded in this process batch by batch (memory bounded, not in parallel): "
                    "write the files with smaller row groups (e.g. pyarrow's row_group_size=%d) "
                    "for parallel passes", self.name, len(alone), UNIT_ROWS, UNIT_ROWS)
            with contextlib.closing(engine.map(
                    _encode_unit, [u for u in dataset.units if u.index not in alone],
                    shared=job)) as results:
                for unit in dataset.units:
                    for part in _encode_batches(unit, job) if unit.index in alone \
                            else [next(results)]:
                        if part.get("problems"):
                            raise DataError(part["problems"], source=dataset.source)
                        for j, c in enumerate(part["counts"]):
                            counts[j] += c
                        val.append(part["val"])
                        codes[written:written + len(part["train"])] = part["train"]
                        written += len(part["train"])
                        seen += part["rows"]
            codes.flush()
            del codes
            encode_seconds = time.perf_counter() - started
            logger.info("%s: encoded %d streamed rows (%d for validation) into %s", self.name,
                        seen, seen - written, folder)
            self._train_net(params, seen, folder / "codes.npy",
                            np.concatenate(val).astype(np.int64) if val
                            else np.zeros((0, len(parts)), np.int64),
                            counts, progress=progress, rows=written, engine=engine)
            self.training_.update(streamed_rows=seen, encode_seconds=round(encode_seconds, 3),
                                  encode_units=len(dataset.units))
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return seen

    def _fit_private(self, train: pd.DataFrame, params: Any, rng: np.random.Generator, *,
                     progress: bool) -> None:
        """The private tokenizer, then DP-SGD; every spend in one ledger (``privacy_``)."""
        import torch

        from synthdata.synthesizers import _private, _torch

        n = len(train)
        epsilon = float(params.epsilon)
        delta = _private.check_delta(params.delta, n)
        ledger = _private.Ledger(epsilon, delta, neighbours=_private.NEIGHBOURS_ADD_REMOVE)
        asked = _private.queries(self.schema)
        n_categories = sum(1 for _, what in asked if what == "categories")
        eps_metadata = params.metadata_share * epsilon if asked else 0.0
        eps_categories = eps_metadata * n_categories / max(len(asked), 1)
        delta_categories = delta / 2 if n_categories else 0.0
        ledger.delta_conversion = delta - delta_categories
        rho_numbers = _private.rho_for(eps_metadata - eps_categories, ledger.delta_conversion) \
            if len(asked) > n_categories else 0.0
        batch_size = params.batch_size or int(min(1024, max(64, 2 ** round(math.log2(
            max(n, 1) / 32)))))
        sample_rate = min(1.0, batch_size / max(n, 1))
        epochs = params.epochs or DP_EPOCHS
        steps = max(1, math.ceil(epochs / sample_rate))
        modelled, target = self.schema.modelled_columns, self.schema.target
        fair = target in modelled and any(  # from the schema alone: before reading data
            c in modelled and modelled.index(c) < modelled.index(target)
            for c in self.schema.sensitive)
        rho_joint = params.fairness_share * _private.rho_for(
            epsilon - eps_categories, ledger.delta_conversion) if fair else 0.0
        planned = _private.Ledger(epsilon, delta, delta_conversion=ledger.delta_conversion)
        if rho_joint > 0:
            planned.spend("joint", rho=rho_joint, mechanism="planned")
        if eps_categories > 0:
            planned.spend("categories", epsilon=eps_categories, delta=delta_categories,
                          mechanism="planned")
        if rho_numbers > 0:
            planned.spend("numbers", rho=rho_numbers, mechanism="planned")
        if _private.sgd_noise(planned, sample_rate, steps) is None:  # before reading data
            raise ParameterError(
                f"epsilon {epsilon:g} leaves too little budget for {steps} DP-SGD steps "
                f"(sample rate {sample_rate:.3g}) beside the tokenizer's spends; raise epsilon, "
                "lower epochs, or declare categories and bounds in the schema", param="params")
        self.tokenizer_ = _private.private_tokenizer(
            train, self.schema, epsilon_categories=eps_categories,
            delta_categories=delta_categories, rho_numbers=rho_numbers,
            bins=params.quantile_bins, fine=params.bin_positions, rng=rng, ledger=ledger)
        tokens = self.tokenizer_.encode(train, rng)
        groups = self._group_nodes() if rho_joint > 0 else []  # with the parts' sizes
        joint = None
        if groups:
            joint = self._noisy_joint(tokens, groups, rho_joint, rng)
            ledger.spend("sensitive columns and target: " + ", ".join(
                self.tokenizer_.parts[j].name for j in groups), rho=rho_joint,
                mechanism=f"Gaussian histogram of their joint (sigma "
                f"{_private.gaussian_sigma(rho_joint):.3g} rows; schema-impossible cells left "
                "0); sampling matches its margins and group rates")
        hidden = params.hidden or 64
        depth = params.depth or (1 if params.architecture == "concat" else 2)
        lr = params.learning_rate or 3e-3
        self.training_ = {"batch_size": batch_size, "learning_rate": lr, "hidden": hidden,
                          "depth": depth, "architecture": params.architecture,
                          "validation_rows": 0, "epochs": epochs,
                          "calibration": "none (differential privacy)"}
        if not self.tokenizer_.parts:
            self.net_ = None
            self.privacy_ = ledger.to_json("private tokenizer only (nothing to train)")
            return
        sigma = _private.sgd_noise(ledger, sample_rate, steps)  # spent <= planned: fits
        assert sigma is not None
        device = self.device_
        with _torch.forked_seed(self.seed, device):
            self.net_ = self._build(hidden, 0.0, depth, params.architecture).to(device)
            data = torch.as_tensor(tokens, device=device)
            gen = _torch.generator(self.seed, device)
            history = _torch.train_private(
                self.net_, self._ranks(params.fixed_order_share), data,
                sample_rate=sample_rate, steps=steps, noise_multiplier=sigma,
                max_grad_norm=params.max_grad_norm, lr=lr, weight_decay=params.weight_decay,
                max_seconds=params.max_training_seconds, gen=gen, progress=progress,
                name=self.name)
        self.net_.eval()
        self.training_.update(history.to_json())
        ledger.spend("training (DP-SGD)", rdp=_private.sgd_rdp(sample_rate, sigma,
                                                               history.steps),
                     mechanism=f"DP-SGD: {history.steps} steps, Poisson sampling rate "
                     f"{sample_rate:.4g}, per-row gradients clipped to "
                     f"{params.max_grad_norm:g}, Gaussian noise multiplier {sigma:.4g}")
        if joint is not None:
            self.training_["calibration"] = self._calibrate_groups(groups, joint, self.seed)
        self.privacy_ = ledger.to_json("DP-SGD (Opacus' RDP accountant) with a private "
                                       "tokenizer")

    def _group_nodes(self) -> list[int]:
        """The declared sensitive columns that come before the target (one sub-column each,
        their joint with the target within JOINT_CELLS cells), then the target's sub-column;
        [] when there is no such column. Schema facts only."""
        tokenizer, schema = self.tokenizer_, self.schema
        columns, part_column = tokenizer.token_columns, tokenizer.part_column
        if schema.target not in columns:
            return []
        first = {c: part_column.index(i) for i, c in enumerate(columns)}
        single = {c for i, c in enumerate(columns) if part_column.count(i) == 1}
        target = first[schema.target]
        if schema.target not in single:
            return []
        nodes: list[int] = []
        for column in schema.sensitive:
            if column in single and column != schema.target and first[column] < target:
                cells = math.prod(tokenizer.parts[k].size for k in [*nodes, first[column],
                                                                    target])
                if cells <= JOINT_CELLS:
                    nodes.append(first[column])
        return [*sorted(nodes), target] if nodes else []

    def _noisy_joint(self, tokens: np.ndarray, nodes: list[int], rho: float,
                     rng: np.random.Generator) -> np.ndarray:
        """The joint histogram of ``nodes`` plus Gaussian noise (rho-zCDP), negatives and
        codes the schema rules out set to 0."""
        from synthdata.synthesizers import _private

        parts = self.tokenizer_.parts
        sizes = [parts[j].size for j in nodes]
        index = np.ravel_multi_index([tokens[:, j] for j in nodes], sizes)
        counts = np.bincount(index, minlength=math.prod(sizes)).reshape(sizes)
        noisy = np.maximum(_private.gaussian(counts, rho, rng), 0.0)
        for axis, j in enumerate(nodes):
            shape = [1] * len(nodes)
            shape[axis] = sizes[axis]
            noisy = noisy * np.asarray(parts[j].allowed, dtype=bool).reshape(shape)
        return noisy

    def _calibrate_groups(self, nodes: list[int], joint: np.ndarray, seed: int
                          ) -> dict[str, Any]:
        """After DP-SGD: shift the logits of each sensitive column so that rows sampled in the
        schema's order have the released joint's margins (``net.shift``), and the target's
        logits per group of sensitive codes so that each group has the joint's outcome rates
        (``groups_``). Reads only the released joint (post-processing: no budget)."""
        import torch

        from synthdata.synthesizers import _torch

        net, parts = self.net_, self.tokenizer_.parts
        part_column = self.tokenizer_.part_column
        device = self.device_
        n = GROUP_CALIBRATION_ROWS
        gen = _torch.generator(seed, device)
        x = net.new_context(n)
        seen = torch.zeros(len(self.tokenizer_.token_columns), device=device)
        out = torch.zeros(n, len(parts), dtype=torch.long, device=device)
        *groups, target = nodes
        sizes = [parts[j].size for j in nodes]
        total = joint.sum()
        group_shift = np.zeros((math.prod(sizes[:-1]), parts[target].size), dtype="float32")
        with torch.no_grad():
            for j in range(len(parts)):
                logits = net.step_logits(x, j, seen, list(range(j)))[:, :parts[j].size]
                if j in groups and total > 0:
                    axis = nodes.index(j)
                    margin = joint.sum(axis=tuple(a for a in range(len(nodes)) if a != axis))
                    delta = _match(logits, torch.as_tensor(margin / margin.sum(),
                                                           dtype=torch.float32, device=device))
                    net.shift[j, :parts[j].size] = delta
                    logits = logits + delta
                elif j == target:
                    index = torch.as_tensor(np.ravel_multi_index(
                        [out[:, k].cpu().numpy() for k in groups], sizes[:-1]), device=device)
                    rates = joint.reshape(-1, sizes[-1])
                    overall = rates.sum(0)
                    for g in range(len(group_shift)):
                        rows = index == g
                        if not bool(rows.any()) or rates[g].sum() <= 0 or overall.sum() <= 0:
                            continue
                        want = rates[g] + 1e-3 * overall / overall.sum()
                        group_shift[g] = _match(logits[rows], torch.as_tensor(
                            want / want.sum(), dtype=torch.float32, device=device)
                        ).cpu().numpy()
                    logits = logits + torch.as_tensor(group_shift, device=device)[index]
                values = _torch.draw(logits, gen)
                out[:, j] = values
                net.absorb(x, j, values)
                seen[part_column[j]] = 1.0
        self.groups_ = {"parts": list(groups), "target": target,
                        "shift": group_shift.round(6).tolist()}
        return {"rows": n, "from": "released joint of sensitive columns and target",
                "groups": len(group_shift)}

    def _seen_categories(self, train: pd.DataFrame) -> dict[str, list[str]]:
        if self.privacy_ is None:
            return super()._seen_categories(train)
        return self.tokenizer_.released_categories()

    def privacy_guarantee(self) -> dict[str, Any] | None:
        return self.privacy_

    def _calibrate(self, counts: list[np.ndarray], n_rows: int, seed: int) -> dict[str, Any]:
        """Shift each sub-column's logits so that rows sampled in the schema's order have the
        training rows' marginals.

        One sampling pass over ``CALIBRATION_ROWS`` rows: at each sub-column the shift is
        found by fixed-point iteration (the mean predicted distribution over the rows
        generated so far must equal the training marginal, rare codes left out), then the
        sub-column is drawn with it. Training stops early and heads converge at different
        speeds, so a softmax's biases are not at their optimum; this puts them there for the
        order the model samples in. Only the marginals, which the tokens already imply, are
        used. Returns the largest total variation distance per column before and after.
        """
        import torch

        from synthdata.synthesizers import _torch

        net, parts = self.net_, self.tokenizer_.parts
        part_column = self.tokenizer_.part_column
        columns = self.tokenizer_.token_columns
        device = self.device_
        n = min(n_rows, CALIBRATION_ROWS)
        gen = _torch.generator(seed, device)
        x = net.new_context(n)
        seen = torch.zeros(len(columns), device=device)
        before: dict[str, float] = {}
        after: dict[str, float] = {}
        with torch.no_grad():
            for j, part in enumerate(parts):
                size = part.size
                allowed = ~net.banned[j, :size]
                target = torch.as_tensor(counts[j][:size], dtype=torch.float32,
                                         device=device)
                target = target * allowed
                target = target / target.sum().clamp(min=1.0)
                logits = net.step_logits(x, j, seen, list(range(j)))[:, :size]
                tv0 = float(0.5 * (torch.softmax(logits, 1).mean(0) - target).abs().sum())
                delta = _match(logits, target, allowed)
                tv = float(0.5 * (torch.softmax(logits + delta, 1).mean(0) - target).abs().sum())
                net.shift[j, :size] = delta
                values = _torch.draw(logits + delta, gen)
                net.absorb(x, j, values)
                seen[part_column[j]] = 1.0
                name = columns[part_column[j]]
                before[name] = round(max(before.get(name, 0.0), tv0), 4)
                after[name] = round(max(after.get(name, 0.0), tv), 4)
        logger.info("%s calibration: largest marginal error %.4f -> %.4f", self.name,
                    max(before.values(), default=0.0), max(after.values(), default=0.0))
        return {"rows": n, "tv_before": before, "tv_after": after}

    def _build(self, hidden: int, dropout: float = 0.0, depth: int = 1,
               architecture: str = "concat") -> Any:
        parts = self.tokenizer_.parts
        net = _net_class()[architecture == "sum"]
        return net([p.size for p in parts], [embedding_width(p.size) for p in parts],
                   [p.allowed for p in parts], self.tokenizer_.part_column, hidden, dropout,
                   depth)

    def _loss_fn(self, fixed_share: float) -> Any:
        """The training loss: every row in its own random column order (a ``fixed_share`` of
        rows in the schema's order)."""
        ranks = self._ranks(fixed_share)
        net = self.net_

        def loss(batch: Any, gen: Any) -> Any:
            return net.loss(batch, ranks(batch, gen))

        return loss

    def _ranks(self, fixed_share: float) -> Any:
        """Each row's sub-column ranks (lower = earlier): a random column order per row, the
        schema's for a ``fixed_share`` of rows."""
        import torch

        part_column = torch.as_tensor(self.tokenizer_.part_column)
        within = torch.zeros_like(part_column)
        for j in range(1, len(part_column)):
            if part_column[j] == part_column[j - 1]:
                within[j] = within[j - 1] + 1
        n_columns = len(self.tokenizer_.token_columns)
        net = self.net_
        device = next(net.parameters()).device
        part_column, within = part_column.to(device), within.to(device)

        def ranks(batch: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
            rows = len(batch)
            keys = torch.rand(rows, n_columns, generator=gen, device=gen.device).to(device)
            if fixed_share > 0:
                fixed = torch.rand(rows, 1, generator=gen, device=gen.device).to(device) \
                    < fixed_share
                keys = torch.where(fixed, torch.arange(n_columns, device=device).to(
                    keys.dtype).expand(rows, -1), keys)
            column_rank = keys.argsort(dim=1).argsort(dim=1)
            return column_rank[:, part_column] * 64 + within

        return ranks

    # -- sample --
    def _begin_sampling(self) -> None:
        self._keys_drawn = 0

    def _sample(self, n_rows: int, seed: int) -> pd.DataFrame:
        return self._generate(n_rows, {}, seed)

    def _sample_where(self, n_rows: int, conditions: dict[str, Any], seed: int) -> Draw | None:
        fixed: dict[int, list[int]] = {}
        columns = self.tokenizer_.token_columns
        for column, value in conditions.items():
            codes = self.tokenizer_.condition_codes(column, value) \
                if column in columns else None
            if codes is None:
                return None
            fixed[columns.index(column)] = codes
        rows = self._generate(n_rows, fixed, seed)
        for column, value in conditions.items():  # the rare code decodes to no value
            rows[column] = self.tokenizer_.fixed_values(column, value, n_rows)
        return Draw(rows, n_rows)

    def _generate(self, n_rows: int, fixed: dict[int, list[int]], seed: int) -> pd.DataFrame:
        start = getattr(self, "_keys_drawn", 0)
        self._keys_drawn = start + n_rows
        return self.tokenizer_.generate(
            n_rows, seed, SAMPLE_CHUNK, start,
            lambda size, s: (self._tokens(size, fixed, s), np.random.default_rng(s)))

    def _tokens(self, n_rows: int, fixed: dict[int, list[int]], seed: int) -> np.ndarray:
        import torch

        from synthdata.synthesizers import _torch

        parts = self.tokenizer_.parts
        if not parts or self.net_ is None:
            return np.zeros((n_rows, 0), dtype=np.int64)
        net = self.net_
        device = self.device_
        part_column = self.tokenizer_.part_column
        n_columns = len(self.tokenizer_.token_columns)
        column_order = list(fixed) + [c for c in range(n_columns) if c not in fixed]
        gen = _torch.generator(seed, device)
        params = self.params_
        temperature, top_p = float(params["temperature"]), float(params["top_p"])
        out = torch.zeros(n_rows, len(parts), dtype=torch.long, device=device)
        x = net.new_context(n_rows)
        seen = torch.zeros(n_columns, device=device)
        visible: list[int] = []
        groups = getattr(self, "groups_", None)  # DP: the target's shift per group
        group_shift = torch.as_tensor(groups["shift"], dtype=torch.float32, device=device) \
            if groups else None
        group_sizes = [parts[k].size for k in groups["parts"]] if groups else []
        with torch.no_grad():
            for column in column_order:
                for j in [j for j, c in enumerate(part_column) if c == column]:
                    if column in fixed:
                        code = fixed[column][j - part_column.index(column)]
                        values = torch.full((n_rows,), code, dtype=torch.long, device=device)
                    else:
                        logits = net.step_logits(x, j, seen, visible)
                        if group_shift is not None and j == groups["target"] and all(
                                k in visible for k in groups["parts"]):
                            index = torch.as_tensor(np.ravel_multi_index(
                                [out[:, k].cpu().numpy() for k in groups["parts"]],
                                group_sizes), device=device)
                            width = group_shift.shape[1]
                            logits[:, :width] += group_shift[index]
                        values = _torch.draw(logits, gen, temperature, top_p)
                    visible.append(j)
                    out[:, j] = values
                    net.absorb(x, j, values)
                    seen[column] = 1.0  # as in training: a column's later parts see its first
        return out.cpu().numpy()

    # -- model files --
    def _state(self, folder: Path) -> None:
        from synthdata.synthesizers import _torch

        description = {"tokenizer": self.tokenizer_.to_json(), "training": self.training_,
                       "has_net": self.net_ is not None, "privacy": self.privacy_,
                       "groups": getattr(self, "groups_", None)}
        (folder / DESCRIPTION).write_text(json.dumps(description, indent=1), encoding="utf-8")
        save_arrays(folder / WEIGHTS, _torch.state_arrays(self.net_)
                    if self.net_ is not None else {})

    def _from_state(self, folder: Path, device: str) -> None:
        from synthdata.synthesizers import _torch

        description = json.loads((folder / DESCRIPTION).read_text(encoding="utf-8"))
        self.tokenizer_ = Tokenizer.from_json(description["tokenizer"])
        self.training_ = description.get("training", {})
        self.privacy_ = description.get("privacy")
        self.groups_ = description.get("groups")
        self.net_ = None
        if description.get("has_net"):
            self.net_ = self._build(int(self.training_["hidden"]),
                                    depth=int(self.training_.get("depth", 1)),
                                    architecture=self.training_.get("architecture", "concat")
                                    ).to(device)
            _torch.load_state(self.net_, load_arrays(folder / WEIGHTS), device)
            self.net_.eval()


def _encode_unit(unit: Any, job: dict[str, Any]) -> dict[str, Any]:
    """One task of a streamed fit's encoding pass: the codes of one dataset unit's training
    rows (its validation share apart) and each sub-column's code counts (``_encode_batches``
    of the unit, joined). Problems are returned, not raised: they cross processes."""
    parts = job["tokenizer"].parts
    counts = [np.zeros(p.size, dtype=np.int64) for p in parts]
    train: list[np.ndarray] = []
    val: list[np.ndarray] = []
    rows = 0
    try:
        for batch in _encode_batches(unit, job):
            for j, c in enumerate(batch["counts"]):
                counts[j] += c
            train.append(batch["train"])
            val.append(batch["val"])
            rows += batch["rows"]
    except DataError as err:
        return {"problems": err.problems}
    width = len(parts)
    return {"problems": [], "counts": counts, "rows": rows,
            "train": np.concatenate(train) if train else np.zeros((0, width), job["dtype"]),
            "val": np.concatenate(val) if val else np.zeros((0, width), np.int64)}


def _encode_batches(unit: Any, job: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The codes of each batch of one dataset unit's training rows, its validation share
    apart, and each sub-column's code counts. The noise of the encoding is seeded by (seed,
    unit, batch): the same for any engine or worker count.

    Raises:
        DataError: a file changed since the scan, or a value the scan did not see.
    """
    from synthdata.dataset import VALIDATION_STREAM, row_uniforms
    from synthdata.validation import derived_seed

    reader, tokenizer = job["reader"], job["tokenizer"]
    parts = tokenizer.parts
    unit_seed = derived_seed(job["seed"], unit.index)
    for b, (rows, frame) in enumerate(reader.train(unit)):
        tokens = tokenizer.encode(frame, np.random.default_rng(derived_seed(unit_seed, b)))
        held = row_uniforms(job["seed"], VALIDATION_STREAM, rows) < job["share"]
        yield {"rows": len(rows), "val": tokens[held],
               "train": tokens[~held].astype(job["dtype"]),
               "counts": [np.bincount(tokens[:, j], minlength=part.size)
                          for j, part in enumerate(parts)]}


def _train_codes(config: dict[str, Any], rank: int, world: int
                 ) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Train ``config["model"]``'s net on a file of codes, as process ``rank`` of ``world``
    (see ``_torch.train``); returns the best weights and the training history. Every process
    builds the same initial weights (same seed); with ``world`` > 1 they draw the same
    permutations and each its own row orders."""
    import torch

    from synthdata.synthesizers import _torch
    from synthdata.validation import derived_seed

    model, t, device = config["model"], config["train"], config["device"]
    with _torch.forked_seed(model.seed, device):
        model.net_ = model._build(t["hidden"], t["dropout"], t["depth"],
                                  t["architecture"]).to(device)
        data = np.load(config["codes"], mmap_mode="r")[:config["rows"]]
        shared = world > 1
        history = _torch.train(
            model.net_, model._loss_fn(t["fixed_order_share"]), data,
            torch.as_tensor(config["val"], device=device), batch_size=t["batch_size"],
            lr=t["lr"], weight_decay=t["weight_decay"], epochs=t["epochs"],
            patience=t["patience"], max_seconds=t["max_seconds"],
            gen=_torch.generator(derived_seed(model.seed, rank) if shared else model.seed,
                                 device),
            progress=config["progress"] and rank == 0, name=model.name,
            epoch_rows=config["epoch_rows"],
            shard=_torch.GradientSync(rank, world) if shared else None,
            perm_gen=_torch.generator(model.seed, device) if shared else None)
    info = {**history.to_json(), "data_parallel_workers": world}
    if shared:  # the processes must end with the same weights
        info["weight_spread"] = _torch.GradientSync(rank, world).spread(model.net_)
    return _torch.state_arrays(model.net_), info


def _match(logits: Any, target: Any, keep: Any = None) -> Any:
    """The shift of ``logits`` (rows x codes) under which their mean softmax is ``target``
    (fixed-point iteration; only codes in ``keep`` are shifted, by default those with target
    above 0)."""
    import torch

    delta = torch.zeros(logits.shape[1], device=logits.device)
    keep = target > 0 if keep is None else keep
    for _ in range(CALIBRATION_STEPS):
        mean = torch.softmax(logits + delta, 1).mean(0)
        if float(0.5 * (mean - target).abs().sum()) < 1e-4:
            break
        delta = delta + torch.where(keep, torch.log(target + 1e-9) - torch.log(mean + 1e-9),
                                    0.0)
    return delta
