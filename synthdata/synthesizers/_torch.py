"""Torch helpers shared by the native neural backends (imported only by them).

Seeding without touching torch's global generator for good (:func:`forked_seed`), module
weights as plain arrays (:func:`state_arrays` / :func:`load_state`, saved with ``save_arrays``
so nothing is unpickled), and one training loop (:func:`train`): AdamW, shuffled mini-batches
drawn from a seeded generator, a validation split scored every epoch, the learning rate halved
on a plateau, early stopping with the best weights kept, an epoch cap and a time budget.
"""

from __future__ import annotations

import contextlib
import copy
import logging
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

# this module is itself imported only inside the torch backends' methods
import torch  # noqa: TID253

logger = logging.getLogger(__name__)


@contextlib.contextmanager
def forked_seed(seed: int, device: str) -> Iterator[None]:
    """Seed torch's global generator(s) for the block, and restore them after."""
    devices = [torch.device(device).index or 0] if device == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield


def generator(seed: int, device: str) -> torch.Generator:
    g = torch.Generator(device=device)
    g.manual_seed(int(seed))
    return g


def state_arrays(module: torch.nn.Module) -> dict[str, np.ndarray]:
    return {k: v.detach().cpu().numpy() for k, v in module.state_dict().items()}


def load_state(module: torch.nn.Module, arrays: dict[str, np.ndarray], device: str) -> None:
    module.load_state_dict({k: torch.from_numpy(np.array(v)).to(device)
                            for k, v in arrays.items()})


@dataclass
class History:
    """What training did (recorded with the model)."""

    epochs: int = 0
    best_epoch: int = 0
    best_val_loss: float = math.inf
    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    stopped: str = "epochs"
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {"epochs": self.epochs, "best_epoch": self.best_epoch,
                "best_val_loss": round(self.best_val_loss, 6), "stopped": self.stopped,
                "seconds": round(self.seconds, 3),
                "train_loss": [round(v, 6) for v in self.train_loss],
                "val_loss": [round(v, 6) for v in self.val_loss]}


def train(model: torch.nn.Module, loss: Callable[[torch.Tensor, torch.Generator], torch.Tensor],
          data: torch.Tensor, val: torch.Tensor, *, batch_size: int, lr: float,
          weight_decay: float, epochs: int, patience: int, max_seconds: float | None,
          gen: torch.Generator, progress: bool = False, name: str = "",
          epoch_rows: int | None = None, shard: GradientSync | None = None,
          perm_gen: torch.Generator | None = None) -> History:
    """Minimise ``loss(batch, gen)`` (a mean over the batch's rows) over ``data``.

    ``val`` (rows never trained on) decides the learning-rate plateaus, early stopping and
    which weights are kept; with no validation rows the training loss does. ``data`` is a
    tensor, or a numpy array (e.g. memory-mapped) whose batches are gathered and moved to the
    model's device one at a time. An epoch is every row, or at most ``epoch_rows`` rows: the
    next ones of a running permutation (a new one when all rows were visited).

    Data-parallel (``shard``, one of ``shard.world`` processes of a ``torch.distributed``
    group): every process draws the same permutations from ``perm_gen`` (same seed on all),
    takes every ``world``-th row of each batch, and the gradients are averaged over the
    processes before each step, so the weights stay the same everywhere and so do the
    validation scores and every decision taken on them; a time budget is ended together.
    """
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, factor=0.5,
                                                           patience=max(patience // 3, 1))
    history = History()
    best_state = copy.deepcopy(model.state_dict())
    started = time.perf_counter()
    n = len(data)
    per_epoch = n if epoch_rows is None else max(1, min(n, epoch_rows))
    steps = max(1, math.ceil(per_epoch / batch_size))
    in_memory = isinstance(data, torch.Tensor)
    device = next(model.parameters()).device
    order, cursor = None, n
    perm_gen = perm_gen or gen
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=epochs, desc=f"{name} epochs", unit="epoch")
    since_best = 0
    try:
        for epoch in range(1, epochs + 1):
            model.train()
            if per_epoch == n:
                order = torch.randperm(n, generator=perm_gen, device=perm_gen.device)
                visit = order
            else:  # the next rows of a running permutation
                if cursor + per_epoch > n:
                    order, cursor = torch.randperm(n, generator=perm_gen,
                                                   device=perm_gen.device), 0
                assert order is not None
                visit, cursor = order[cursor:cursor + per_epoch], cursor + per_epoch
            if in_memory:
                visit = visit.to(data.device)
            total, seen = 0.0, 0
            for step in range(steps):
                index = visit[step * batch_size:(step + 1) * batch_size]
                if shard is not None:  # the same steps everywhere: each one all-reduces
                    if len(index) < 2 * shard.world and steps > 1:
                        continue
                    index = index[shard.rank::shard.world]
                if in_memory:
                    batch = data[index]
                else:  # rows in file order: a memory-mapped file reads them faster
                    rows = np.sort(index.cpu().numpy())
                    batch = torch.from_numpy(np.asarray(data[rows], dtype=np.int64)).to(device)
                if len(batch) < 2 and steps > 1:
                    continue
                optimizer.zero_grad(set_to_none=True)
                value = loss(batch, gen)
                value.backward()
                if shard is not None:
                    shard.average(model)
                torch.nn.utils.clip_grad_norm_(model.parameters(), 10.0)
                optimizer.step()
                total += float(value.detach()) * len(batch)
                seen += len(batch)
            # data-parallel: the mean over this process's rows
            history.train_loss.append(total / (per_epoch if shard is None else max(seen, 1)))
            # the same draws every epoch (fresh generator), so scores are comparable
            score = evaluate(model, loss, val, gen=generator(0, str(gen.device)),
                             batch_size=4 * batch_size) if len(val) else history.train_loss[-1]
            history.val_loss.append(score)
            history.epochs = epoch
            scheduler.step(score)
            if not math.isfinite(history.best_val_loss) or \
                    score < history.best_val_loss - 1e-4 * abs(history.best_val_loss):
                history.best_val_loss, history.best_epoch, since_best = score, epoch, 0
                best_state = copy.deepcopy(model.state_dict())
            else:
                since_best += 1
            logger.debug("%s epoch %d: train loss %.4f, validation loss %.4f", name, epoch,
                         history.train_loss[-1], score)
            if bar is not None:
                bar.update(1)
                bar.set_postfix(val_loss=f"{score:.4f}")
            if since_best >= patience:
                history.stopped = "early stopping"
                break
            late = max_seconds is not None and time.perf_counter() - started >= max_seconds
            if shard is not None:
                late = shard.any(late)
            if late:
                history.stopped = "time budget"
                break
    finally:
        if bar is not None:
            bar.close()
    model.load_state_dict(best_state)
    model.eval()
    history.seconds = time.perf_counter() - started
    logger.info("%s trained %d epochs (%s), best epoch %d, validation loss %.4f, %.1f s",
                name, history.epochs, history.stopped, history.best_epoch,
                history.best_val_loss, history.seconds)
    return history


