"""The local engine: the tasks in this process, or in a pool of ``workers`` processes.

Needs nothing installed. One process already uses every core through numpy's and torch's
threads, so ``workers=1`` (the default) runs the tasks here, in order; ``workers > 1`` starts
that many fresh (spawned) processes, each with one thread and its own copy of ``shared``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from synthdata.execution import Engine, R, T

_SHARED: Any = None


def _init_worker(payload: bytes) -> None:
    """One thread per worker, set before ``shared`` is unpickled (which imports numpy,
    scikit-learn or torch, whose thread pools read the variables when they load)."""
    global _SHARED
    import os
    import pickle

    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[name] = "1"
    _SHARED = pickle.loads(payload)  # noqa: S301 - this run's own payload, pickled by us
    import sys

    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(1)


def _call(fn: Callable[[Any, Any], Any], task: Any) -> Any:
    return fn(task, _SHARED)


class LocalEngine(Engine):
    """The tasks here, one after another, or over a spawned process pool."""

    name = "local"

    @property
    def in_process(self) -> bool:
        return self.workers <= 1

    def map(self, fn: Callable[[T, Any], R], tasks: Iterable[T], *, shared: Any = None
            ) -> Iterator[R]:
        if self.workers <= 1:
            for task in tasks:
                yield fn(task, shared)
            return
        import multiprocessing
        import pickle
        from concurrent.futures import ProcessPoolExecutor

        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(self.workers, mp_context=context, initializer=_init_worker,
                                 initargs=(pickle.dumps(shared),)) as pool:
            pending: deque[Any] = deque()
            try:
                for task in tasks:  # at most 2 tasks per worker in flight: bounded memory
                    pending.append(pool.submit(_call, fn, task))
                    if len(pending) >= 2 * self.workers:
                        yield pending.popleft().result()
                while pending:
                    yield pending.popleft().result()
            finally:  # closed early (an error, a stop): drop the tasks not yet started
                # (the few already handed to the workers still finish)
                for future in pending:
                    future.cancel()
