"""TVAE (tabular variational autoencoder, Xu et al. 2019) over SDV's TVAESynthesizer."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from synthdata.synthesizers import _sdv
from synthdata.synthesizers.base import Synthesizer

Width = _sdv.Width


class TVAEParams(_sdv.NeuralParams):
    compress_dims: list[Width] = Field([128, 128], min_length=1,
                                       description="Encoder layer widths.")
    decompress_dims: list[Width] = Field([128, 128], min_length=1,
                                         description="Decoder layer widths.")
    l2scale: float = Field(1e-5, ge=0, description="Adam weight decay.")
    loss_factor: float = Field(2, gt=0, description="Weight of the reconstruction loss.")


@_sdv.backend("TVAESynthesizer")
class TVAE(Synthesizer):
    """A variational autoencoder on mode-normalised columns; trains on CUDA when present."""

    Params = TVAEParams
    uses_torch = True

    def _make_model(self, metadata: Any, params: dict[str, Any], device: str) -> Any:
        from sdv.single_table import TVAESynthesizer

        kwargs = dict(params)
        kwargs["compress_dims"] = tuple(kwargs["compress_dims"])
        kwargs["decompress_dims"] = tuple(kwargs["decompress_dims"])
        return TVAESynthesizer(metadata, enable_gpu=device == "cuda", verbose=False, **kwargs)
