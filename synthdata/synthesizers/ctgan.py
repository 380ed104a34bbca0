"""CTGAN (conditional GAN, Xu et al. 2019) over SDV's CTGANSynthesizer."""

from __future__ import annotations

import warnings
from typing import Any

import pandas as pd
from pydantic import Field, model_validator

from synthdata.schema import ColumnKind
from synthdata.synthesizers import _sdv
from synthdata.synthesizers.base import Draw, Synthesizer

Width = _sdv.Width


class CTGANParams(_sdv.NeuralParams):
    batch_size: int = Field(500, ge=2, description="Rows per training batch.", json_schema_extra={
        "domain": "an even int in [2, inf), divisible by 'pac'"})
    pac: int = Field(10, ge=1, description="Rows the discriminator judges together.")
    generator_dim: list[Width] = Field([256, 256], min_length=1,
                                       description="Generator layer widths.")
    discriminator_dim: list[Width] = Field([256, 256], min_length=1,
                                           description="Discriminator layer widths.")
    generator_lr: float = Field(2e-4, gt=0, description="Generator learning rate.")
    generator_decay: float = Field(1e-6, ge=0, description="Generator weight decay.")
    discriminator_lr: float = Field(2e-4, gt=0, description="Discriminator learning rate.")
    discriminator_decay: float = Field(1e-6, ge=0, description="Discriminator weight decay.")
    discriminator_steps: int = Field(1, ge=1,
                                     description="Discriminator updates per generator update.")
    log_frequency: bool = Field(
        True, description="Sample conditions by log frequency (rare categories more often).")

    @model_validator(mode="after")
    def _batches_split_into_packs(self) -> CTGANParams:
        if self.batch_size % self.pac != 0:
            raise ValueError(
                f"The 'batch_size' parameter of CTGAN must be divisible by 'pac' ({self.pac}). "
                f"Got {self.batch_size} instead; use e.g. "
                f"{max(self.pac, self.batch_size // self.pac * self.pac)}.")
        if self.batch_size % 2 != 0:
            raise ValueError(
                f"The 'batch_size' parameter of CTGAN must be even. Got {self.batch_size} "
                "instead.")
        return self


@_sdv.backend("CTGANSynthesizer")
class CTGAN(Synthesizer):
    """Mode-specific normalisation and a conditional generator; trains on CUDA when present."""

    Params = CTGANParams
    uses_torch = True
    conditional = True
    conditional_method = "CTGAN conditional vector"

    def _make_model(self, metadata: Any, params: dict[str, Any], device: str) -> Any:
        from sdv.single_table import CTGANSynthesizer

        kwargs = dict(params)
        kwargs["generator_dim"] = tuple(kwargs["generator_dim"])
        kwargs["discriminator_dim"] = tuple(kwargs["discriminator_dim"])
        return CTGANSynthesizer(metadata, enable_gpu=device == "cuda", verbose=False, **kwargs)

    def _vector_condition(self, conditions: dict[str, Any]) -> tuple[str, dict] | None:
        """(column, CTGAN's ids of the value) when the conditional vector can carry
        ``conditions``: one discrete column and a category the model was trained on."""
        if len(conditions) != 1:
            return None
        column, value = next(iter(conditions.items()))
        if self.schema.columns[column].kind not in (
                ColumnKind.categorical, ColumnKind.boolean, ColumnKind.ordinal):
            return None
        try:
            with warnings.catch_warnings():  # rdt warns before CTGAN raises
                warnings.simplefilter("ignore")
                info = self.model_._model._transformer.convert_column_name_value_to_id(
                    column, value)
        except ValueError:  # the category was absent from the training rows
            return None
        return column, info

    def _sample_where(self, n_rows: int, conditions: dict[str, Any], seed: int) -> Draw | None:
        """Feed the condition through CTGAN's conditional vector (not SDV's reject sampling).

        CTGAN trains its generator to produce the category named in the conditional vector.
        ``CTGAN.sample(condition_column=...)`` cannot be used as it is: it places the 1 of the
        vector at ``_discrete_column_matrix_st``, which is never filled (all zeros), so it
        conditions on a category of the *first* discrete column instead (sdv-dev/CTGAN#169,
        #273; the fix in PR #236 was never merged). It also samples with the generator's
        BatchNorm layers in training mode, which normalises a batch of one class by that
        batch's own statistics and so strips most of the condition out again. This builds
        the vector at ``_discrete_column_cond_st`` and runs the generator in eval mode with
        BatchNorm statistics calibrated for the condition (see :func:`conditional_rows`);
        raw rows whose argmax misses the category are dropped in tensor space, and the
        generator runs until ``n_rows`` rows match, so only kept rows pay for the (costly)
        reverse transform. One discrete column can be conditioned this way; for other
        conditions this returns None (reject sampling).
        """
        vector = self._vector_condition(conditions)
        if vector is None:
            return None
        column, info = vector
        model = self.model_
        with _sdv.seeded(seed, torch=True):
            model._set_random_state(int(seed))
            # every row matches: the argmax the filter used is the reverse transform's choice
            raw, drawn = conditional_rows(model._model, column, info, int(n_rows))
            if not len(raw):  # SDV's reverse transform leaves key columns out of an empty frame
                return Draw(pd.DataFrame(columns=list(self.schema.modelled_columns)), drawn)
            return Draw(model._data_processor.reverse_transform(raw), drawn)