@dataclass
class GradientSync:
    """Process ``rank`` of ``world`` in a ``torch.distributed`` group (Ray Train sets it up):
    gradients averaged in one all-reduce, flags combined."""

    rank: int
    world: int

    def average(self, model: torch.nn.Module) -> None:
        import torch.distributed as dist

        params = [p for p in model.parameters() if p.requires_grad]
        for p in params:  # a parameter without a gradient here may have one elsewhere
            if p.grad is None:
                p.grad = torch.zeros_like(p)
        grads = [p.grad for p in params]
        flat = torch.cat([g.reshape(-1) for g in grads])
        dist.all_reduce(flat)
        flat /= self.world
        offset = 0
        for g in grads:
            g.copy_(flat[offset:offset + g.numel()].view_as(g))
            offset += g.numel()

    def spread(self, model: torch.nn.Module) -> float:
        """The largest difference of a weight from its mean over the processes (0: the same
        weights everywhere)."""
        import torch.distributed as dist

        flat = torch.cat([p.detach().reshape(-1) for p in model.parameters()])
        mean = flat.clone()
        dist.all_reduce(mean)
        return float((flat - mean / self.world).abs().max())

    def any(self, flag: bool) -> bool:
        import torch.distributed as dist

        value = torch.tensor([1.0 if flag else 0.0])
        dist.all_reduce(value)
        return bool(value.item() > 0)


def evaluate(model: torch.nn.Module, loss: Callable[[torch.Tensor, torch.Generator],
                                                     torch.Tensor],
             data: torch.Tensor, *, gen: torch.Generator, batch_size: int) -> float:
    model.eval()
    total = 0.0
    with torch.no_grad():
        for start in range(0, len(data), batch_size):
            batch = data[start:start + batch_size]
            total += float(loss(batch, gen)) * len(batch)
    return total / max(len(data), 1)


@dataclass
class PrivateHistory:
    """What DP-SGD training did. No loss values: they read the data without noise."""

    steps: int = 0
    planned_steps: int = 0
    sample_rate: float = 0.0
    noise_multiplier: float = 0.0
    max_grad_norm: float = 0.0
    stopped: str = "budget spent"
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {"dp_sgd": True, "steps": self.steps, "planned_steps": self.planned_steps,
                "sample_rate": self.sample_rate, "noise_multiplier": self.noise_multiplier,
                "max_grad_norm": self.max_grad_norm, "stopped": self.stopped,
                "seconds": round(self.seconds, 3)}


