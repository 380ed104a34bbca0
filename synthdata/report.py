"""The run report (``report.json``): pydantic models, extended by the scoring sections."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class Section(BaseModel):
    """One scoring section: headline figures, [0, 1] scores (higher is better), tidy details."""

    figures: dict[str, Any] = Field(default_factory=dict)
    scores: dict[str, float | None] = Field(default_factory=dict)
    details: list[dict[str, Any]] = Field(default_factory=list)


class RunInfo(BaseModel):
    table: str
    schema_name: str
    synthesizer: str
    params: dict[str, Any]
    seed: int
    device: str
    holdout_fraction: float
    n_rows_input: int
    n_rows_train: int
    n_rows_holdout: int
    n_rows_synthetic: int
    format: str
    started_at: str
    duration_seconds: float


class Report(BaseModel):
    synthdata_version: str
    run: RunInfo
    fidelity: Section
    pii: list[dict[str, Any]] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)

    def to_json_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")