CONDITIONAL_CHUNK = 4096  # most generator rows per forward pass (eval mode: size-free)
CONDITIONAL_MAX_DRAWS = 1_000  # give up after this many generator rows per row wanted
CONDITIONAL_GIVE_UP = 200_000  # ... or after this many rows without a single match
# BatchNorm calibration: batches whose rows carry the condition in this share (the rest get
# CTGAN's usual sampled vectors). 0 steers hardest (bank_full y = yes, 50 epochs: 99.7 % of
# rows match, but their other columns resemble the real class less than reject-sampled rows
# do: mean KS/TV similarity 0.80 vs 0.88); 0.5 keeps 83 % matching at 0.90 similarity;
# 0.75 keeps 51 % at 0.90. See benchmarks/balance_compare.py.
CALIBRATION_SHARE = 0.5
CALIBRATION_BATCHES = 10


def conditional_rows(ctgan: Any, column: str, info: dict[str, int], n_rows: int, *,
                     share: float = CALIBRATION_SHARE) -> tuple[Any, int]:
    """Up to ``n_rows`` raw CTGAN rows of one category, and how many rows the generator drew.

    ``info`` is ``convert_column_name_value_to_id``'s answer. The generator was trained in
    train mode, where BatchNorm normalises each batch by its own statistics, and its batches
    mixed many conditions. So the BatchNorm statistics used here are recomputed (then put
    back) from ``CALIBRATION_BATCHES`` batches in which ``share`` of the rows carry the
    condition; with those fixed, the generator runs in eval mode, in chunks of any
    size, until ``n_rows`` rows match or ``CONDITIONAL_MAX_DRAWS`` rows per wanted row were
    drawn. Only the matches are reverse transformed. Randomness comes from the model's own
    random states, as in ``CTGAN.sample``; the model is left as it was.
    """
    import numpy as np
    import torch
    from ctgan.synthesizers.base import set_random_states

    sampler = ctgan._data_sampler
    cond_index = int(sampler._discrete_column_cond_st[info["discrete_column_id"]]
                     + info["value_id"])
    generator = ctgan._generator
    was_training = generator.training
    # CTGAN's activation: tanh on the scalar parts, gumbel-softmax on every one-hot span. The
    # reverse transform reads a one-hot span only through its argmax, and the argmax of a
    # gumbel-softmax is a draw from softmax(logits); drawing it by inverse CDF takes one
    # uniform per span rather than one exponential per output (the bulk of the time).
    tanh_columns, spans, offset, own = [], [], 0, 0
    transformer = ctgan._transformer
    for column_info, outputs in zip(transformer._column_transform_info_list,
                                    transformer.output_info_list, strict=True):
        for output in outputs:
            if output.activation_fn == "tanh":
                tanh_columns.extend(range(offset, offset + output.dim))
            else:
                if column_info.column_name == column:  # a discrete column: its one span
                    own = len(spans)
                spans.append((offset, output.dim))
            offset += output.dim
    tanh_index = torch.tensor(tanh_columns, dtype=torch.long, device=ctgan._device)
    spans = [spans[own]] + spans[:own] + spans[own + 1:]  # the conditioned column first

    def draw() -> tuple[Any, int]:
        kept, found, drawn = [], 0, 0
        while found < n_rows and drawn < CONDITIONAL_MAX_DRAWS * n_rows and not (
                found == 0 and drawn >= CONDITIONAL_GIVE_UP):
            # first draw as if every row matched; then by the match rate seen so far
            rate = found / drawn if drawn else 1.0
            rate = max(rate, 1.0 / CONDITIONAL_MAX_DRAWS)
            size = int(min(max(1.1 * (n_rows - found) / rate, 500), CONDITIONAL_CHUNK))
            fakez = torch.randn(size, ctgan._embedding_dim)  # z ~ N(0, 1), as CTGAN.sample
            condvec = torch.zeros(size, sampler.dim_cond_vec())
            condvec[:, cond_index] = 1
            fake = generator(torch.cat([fakez, condvec], dim=1).to(ctgan._device))
            uniform = torch.rand(size, len(spans)).to(ctgan._device)
            start_, dim_ = spans[0]
            one_hot = categorical(fake[:, start_:start_ + dim_], uniform[:, 0])
            match = one_hot[:, info["value_id"]] == 1
            fake, uniform = fake[match][: n_rows - found], uniform[match][: n_rows - found]
            fake[:, start_:start_ + dim_] = one_hot[match][: n_rows - found]
            for k, (start_, dim_) in enumerate(spans[1:], start=1):
                fake[:, start_:start_ + dim_] = categorical(fake[:, start_:start_ + dim_],
                                                            uniform[:, k])
            fake[:, tanh_index] = torch.tanh(fake[:, tanh_index])
            kept.append(fake.cpu().numpy())
            found += len(kept[-1])
            drawn += size
        return np.concatenate(kept, axis=0), drawn

    norms = [m for m in generator.modules()
             if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    saved = [(m.running_mean.clone(), m.running_var.clone(), m.num_batches_tracked.clone(),
              m.momentum) for m in norms]

    def calibrate() -> None:
        for norm in norms:
            norm.reset_running_stats()
            norm.momentum = None  # a plain average over the calibration batches
        generator.train()
        size = ctgan._batch_size
        conditioned = int(round(share * size))
        for _ in range(CALIBRATION_BATCHES):
            condvec = torch.from_numpy(sampler.sample_original_condvec(size))
            condvec[:conditioned] = 0
            condvec[:conditioned, cond_index] = 1
            generator(torch.cat([torch.randn(size, ctgan._embedding_dim), condvec],
                                dim=1).to(ctgan._device))
        generator.eval()

    def run() -> tuple[Any, int]:
        calibrate()
        return draw()

    try:
        with torch.no_grad():
            if ctgan.random_states is None:
                data, drawn = run()
            else:
                with set_random_states(ctgan.random_states, ctgan.set_random_state):
                    data, drawn = run()
    finally:
        for norm, (mean, var, tracked, momentum) in zip(norms, saved, strict=True):
            norm.running_mean.copy_(mean)
            norm.running_var.copy_(var)
            norm.num_batches_tracked.copy_(tracked)
            norm.momentum = momentum
        generator.train(was_training)
    return ctgan._transformer.inverse_transform(data), drawn


def categorical(logits: Any, uniform: Any) -> Any:
    """One-hot draws from softmax(``logits``) row by row, by inverse CDF of ``uniform``."""
    import torch

    cdf = torch.softmax(logits, dim=1).cumsum_(dim=1)
    index = (cdf < uniform[:, None]).sum(dim=1).clamp_(max=logits.shape[1] - 1)
    return torch.zeros_like(logits).scatter_(1, index[:, None], 1.0)