def train_private(model: torch.nn.Module,
                  ranks: Callable[[torch.Tensor, torch.Generator], torch.Tensor],
                  data: torch.Tensor, *, sample_rate: float, steps: int,
                  noise_multiplier: float, max_grad_norm: float, lr: float,
                  weight_decay: float, max_seconds: float | None, gen: torch.Generator,
                  progress: bool = False, name: str = "") -> PrivateHistory:
    """DP-SGD (Abadi et al. 2016) on ``model(tokens, part_rank)``, a row's loss.

    Each step takes every row with probability ``sample_rate`` (Poisson sampling, as
    Opacus' accountant assumes), clips each row's gradient to ``max_grad_norm`` (the norms
    from ``model.row_grad_norms`` when it has one, then one backward of the reweighted loss;
    else per-row gradients by ``torch.func``'s vmap of grad, in chunks that bound memory),
    adds Gaussian noise of
    standard deviation ``noise_multiplier * max_grad_norm`` to their sum and divides by the
    expected batch size; AdamW steps on that. ``steps`` steps (or fewer when ``max_seconds``
    runs out: the ledger counts the steps taken); the last weights are kept, with no
    validation split, best-epoch choice or loss recorded. Dropout is off (``eval`` mode).
    """
    params = dict(model.named_parameters())
    buffers = dict(model.named_buffers())

    def row_loss(weights: dict[str, torch.Tensor], tokens: torch.Tensor,
                 rank: torch.Tensor) -> torch.Tensor:
        return torch.func.functional_call(model, (weights, buffers),
                                          (tokens.unsqueeze(0), rank.unsqueeze(0)))

    per_row = torch.func.vmap(torch.func.grad(row_loss), in_dims=(None, 0, 0))
    ghost = getattr(model, "row_grad_norms", None)

    def clipped_sum(batch: torch.Tensor, rank: torch.Tensor) -> dict[str, torch.Tensor]:
        """The sum of the rows' gradients, each clipped to ``max_grad_norm``."""
        if ghost is not None:  # norms first, then one backward of the reweighted loss
            losses, norms = ghost(batch, rank)
            factor = (max_grad_norm / (norms.detach() + 1e-6)).clamp(max=1.0)
            grads = torch.autograd.grad((factor * losses).sum(), list(params.values()))
            return dict(zip(params, grads, strict=True))
        grads = per_row({k: p.detach() for k, p in params.items()}, batch, rank)
        norms = torch.sqrt(sum(g.reshape(len(batch), -1).pow(2).sum(1)
                               for g in grads.values()))
        factor = (max_grad_norm / (norms + 1e-6)).clamp(max=1.0)
        return {k: torch.tensordot(factor, g, dims=1) for k, g in grads.items()}
    optimizer = torch.optim.AdamW(params.values(), lr=lr, weight_decay=weight_decay)
    n = len(data)
    expected = max(sample_rate * n, 1.0)
    size = sum(p.numel() for p in params.values())
    # per-row gradients <= 128 MiB; the ghost norms need only activations
    chunk = 4096 if ghost is not None else int(max(8, min(1024, 2 ** 25 // max(size, 1))))
    std = noise_multiplier * max_grad_norm
    history = PrivateHistory(planned_steps=steps, sample_rate=sample_rate,
                             noise_multiplier=noise_multiplier, max_grad_norm=max_grad_norm)
    started = time.perf_counter()
    model.eval()
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=steps, desc=f"{name} DP-SGD steps", unit="step")
    try:
        for _ in range(steps):
            take = torch.rand(n, generator=gen, device=gen.device) < sample_rate
            index = take.nonzero().squeeze(1).to(data.device)
            total = {k: torch.zeros_like(p) for k, p in params.items()}
            for start in range(0, len(index), chunk):
                batch = data[index[start:start + chunk]]
                for k, g in clipped_sum(batch, ranks(batch, gen)).items():
                    total[k] += g
            for k, p in params.items():
                noise = torch.randn(p.shape, generator=gen, device=gen.device).to(p.device)
                p.grad = (total[k] + std * noise) / expected
            optimizer.step()
            history.steps += 1
            if bar is not None:
                bar.update(1)
            if max_seconds is not None and time.perf_counter() - started >= max_seconds:
                history.stopped = "time budget"
                break
    finally:
        if bar is not None:
            bar.close()
    history.seconds = time.perf_counter() - started
    logger.info("%s: DP-SGD %d of %d steps (%s), sigma %.3g, q %.3g, %.1f s", name,
                history.steps, steps, history.stopped, noise_multiplier, sample_rate,
                history.seconds)
    return history


def draw(logits: torch.Tensor, gen: torch.Generator, temperature: float = 1.0,
         top_p: float = 1.0) -> torch.Tensor:
    """One code per row from softmax(logits / temperature), nucleus-trimmed to ``top_p``
    (inverse CDF of one uniform draw per row; a code of probability 0 is never drawn)."""
    probs = torch.softmax(logits / temperature, dim=1)
    if top_p < 1.0:
        ordered, index = probs.sort(dim=1, descending=True)
        keep = ordered.cumsum(dim=1) - ordered < top_p  # the first code always stays
        ordered = ordered * keep
        probs = torch.zeros_like(probs).scatter_(1, index, ordered)
    cdf = probs.cumsum(dim=1)
    u = torch.rand(len(probs), 1, generator=gen, device=gen.device).to(probs.device)
    u = (u * (1 - 1e-6) + 1e-6) * cdf[:, -1:]  # never 0: a code of probability 0 is never drawn
    return (cdf < u).sum(dim=1).clamp_(max=probs.shape[1] - 1)
