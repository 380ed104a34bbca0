"""The Ray engine (``synthdata[ray]``): tasks on a Ray cluster.

``address=None`` starts a private local Ray instance with ``workers`` CPUs (or this machine's
count) and stops it on :meth:`close`; ``address="auto"`` or ``"ray://host:10001"`` joins a
running cluster, whose nodes need synthdata installed and, for outputs, a folder they all see
(a shared file system). A Ray instance already started in this process (``ray.init``) is used
as it is. Each task takes one CPU, so torch runs one thread per worker; ``shared`` goes to the
object store once per job and every task reads it from there. :meth:`RayEngine.train` runs
data-parallel torch training with Ray Train.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from synthdata._optional import require
from synthdata.execution import Engine, R, T

logger = logging.getLogger(__name__)


def _ray() -> Any:
    return require("ray", extra="ray", feature="--engine ray")


def _token_notice(record: logging.LogRecord) -> bool:
    return "Token authentication is enabled" not in record.getMessage()


class RayEngine(Engine):
    """Tasks on Ray, at most ``workers`` at a time (default: the cluster's CPUs)."""

    name = "ray"

    def __init__(self, *, address: str | None = None, workers: int | None = None) -> None:
        ray = _ray()
        self.address = address
        self._started = False
        if not ray.is_initialized():
            logger.info("starting Ray (%s)", address or "a local instance")
            kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False,
                                      "logging_level": logging.WARNING}
            if address is None:
                kwargs["num_cpus"] = workers
            # Ray's notice that it turned token authentication on (its default) is noise to
            # a CLI user; its warnings about authentication being off still show
            notices = logging.getLogger("ray._private.authentication.authentication_token_setup")
            notices.addFilter(_token_notice)
            try:
                ray.init(address=address, **kwargs)
            finally:
                notices.removeFilter(_token_notice)
            self._started = True
        cpus = int(ray.cluster_resources().get("CPU", 1))
        super().__init__(workers=workers or max(1, cpus))

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "address": self.address or "local"}

    def map(self, fn: Callable[[T, Any], R], tasks: Iterable[T], *, shared: Any = None
            ) -> Iterator[R]:
        ray = _ray()
        shared_ref = ray.put(shared)
        remote = ray.remote(num_cpus=1, max_retries=2)(fn)
        queue = iter(enumerate(tasks))
        running: dict[Any, int] = {}  # submitted, not finished: at most `workers`
        finished: dict[int, Any] = {}  # finished, waiting for their turn (results stay in
        # the object store until yielded; at most 4 x workers tasks are held in all)
        turn = 0
        try:
            while True:
                while len(running) < self.workers and len(running) + len(finished) < \
                        4 * self.workers:
                    item = next(queue, None)
                    if item is None:
                        break
                    running[remote.remote(item[1], shared_ref)] = item[0]
                if turn in finished:
                    yield ray.get(finished.pop(turn))
                    turn += 1
                    continue
                if not running:
                    return
                ready, _ = ray.wait(list(running), num_returns=1)
                for ref in ready:
                    finished[running.pop(ref)] = ref
        finally:  # closed early (an error, a stop): stop the tasks still running
            for ref in running:
                with contextlib.suppress(Exception):  # never hide the error that closed us
                    ray.cancel(ref)

    def train_device(self, device: str) -> str:
        return "cpu"  # Ray Train workers here use one CPU each (use_gpu=False)

    def train(self, fn: Callable[[Any, int, int], tuple[dict[str, Any], dict[str, Any]]],
              config: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        """``fn`` on ``workers`` Ray Train workers (``TorchTrainer``: one CPU each, a gloo
        process group); rank 0's result comes back as a checkpoint (arrays as ``.npz``, info
        as JSON: nothing unpickled). Ray Train keeps its run state under a temporary folder
        (``TMPDIR``; on a cluster, point it at storage every node sees)."""
        import json
        import shutil
        import tempfile

        import numpy as np

        _ray()
        from ray.train import RunConfig, ScalingConfig
        from ray.train.torch import TorchTrainer

        storage = tempfile.mkdtemp(prefix="synthdata-train-")
        try:
            trainer = TorchTrainer(
                _train_loop, train_loop_config={"fn": fn, "config": config},
                scaling_config=ScalingConfig(num_workers=self.workers, use_gpu=False),
                run_config=RunConfig(storage_path=storage, name="synthdata"))
            result = trainer.fit()
            with result.checkpoint.as_directory() as folder:
                with np.load(Path(folder) / "arrays.npz", allow_pickle=False) as arrays:
                    out = {k: arrays[k] for k in arrays.files}
                info = json.loads((Path(folder) / "info.json").read_text(encoding="utf-8"))
        finally:
            shutil.rmtree(storage, ignore_errors=True)
        return out, info

    def close(self) -> None:
        if self._started:
            _ray().shutdown()
            self._started = False


def _train_loop(job: dict[str, Any]) -> None:
    """One Ray Train worker: run the job's function as rank r of w; rank 0 reports its result
    as a checkpoint (every rank reports: Ray Train waits for all)."""
    import json
    import tempfile

    import numpy as np
    import ray.train

    context = ray.train.get_context()
    rank, world = context.get_world_rank(), context.get_world_size()
    arrays, info = job["fn"](job["config"], rank, world)
    if rank != 0:
        ray.train.report({"rank": rank})
        return
    with tempfile.TemporaryDirectory(prefix="synthdata-result-") as folder:
        np.savez(Path(folder) / "arrays.npz", **arrays)
        (Path(folder) / "info.json").write_text(json.dumps(info), encoding="utf-8")
        ray.train.report({"rank": rank},
                         checkpoint=ray.train.Checkpoint.from_directory(folder))
