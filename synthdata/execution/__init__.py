"""Where the pipeline's parallel work runs: one small interface, two engines.

- ``local`` (default): in this process, one task after another; needs nothing installed.
- ``ray``: tasks on a Ray cluster (``synthdata[ray]``), a local one started on demand or the
  one at ``address``; Ray is imported only in ``execution/ray.py``.

An engine maps a module-level function over tasks, ``fn(task, shared)``, where ``shared`` is
the job's common payload (a model, an encoded reference table), shipped once per job; results
come back in task order, as they finish, so a caller can stream them to disk. A task's result
may not depend on which worker ran it: callers derive any randomness from the task itself
(``validation.derived_seed(seed, index)``), so the output is the same for any worker count.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any, ClassVar, TypeVar

from synthdata.errors import ParameterError

T = TypeVar("T")
R = TypeVar("R")

ENGINES = ("local", "ray")


class Engine:
    """Runs ``fn(task, shared)`` for each task; ``workers`` at a time (at most)."""

    name: ClassVar[str]

    def __init__(self, workers: int) -> None:
        self.workers = workers

    def map(self, fn: Callable[[T, Any], R], tasks: Iterable[T], *, shared: Any = None
            ) -> Iterator[R]:
        raise NotImplementedError

    @property
    def in_process(self) -> bool:
        """True when the tasks run in this process (the local engine with one worker)."""
        return False

    def task_device(self, device: str) -> str:
        """The device a task should use: ``device`` here, the CPU on other processes (a worker
        may have no GPU, and several workers would share one)."""
        return device if self.in_process else "cpu"

    def train_device(self, device: str) -> str:
        """The device :meth:`train` trains on: ``device`` here (the default runs it in this
        process), the CPU on other processes."""
        return device

    def train(self, fn: Callable[[Any, int, int], tuple[dict[str, Any], dict[str, Any]]],
              config: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        """Data-parallel training: ``fn(config, rank, world)`` in each of ``world`` processes
        of one ``torch.distributed`` group; returns rank 0's (arrays, JSON-ready info). Here
        (the default): one process, ``fn(config, 0, 1)``."""
        return fn(config, 0, 1)

    def describe(self) -> dict[str, Any]:
        """What ran the work, for report.json and manifests."""
        return {"engine": self.name, "workers": self.workers}

    def close(self) -> None:
        """Release what the engine started (a local Ray instance it started itself)."""

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def check_engine(engine: Any, *, address: Any = None, workers: Any = None) -> str:
    """``engine`` as a known name, with ``address`` and ``workers`` checked against it."""
    from synthdata.validation import check_choice, check_count

    name = check_choice("engine", engine, ENGINES)
    if workers is not None:
        check_count("workers", workers)
    if address is not None and name != "ray":
        raise ParameterError(f"ray_address '{address}' was given with engine '{name}'; "
                             "expected engine 'ray' (a cluster address means nothing to the "
                             "local engine): add --engine ray or drop --ray-address",
                             param="ray_address")
    if name == "ray":  # a missing extra fails here, before any work
        from synthdata._optional import require

        require("ray", extra="ray", feature="--engine ray")
    return name


def get_engine(engine: str = "local", *, address: str | None = None,
               workers: int | None = None) -> Engine:
    """An engine by name. ``ray`` fails here, before any work, when the extra is missing."""
    name = check_engine(engine, address=address, workers=workers)
    if name == "ray":
        from synthdata.execution.ray import RayEngine

        return RayEngine(address=address, workers=workers)
    from synthdata.execution.local import LocalEngine

    return LocalEngine(workers=workers or 1)


__all__ = ["ENGINES", "Engine", "check_engine", "get_engine"]
