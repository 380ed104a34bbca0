"""CTGAN (conditional GAN, Xu et al. 2019) over SDV's CTGANSynthesizer."""

from __future__ import annotations

from typing import Any, ClassVar

from synthdata.errors import ParameterError
from synthdata.schema import ColumnKind, category_text
from synthdata.synthesizers.base import Param, Synthesizer, float_in, int_in, int_tuple, is_bool


class CTGAN(Synthesizer):
    """Mode-specific normalisation and a conditional generator; trains on CUDA when present."""

    name = "ctgan"
    uses_torch = True
    params: ClassVar[dict[str, Param]] = {
        "epochs": Param(300, "an int in [1, inf)", int_in(1)),
        "batch_size": Param(500, "an even int in [2, inf), divisible by 'pac'", int_in(2)),
        "pac": Param(10, "an int in [1, inf)", int_in(1)),
        "embedding_dim": Param(128, "an int in [1, inf)", int_in(1)),
        "generator_dim": Param((256, 256), "a non-empty list of ints in [1, inf)", int_tuple),
        "discriminator_dim": Param((256, 256), "a non-empty list of ints in [1, inf)", int_tuple),
        "generator_lr": Param(2e-4, "a float in (0, inf)", float_in(0, low_open=True)),
        "generator_decay": Param(1e-6, "a float in [0, inf)", float_in(0)),
        "discriminator_lr": Param(2e-4, "a float in (0, inf)", float_in(0, low_open=True)),
        "discriminator_decay": Param(1e-6, "a float in [0, inf)", float_in(0)),
        "discriminator_steps": Param(1, "an int in [1, inf)", int_in(1)),
        "log_frequency": Param(True, "a bool", is_bool),
        "enforce_min_max_values": Param(True, "a bool", is_bool),
        "enforce_rounding": Param(True, "a bool", is_bool),
    }

    def _check_combination(self, params: dict[str, Any]) -> None:
        batch_size, pac = params["batch_size"], params["pac"]
        if batch_size % pac != 0:
            raise ParameterError(
                f"The 'batch_size' parameter of CTGAN must be divisible by 'pac' ({pac}). Got "
                f"{batch_size} instead; use e.g. {max(pac, batch_size // pac * pac)}."
            )
        if batch_size % 2 != 0:
            raise ParameterError(
                f"The 'batch_size' parameter of CTGAN must be even. Got {batch_size} instead."
            )

    def _make_model(self, metadata: Any, params: dict[str, Any], device: str) -> Any:
        from sdv.single_table import CTGANSynthesizer

        kwargs = dict(params)
        kwargs["generator_dim"] = tuple(kwargs["generator_dim"])
        kwargs["discriminator_dim"] = tuple(kwargs["discriminator_dim"])
        return CTGANSynthesizer(metadata, enable_gpu=device == "cuda", verbose=False, **kwargs)

    conditional_method = "CTGAN conditional vector"
    conditional_overdraw = 1.5

    def _draw_where(self, n_rows: int, conditions: dict[str, Any], seed: int) -> Any:
        """Feed the condition through CTGAN's conditional vector (not SDV's reject sampling).

        CTGAN trains its generator to produce the category named in the conditional vector,
        so most rows match; the caller still filters, since the vector steers rather than
        forces. One discrete column can be conditioned this way; others fall back.
        """
        model = self.model_
        discrete = [c for c in conditions if self.schema.columns[c].kind in (
            ColumnKind.categorical, ColumnKind.boolean, ColumnKind.ordinal)]
        if len(discrete) != 1 or len(conditions) != 1:
            return super()._draw_where(n_rows, conditions, seed)
        column = discrete[0]
        value = conditions[column]
        model.reset_sampling()
        model._set_random_state(int(seed))
        raw = model._model.sample(int(n_rows), condition_column=column, condition_value=value)
        self._batch_drawn = len(raw)
        # the column reaches CTGAN untransformed: drop non-matching rows before the (costly)
        # reverse transform rather than after
        raw = raw[raw[column].map(lambda v: category_text(v) == category_text(value))]
        return model._data_processor.reverse_transform(raw)

    def _place(self, model: Any, device: str) -> None:
        import torch

        model._model.set_device(torch.device(device))
