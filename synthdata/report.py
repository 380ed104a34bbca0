"""The run report (``report.json``): pydantic models, extended by the scoring sections."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class Section(BaseModel):
    """One scoring section: headline figures, [0, 1] scores (higher is better), tidy details."""

    figures: dict[str, Any] = Field(default_factory=dict)
    scores: dict[str, float | None] = Field(default_factory=dict)
    details: list[dict[str, Any]] = Field(default_factory=list)
    reference: dict[str, Any] = Field(
        default_factory=dict,
        description="The same figures for holdout vs train: what a perfect generator scores.",
    )


class BiasSection(Section):
    """The bias section: figures per sensitive column (or ``a*b`` intersection) plus flags."""

    flags: list[dict[str, Any]] = Field(
        default_factory=list,
        description="{column, group, check, real, synth, tolerance, message, change, severity}",
    )
    skipped: list[dict[str, Any]] = Field(
        default_factory=list, description="Groups too small for a check, with their sizes."
    )
    settings: dict[str, Any] = Field(default_factory=dict)


class RunInfo(BaseModel):
    """What was run. ``evaluate`` scores given tables, so it has no synthesizer of its own."""

    command: str = Field("run", description="run | evaluate")
    table: str
    schema_name: str
    synthesizer: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    seed: int
    device: str | None = None
    holdout_fraction: float | None = None
    n_rows_input: int | None = None
    n_rows_train: int
    n_rows_holdout: int
    n_rows_synthetic: int
    format: str | None = None
    started_at: str
    duration_seconds: float


class Report(BaseModel):
    synthdata_version: str
    run: RunInfo
    fidelity: Section
    privacy: Section | None = None
    bias: BiasSection | None = None
    pii: list[dict[str, Any]] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)

    def to_json_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")
