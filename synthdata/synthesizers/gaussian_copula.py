"""Gaussian copula over SDV's GaussianCopulaSynthesizer (CPU only, no epochs)."""

from __future__ import annotations

from typing import Any, ClassVar

from synthdata.synthesizers.base import Param, Synthesizer, is_bool, one_of

DISTRIBUTIONS = ("norm", "beta", "truncnorm", "uniform", "gamma", "gaussian_kde")


def _distribution_map(v: Any) -> bool:
    return v is None or (
        isinstance(v, dict) and all(isinstance(k, str) and d in DISTRIBUTIONS for k, d in v.items())
    )


class GaussianCopula(Synthesizer):
    """Marginals per column plus a Gaussian copula for their dependence. Fast; no GPU."""

    name = "gaussian_copula"
    uses_torch = False
    params: ClassVar[dict[str, Param]] = {
        "default_distribution": Param(
            "beta", f"one of {', '.join(DISTRIBUTIONS)}", one_of(*DISTRIBUTIONS)
        ),
        "numerical_distributions": Param(
            None, f"a mapping column -> one of {', '.join(DISTRIBUTIONS)}", _distribution_map
        ),
        "enforce_min_max_values": Param(True, "a bool", is_bool),
        "enforce_rounding": Param(True, "a bool", is_bool),
    }

    def _check_combination(self, params: dict[str, Any]) -> None:
        from synthdata.errors import ParameterError

        unknown = sorted(set(params["numerical_distributions"] or {}) - set(self.schema.columns))
        if unknown:
            raise ParameterError(
                "The 'numerical_distributions' parameter of GaussianCopula names column(s) "
                f"{', '.join(map(repr, unknown))} that are not in the schema."
            )

    def _make_model(self, metadata: Any, params: dict[str, Any], device: str) -> Any:
        from sdv.single_table import GaussianCopulaSynthesizer

        return GaussianCopulaSynthesizer(metadata, **params)

    conditional_method = "Gaussian copula conditioned analytically"
    conditional_overdraw = 1.0

    def _draw_where(self, n_rows: int, conditions: dict[str, Any], seed: int) -> Any:
        """SDV conditions the copula's multivariate normal on the transformed values."""
        import functools
        from unittest import mock

        import tqdm
        from sdv.sampling import Condition

        model = self.model_
        model._set_random_state(int(seed))
        # SDV draws its own progress bar here; the library stays silent (the caller logs)
        with mock.patch.object(tqdm, "tqdm", functools.partial(tqdm.tqdm, disable=True)):
            return model.sample_from_conditions(
                [Condition(num_rows=int(n_rows), column_values=dict(conditions))],
                max_tries_per_batch=20)
