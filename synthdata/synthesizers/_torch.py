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
          gen: torch.Generator, progress: bool = False, name: str = "") -> History:
    """Minimise ``loss(batch, gen)`` (a mean over the batch's rows) over ``data``.

    ``val`` (rows never trained on) decides the learning-rate plateaus, early stopping and
    which weights are kept; with no validation rows the training loss does.
    """
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, factor=0.5,
                                                           patience=max(patience // 3, 1))
    history = History()
    best_state = copy.deepcopy(model.state_dict())
    started = time.perf_counter()
    n = len(data)
    steps = max(1, math.ceil(n / batch_size))
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=epochs, desc=f"{name} epochs", unit="epoch")
    since_best = 0
    try:
        for epoch in range(1, epochs + 1):
            model.train()
            order = torch.randperm(n, generator=gen, device=gen.device).to(data.device)
            total = 0.0
            for step in range(steps):
                batch = data[order[step * batch_size:(step + 1) * batch_size]]
                if len(batch) < 2 and steps > 1:
                    continue
                optimizer.zero_grad(set_to_none=True)
                value = loss(batch, gen)
                value.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), 10.0)
                optimizer.step()
                total += float(value.detach()) * len(batch)
            history.train_loss.append(total / n)
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
            if max_seconds is not None and time.perf_counter() - started >= max_seconds:
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
