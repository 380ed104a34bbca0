"""TVAE (tabular variational autoencoder, Xu et al. 2019) over SDV's TVAESynthesizer."""

from __future__ import annotations

from typing import Any, ClassVar

from synthdata.synthesizers.base import Param, Synthesizer, float_in, int_in, int_tuple, is_bool


class TVAE(Synthesizer):
    """A variational autoencoder on mode-normalised columns; trains on CUDA when present."""

    name = "tvae"
    uses_torch = True
    params: ClassVar[dict[str, Param]] = {
        "epochs": Param(300, "an int in [1, inf)", int_in(1)),
        "batch_size": Param(500, "an int in [1, inf)", int_in(1)),
        "embedding_dim": Param(128, "an int in [1, inf)", int_in(1)),
        "compress_dims": Param((128, 128), "a non-empty list of ints in [1, inf)", int_tuple),
        "decompress_dims": Param((128, 128), "a non-empty list of ints in [1, inf)", int_tuple),
        "l2scale": Param(1e-5, "a float in [0, inf)", float_in(0)),
        "loss_factor": Param(2, "a float in (0, inf)", float_in(0, low_open=True)),
        "enforce_min_max_values": Param(True, "a bool", is_bool),
        "enforce_rounding": Param(True, "a bool", is_bool),
    }

    def _make_model(self, metadata: Any, params: dict[str, Any], device: str) -> Any:
        from sdv.single_table import TVAESynthesizer

        kwargs = dict(params)
        kwargs["compress_dims"] = tuple(kwargs["compress_dims"])
        kwargs["decompress_dims"] = tuple(kwargs["decompress_dims"])
        return TVAESynthesizer(metadata, enable_gpu=device == "cuda", verbose=False, **kwargs)

    def _place(self, model: Any, device: str) -> None:
        import torch

        model._model.set_device(torch.device(device))
