"""A denoising model of our own in the style of TabDDPM (Gaussian noise for numbers, masking
for categories, as TabDiff does).

Columns are first turned into the sub-columns of ``_tokens.py`` (the tokenizer of the
column-by-column model, with its value protection: rare values folded and never generated, extremes
clipped), then split by kind:

- **continuous numbers** (a quantile-coded column: more than a hundred or so distinct values)
  become one number each, *quantile-normalised*: a value's position p in [0, 1] of the
  column's quantile function (ties spread over their share) as ``Phi^-1(p)``, a standard
  normal. They are noised with Gaussian noise (a variance-preserving cosine schedule) and
  decoded through the same quantile function, so point masses (the zeros of a capital gain),
  the column's step (whole numbers, hundreds) and its range come back exactly. A column with
  missing values gets a categorical presence sub-column beside its number;
- **everything else** (categories, numbers with few distinct values, the parts of a date, the
  tie code of a number that often equals another): categorical codes, noised by *masking*
  (an absorbing state: at time t each code is replaced by a mask code with probability
  t; Austin et al. 2021, Sahoo et al. 2024, as TabDiff does for categories).

One MLP denoiser (embeddings of the codes and the noisy numbers, a sinusoidal timestep
embedding, residual SiLU blocks with layer norm) predicts, at a time t, each masked code's
distribution and the noise added to each number; the loss is the cross-entropy over the masked
codes (averaged over them) plus the mean squared error of the predicted noise. Training draws
the time from ``TRAIN_STEPS`` (1000) steps and keeps a validation split carved out of the
training rows for the learning-rate plateaus and early stopping, with a time budget.

**Sampler** (``sampling_steps``, default 25 of the 1000): DDIM (Song et al. 2021) for the
numbers on an evenly strided time grid (``eta`` 1 = ancestral noise, 0 = deterministic), and for
the codes the reverse step of masking: between times t > s each still-masked code is
unmasked with probability (t - s) / t, drawn from the predicted distribution (codes that the
training rows did not have, or that value protection folded, are never drawn).

**Conditional generation by inpainting**: ``sample_where`` fixes the condition columns' codes
(unmasked from the first step to the last: what the masking process's reverse conditions
on) and generates the rest, so every row matches and exactly ``n_rows`` are made with no reject
sampling, for any subset of category columns.

Seeded fit and sample (torch's global generator forked while fitting; sampling draws from its
own generators, chunk i of a sample from (seed, i)); CUDA when present; model files are arrays
(``.npz``) and JSON, nothing is unpickled on load.
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import Field

from synthdata.synthesizers._tokens import MISSING, Tokenizer, embedding_width
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
TRAIN_STEPS = 1000  # noise steps of training (time t = k / TRAIN_STEPS)
SAMPLE_CHUNK = 32_768  # rows generated per pass; chunk i draws from seed (seed, i)
TIME_FEATURES = 64  # sinusoidal features of the time
NORMAL_LIMIT = 5.0  # quantile-normal values live in [-5, 5] (p from 3e-7 to 1 - 3e-7)
TARGET_STEPS = 12_000  # training steps aimed at by the default number of epochs


class DiffusionParams(BaseParams):
    epochs: int | None = Field(
        None, ge=1, description="Most training epochs; None sizes it to the table (about "
        f"{TARGET_STEPS:,} optimiser steps, 30 to 2,000 epochs; early stopping usually ends "
        "training sooner).")
    batch_size: int | None = Field(
        None, ge=2, description="Rows per training batch; None scales it to the table "
        "(64 to 1024).")
    learning_rate: float | None = Field(
        None, gt=0, description="AdamW learning rate; None = 2e-3.")
    weight_decay: float = Field(1e-5, ge=0, description="AdamW weight decay.")
    hidden: int | None = Field(
        None, ge=8, description="Width of the denoiser's blocks; None scales it to the table "
        "(128 to 256).")
    depth: int = Field(3, ge=1, le=8, description="Residual blocks of the denoiser.")
    dropout: float = Field(0.0, ge=0, lt=1, description="Dropout inside the blocks, in "
                           "training.")
    patience: int = Field(12, ge=1, description="Epochs without a better validation loss "
                          "before training stops (the best weights are kept).")
    validation_share: float = Field(
        0.1, ge=0, lt=1, description="Share of the training rows held out of training to "
        "decide early stopping (never the pipeline's holdout).")
    time_budget: float | None = Field(
        None, gt=0, description="Seconds of training at most (the best weights so far are "
        "kept); None = no limit.")
    sampling_steps: int = Field(
        25, ge=1, le=TRAIN_STEPS, description=f"Steps of the sampler (of the {TRAIN_STEPS} "
        "training steps, evenly strided): fewer is faster, more follows the model closer.")
    eta: float = Field(1.0, ge=0, le=1, description="DDIM noise of the numbers' sampler: 1 = "
                       "ancestral (DDPM-like), 0 = deterministic.")
    value_protection: bool = Field(
        True, description="Never generate values seen in fewer than a few (5-9, random) "
        "training rows, and clip numbers to the 5th-9th smallest / largest value: a unique "
        "value is never reproduced.")
    quantile_bins: int = Field(32, ge=2, le=256, description="Coarse quantile bins of a "
                               "continuous number (its quantile function has bins x "
                               "positions knots).")
    bin_positions: int = Field(8, ge=2, le=256, description="Finer positions inside a bin.")


@dataclass
class Layout:
    """Where each model input comes from in the tokenizer's sub-columns.

    ``cats``: token index of every categorical sub-column; a quantile column's presence
    sub-column is written ``-1 - coarse`` (its code is 1 where the coarse code is not
    missing). ``nums``: (coarse index, fine index, bins, positions per bin) of every
    continuous number.
    """

    cats: list[int]
    sizes: list[int]
    allowed: list[list[bool]]
    nums: list[tuple[int, int, int, int]]

    @classmethod
    def of(cls, tokenizer: Tokenizer) -> Layout:
        cats: list[int] = []
        sizes: list[int] = []
        allowed: list[list[bool]] = []
        nums: list[tuple[int, int, int, int]] = []

        def add(index: int, size: int, ok: list[bool]) -> None:
            cats.append(index)
            sizes.append(size)
            allowed.append(ok)

        j = 0
        for code in tokenizer.codes:
            parts = code.parts
            first = 0
            if code.method == "quantile":
                nums.append((j, j + 1, code.bins, code.fine))
                if parts[0].allowed[MISSING]:  # the number may be missing: a presence code
                    add(-1 - j, 2, [True, any(parts[0].allowed[1:])])
                first = 2  # the tie code (if any) stays categorical
            for k in range(first, len(parts)):
                add(j + k, parts[k].size, list(parts[k].allowed))
            j += len(parts)
        return cls(cats, sizes, allowed, nums)

    def to_model(self, tokens: np.ndarray, rng: np.random.Generator
                 ) -> tuple[np.ndarray, np.ndarray]:
        """(codes, numbers) of token rows: a number's quantile position p (its cell plus a
        uniform draw inside it) as ``Phi^-1(p)``; a missing number gets a standard normal
        draw (its presence code says it is missing)."""
        from scipy.special import ndtri

        n = len(tokens)
        codes = np.empty((n, len(self.cats)), dtype=np.int64)
        for i, j in enumerate(self.cats):
            codes[:, i] = (tokens[:, -1 - j] != MISSING) if j < 0 else tokens[:, j]
        numbers = np.empty((n, len(self.nums)), dtype=np.float32)
        for i, (coarse, fine_j, bins, fine) in enumerate(self.nums):
            cell = (np.maximum(tokens[:, coarse], 1) - 1) * fine + tokens[:, fine_j]
            p = (cell + rng.random(n)) / (bins * fine)
            z = ndtri(np.clip(p, 1e-7, 1 - 1e-7))
            numbers[:, i] = np.where(tokens[:, coarse] == MISSING, rng.standard_normal(n), z)
        return codes, numbers

    def to_tokens(self, codes: np.ndarray, numbers: np.ndarray, width: int) -> np.ndarray:
        """Token rows (``width`` sub-columns) of model rows."""
        from scipy.special import ndtr

        tokens = np.zeros((len(codes), width), dtype=np.int64)
        for i, (coarse, fine_j, bins, fine) in enumerate(self.nums):
            p = ndtr(numbers[:, i].astype("float64"))
            cell = np.clip(np.floor(p * bins * fine), 0, bins * fine - 1).astype(np.int64)
            tokens[:, coarse] = cell // fine + 1
            tokens[:, fine_j] = cell % fine
        for i, j in enumerate(self.cats):
            if j >= 0:
                tokens[:, j] = codes[:, i]
            else:  # presence code 0: the number is missing
                tokens[:, -1 - j] = np.where(codes[:, i] == 0, MISSING, tokens[:, -1 - j])
        return tokens

    def to_json(self) -> dict[str, Any]:
        return {"cats": self.cats, "sizes": self.sizes, "allowed": self.allowed,
                "nums": [list(v) for v in self.nums]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Layout:
        return cls([int(v) for v in data["cats"]], [int(v) for v in data["sizes"]],
                   [[bool(a) for a in ok] for ok in data["allowed"]],
                   [(int(a), int(b), int(c), int(d)) for a, b, c, d in data["nums"]])


def alpha_bar(t: Any) -> Any:
    """Signal share of the numbers at time ``t`` in [0, 1] (cosine schedule, Nichol and
    Dhariwal 2021), kept in [1e-4, 1 - 1e-4]."""
    import torch

    return (torch.cos((t + 0.008) / 1.008 * math.pi / 2) ** 2).clamp(1e-4, 1 - 1e-4)


def _net_class() -> Any:
    import torch
    from torch import nn

    class Block(nn.Module):
        def __init__(self, hidden: int, dropout: float) -> None:
            super().__init__()
            self.norm = nn.LayerNorm(hidden)
            self.up = nn.Linear(hidden, 2 * hidden)
            self.down = nn.Linear(2 * hidden, hidden)
            self.dropout = nn.Dropout(dropout)
            nn.init.zeros_(self.down.weight)
            nn.init.zeros_(self.down.bias)

        def forward(self, h: torch.Tensor) -> torch.Tensor:
            return h + self.down(self.dropout(nn.functional.silu(self.up(self.norm(h)))))

    class Denoiser(nn.Module):
        """Codes (mask code = a sub-column's size) and noisy numbers at time t -> logits of
        every code and the predicted noise of every number."""

        def __init__(self, sizes: list[int], allowed: list[list[bool]], n_nums: int,
                     hidden: int, depth: int, dropout: float) -> None:
            super().__init__()
            widths = [embedding_width(s + 1) for s in sizes]
            self.sizes = sizes
            self.embeddings = nn.ModuleList(nn.Embedding(s + 1, w)
                                            for s, w in zip(sizes, widths, strict=True))
            self.inp = nn.Linear(sum(widths) + n_nums, hidden)
            self.time = nn.Sequential(nn.Linear(TIME_FEATURES, hidden), nn.SiLU(),
                                      nn.Linear(hidden, hidden))
            self.blocks = nn.ModuleList(Block(hidden, dropout) for _ in range(depth))
            self.norm = nn.LayerNorm(hidden)
            self.out = nn.Linear(hidden, sum(sizes) + n_nums)
            starts = [0]
            for s in sizes:
                starts.append(starts[-1] + s)
            self.starts = starts
            banned = torch.ones(max(len(sizes), 1), max(sizes, default=1), dtype=torch.bool)
            for j, ok in enumerate(allowed):
                banned[j, :len(ok)] = ~torch.tensor(ok, dtype=torch.bool)
            self.register_buffer("banned", banned, persistent=False)
            half = TIME_FEATURES // 2
            self.register_buffer("freqs", torch.exp(-math.log(1000.0) * torch.arange(half)
                                                    / half), persistent=False)

        def forward(self, codes: torch.Tensor, numbers: torch.Tensor, t: torch.Tensor
                    ) -> tuple[torch.Tensor, torch.Tensor]:
            parts = [e(codes[:, j]) for j, e in enumerate(self.embeddings)]
            times, index = torch.unique(t, return_inverse=True)  # sampling: one time
            angle = (times * TRAIN_STEPS).unsqueeze(1) * self.freqs
            h = self.inp(torch.cat([*parts, numbers], dim=1)) + self.time(
                torch.cat([angle.sin(), angle.cos()], dim=1))[index]
            for block in self.blocks:
                h = block(h)
            out = self.out(self.norm(h))
            return out[:, :self.starts[-1]], out[:, self.starts[-1]:]

        def part_logits(self, logits: torch.Tensor, j: int) -> torch.Tensor:
            return logits[:, self.starts[j]:self.starts[j + 1]]

    return Denoiser


class Diffusion(Synthesizer):
    """Denoising model: Gaussian noise on numbers, masked categories, inpainting.

    One MLP denoiser; CUDA when present (see the module docstring)."""

    Params = DiffusionParams
    uses_torch = True
    conditional = True
    conditional_method = "inpainting: condition columns fixed at every step"

    # -- fit --
    def _fit(self, train: pd.DataFrame, params: Any, *, progress: bool) -> None:
        import torch

        from synthdata.synthesizers import _torch

        rng = np.random.default_rng(self.seed)
        self.tokenizer_ = Tokenizer.fit(train, self.schema, protect=params.value_protection,
                                        bins=params.quantile_bins, fine=params.bin_positions,
                                        rng=rng)
        self.layout_ = Layout.of(self.tokenizer_)
        codes, numbers = self.layout_.to_model(self.tokenizer_.encode(train, rng), rng)
        n = len(codes)
        n_val = int(round(params.validation_share * n)) if n >= 20 else 0
        order = rng.permutation(n)
        batch_size = params.batch_size or int(min(1024, max(64, 2 ** round(math.log2(
            max(n - n_val, 1) / 32)))))
        steps_per_epoch = max(1, math.ceil((n - n_val) / batch_size))
        epochs = params.epochs or int(min(2000, max(30, TARGET_STEPS // steps_per_epoch)))
        lr = params.learning_rate or 2e-3
        hidden = params.hidden or int(min(256, max(128, 2 ** round(math.log2(
            max(n, 1) / 64)))))
        self.training_: dict[str, Any] = {
            "batch_size": batch_size, "learning_rate": lr, "hidden": hidden,
            "depth": params.depth, "epochs_planned": epochs, "validation_rows": n_val,
            "train_steps": TRAIN_STEPS, "sampler": self._sampler(params)}
        if not self.layout_.cats and not self.layout_.nums:  # only key columns
            self.net_ = None
            return
        device = self.device_
        data = np.concatenate([codes.astype(np.float32), numbers], axis=1)
        with _torch.forked_seed(self.seed, device):
            self.net_ = self._build(hidden, params.depth, params.dropout).to(device)
            train_rows = torch.as_tensor(data[order[n_val:]], device=device)
            val_rows = torch.as_tensor(data[order[:n_val]], device=device)
            gen = _torch.generator(self.seed, device)
            history = _torch.train(
                self.net_, self._loss_fn(), train_rows, val_rows, batch_size=batch_size,
                lr=lr, weight_decay=params.weight_decay, epochs=epochs,
                patience=params.patience, max_seconds=params.time_budget, gen=gen,
                progress=progress, name=self.name)
        self.training_.update(history.to_json())

    @staticmethod
    def _sampler(params: Any) -> str:
        return (f"{params.sampling_steps} of {TRAIN_STEPS} steps: DDIM (eta {params.eta}) for "
                "numbers, unmasking for codes")

    def _build(self, hidden: int, depth: int, dropout: float = 0.0) -> Any:
        layout = self.layout_
        return _net_class()(layout.sizes, layout.allowed, len(layout.nums), hidden, depth,
                            dropout)

    def _loss_fn(self) -> Any:
        """Cross-entropy of the masked codes (mean over them) plus the mean squared error of
        the numbers' predicted noise, at a time drawn per row."""
        import torch

        net = self.net_
        n_cats = len(self.layout_.cats)
        mask_codes = torch.as_tensor(self.layout_.sizes, device=self.device_)

        def loss(batch: Any, gen: Any) -> Any:
            rows = len(batch)
            device = batch.device
            codes = batch[:, :n_cats].long()
            x0 = batch[:, n_cats:]
            k = torch.randint(1, TRAIN_STEPS + 1, (rows,), generator=gen,
                              device=gen.device).to(device)
            t = k.to(batch.dtype) / TRAIN_STEPS
            masked = torch.rand(rows, n_cats, generator=gen, device=gen.device).to(device) \
                < t.unsqueeze(1)
            noisy_codes = torch.where(masked, mask_codes, codes)
            eps = torch.randn(x0.shape, generator=gen, device=gen.device).to(device)
            ab = alpha_bar(t).unsqueeze(1)
            xt = ab.sqrt() * x0 + (1 - ab).sqrt() * eps
            logits, eps_hat = net(noisy_codes, xt, t)
            total = torch.zeros(rows, device=device)
            if n_cats:
                ce = torch.stack([torch.nn.functional.cross_entropy(
                    net.part_logits(logits, j), codes[:, j], reduction="none")
                    for j in range(n_cats)], dim=1)
                total = total + (ce * masked).sum(1) / masked.sum(1).clamp(min=1)
            if x0.shape[1]:
                total = total + (eps_hat - eps).pow(2).mean(1)
            return total.mean()

        return loss

    # -- sample --
    def _begin_sampling(self) -> None:
        self._keys_drawn = 0

    def _sample(self, n_rows: int, seed: int) -> pd.DataFrame:
        return self._generate(n_rows, {}, seed)

    def _sample_where(self, n_rows: int, conditions: dict[str, Any], seed: int) -> Draw | None:
        fixed: dict[int, int] = {}
        tokenizer = self.tokenizer_
        columns = [c.column for c in tokenizer.codes]
        start = {}
        j = 0
        for code in tokenizer.codes:
            start[code.column] = j
            j += len(code.parts)
        for column, value in conditions.items():
            codes = tokenizer.condition_codes(column, value) if column in columns else None
            if codes is None or start[column] not in self.layout_.cats:
                return None
            fixed[self.layout_.cats.index(start[column])] = codes[0]
        rows = self._generate(n_rows, fixed, seed)
        for column, value in conditions.items():  # the rare code decodes to no value
            rows[column] = tokenizer.fixed_values(column, value, n_rows)
        return Draw(rows, n_rows)

    def _generate(self, n_rows: int, fixed: dict[int, int], seed: int) -> pd.DataFrame:
        start = getattr(self, "_keys_drawn", 0)
        self._keys_drawn = start + n_rows
        width = len(self.tokenizer_.parts)

        def draw(size: int, chunk_seed: int) -> tuple[np.ndarray, np.random.Generator]:
            tokens = self.layout_.to_tokens(*self._denoise(size, fixed, chunk_seed), width)
            return tokens, np.random.default_rng(chunk_seed)

        return self.tokenizer_.generate(n_rows, seed, SAMPLE_CHUNK, start, draw)

    def _denoise(self, n_rows: int, fixed: dict[int, int], seed: int
                 ) -> tuple[np.ndarray, np.ndarray]:
        """Run the sampler from pure noise (every code masked) to time 0."""
        import torch

        from synthdata.synthesizers import _torch

        layout = self.layout_
        n_cats, n_nums = len(layout.cats), len(layout.nums)
        if self.net_ is None:
            return (np.zeros((n_rows, n_cats), np.int64), np.zeros((n_rows, n_nums),
                                                                   np.float32))
        net, device = self.net_, self.device_
        steps = int(self.params_["sampling_steps"])
        eta = float(self.params_["eta"])
        gen = _torch.generator(seed, device)
        mask_codes = torch.as_tensor(layout.sizes, device=device)
        codes = mask_codes.expand(n_rows, -1).clone()
        for j, code in fixed.items():
            codes[:, j] = code
        x = torch.randn(n_rows, n_nums, generator=gen, device=gen.device).to(device)
        # an evenly strided grid of the training steps, from TRAIN_STEPS down to 0
        grid = np.unique(np.round(np.linspace(TRAIN_STEPS, 0, steps + 1)).astype(int))[::-1]
        with torch.no_grad():
            for k_t, k_s in zip(grid[:-1], grid[1:], strict=True):
                t = torch.full((n_rows,), k_t / TRAIN_STEPS, device=device)
                logits, eps = net(codes, x, t)
                share = (k_t - k_s) / k_t  # of the masked codes, unmasked in this step
                for j in range(n_cats):
                    masked = codes[:, j] == layout.sizes[j]
                    if not bool(masked.any()):
                        continue
                    unmask = masked & (torch.rand(n_rows, generator=gen, device=gen.device)
                                       .to(device) < share)
                    part = net.part_logits(logits, j).masked_fill(
                        net.banned[j, :layout.sizes[j]], -math.inf)
                    drawn = _torch.draw(part, gen)
                    codes[:, j] = torch.where(unmask, drawn, codes[:, j])
                if n_nums:
                    ab_t = alpha_bar(torch.tensor(k_t / TRAIN_STEPS, device=device))
                    x0 = ((x - (1 - ab_t).sqrt() * eps) / ab_t.sqrt()).clamp(
                        -NORMAL_LIMIT, NORMAL_LIMIT)
                    if k_s == 0:
                        x = x0
                        continue
                    ab_s = alpha_bar(torch.tensor(k_s / TRAIN_STEPS, device=device))
                    sigma = eta * ((1 - ab_s) / (1 - ab_t) * (1 - ab_t / ab_s)).clamp(
                        min=0).sqrt()
                    eps = (x - ab_t.sqrt() * x0) / (1 - ab_t).sqrt()
                    noise = torch.randn(x.shape, generator=gen, device=gen.device).to(device)
                    x = ab_s.sqrt() * x0 + (1 - ab_s - sigma ** 2).clamp(min=0).sqrt() * eps \
                        + sigma * noise
        return codes.cpu().numpy(), x.cpu().numpy()

    # -- model files --
    def summary(self) -> dict[str, Any]:
        layout = self.layout_
        return {"categorical_sub_columns": len(layout.cats),
                "continuous_numbers": len(layout.nums),
                "sampler": self.training_.get("sampler"),
                "epochs": self.training_.get("epochs"),
                "stopped": self.training_.get("stopped")}

    def _state(self, folder: Path) -> None:
        from synthdata.synthesizers import _torch

        description = {"tokenizer": self.tokenizer_.to_json(), "layout": self.layout_.to_json(),
                       "training": self.training_, "has_net": self.net_ is not None}
        (folder / DESCRIPTION).write_text(json.dumps(description, indent=1), encoding="utf-8")
        save_arrays(folder / WEIGHTS, _torch.state_arrays(self.net_)
                    if self.net_ is not None else {})

    def _from_state(self, folder: Path, device: str) -> None:
        from synthdata.synthesizers import _torch

        description = json.loads((folder / DESCRIPTION).read_text(encoding="utf-8"))
        self.tokenizer_ = Tokenizer.from_json(description["tokenizer"])
        self.layout_ = Layout.from_json(description["layout"])
        self.training_ = description.get("training", {})
        self.net_ = None
        if description.get("has_net"):
            self.net_ = self._build(int(self.training_["hidden"]),
                                    int(self.training_["depth"])).to(device)
            _torch.load_state(self.net_, load_arrays(folder / WEIGHTS), device)
            self.net_.eval()

