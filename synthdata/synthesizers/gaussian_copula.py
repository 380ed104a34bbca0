"""Gaussian copula over SDV's GaussianCopulaSynthesizer (CPU only, no epochs)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, ValidationInfo, model_validator

from synthdata.synthesizers import _sdv
from synthdata.synthesizers.base import Draw, Synthesizer

Distribution = Literal["norm", "beta", "truncnorm", "uniform", "gamma", "gaussian_kde"]


class GaussianCopulaParams(_sdv.SdvParams):
    default_distribution: Distribution = Field(
        "beta", description="Marginal distribution fitted to numerical columns.")
    numerical_distributions: dict[str, Distribution] | None = Field(
        None, description="Per-column marginal distributions, overriding the default.")

    @model_validator(mode="after")
    def _columns_exist(self, info: ValidationInfo) -> GaussianCopulaParams:
        schema = (info.context or {}).get("schema")
        unknown = sorted(set(self.numerical_distributions or {})
                         - set(schema.columns if schema is not None else
                               self.numerical_distributions or {}))
        if unknown:
            raise ValueError(
                "The 'numerical_distributions' parameter of GaussianCopula names column(s) "
                f"{', '.join(map(repr, unknown))} that are not in the schema.")
        return self


@_sdv.backend("GaussianCopulaSynthesizer")
class GaussianCopula(Synthesizer):
    """Marginals per column plus a Gaussian copula for their dependence. Fast; no GPU."""

    Params = GaussianCopulaParams
    conditional = True
    conditional_method = "Gaussian copula conditioned analytically"

    def _make_model(self, metadata: Any, params: dict[str, Any], device: str) -> Any:
        from sdv.single_table import GaussianCopulaSynthesizer

        return GaussianCopulaSynthesizer(metadata, **params)

    def _sample_where(self, n_rows: int, conditions: dict[str, Any], seed: int
                      ) -> Draw | None:
        """SDV conditions the copula's multivariate normal on the transformed values."""
        import functools
        from unittest import mock

        import tqdm
        from sdv.sampling import Condition

        model = self.model_
        with _sdv.seeded(seed, torch=False):
            model._set_random_state(int(seed))
            # SDV draws its own progress bar here; the library stays silent (the caller logs)
            with mock.patch.object(tqdm, "tqdm", functools.partial(tqdm.tqdm, disable=True)):
                try:
                    rows = _sdv.rows(model.sample_from_conditions(
                        [Condition(num_rows=int(n_rows), column_values=dict(conditions))],
                        max_tries_per_batch=20))
                except ValueError as exc:  # SDV found no row (a value it never learned)
                    if "Unable to sample any rows" not in str(exc):
                        raise
                    return None  # reject sampling then says the model never makes these
        return Draw(rows, len(rows))
