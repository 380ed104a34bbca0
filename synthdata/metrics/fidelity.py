"""Fidelity: how well the synthetic table stands in for the real one.

Column shapes and column pair trends are sdmetrics' QualityReport properties (KSComplement /
TVComplement per column; CorrelationSimilarity / ContingencySimilarity per pair), computed
with subsampling switched off so that the same tables always give the same figures.
"""

from __future__ import annotations

import logging
import math
import warnings
from typing import Any

import pandas as pd

from synthdata.schema import ColumnKind, Schema

logger = logging.getLogger(__name__)

_SDTYPES = {
    ColumnKind.numerical: "numerical",
    ColumnKind.integer: "numerical",
    ColumnKind.categorical: "categorical",
    ColumnKind.ordinal: "categorical",
    ColumnKind.boolean: "boolean",
    ColumnKind.datetime: "datetime",
}


def scored_columns(schema: Schema) -> list[str]:
    """Columns whose distributions are compared (ids, PII and free text are not)."""
    return [name for name, col in schema.columns.items() if col.kind in _SDTYPES]


def sdmetrics_metadata(schema: Schema) -> dict[str, Any]:
    return {"columns": {c: {"sdtype": _SDTYPES[schema.columns[c].kind]}
                        for c in scored_columns(schema)}}


def _for_sdmetrics(df: pd.DataFrame, schema: Schema) -> pd.DataFrame:
    out = {}
    for c in scored_columns(schema):
        kind = schema.columns[c].kind
        if kind in (ColumnKind.numerical, ColumnKind.integer):
            out[c] = pd.to_numeric(df[c], errors="coerce").astype("float64")
        elif kind == ColumnKind.boolean:
            out[c] = df[c].astype(object).where(df[c].notna(), None)
        else:
            out[c] = df[c]
    return pd.DataFrame(out)


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def quality_report(train: pd.DataFrame, synth: pd.DataFrame, schema: Schema) -> dict[str, Any]:
    """sdmetrics QualityReport of ``synth`` against ``train``: figures and tidy detail rows."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # the single-table report (deprecated alias, same figures as SDV's docs show)
        from sdmetrics.reports.single_table import QualityReport

        report = QualityReport()
        report.num_rows_subsample = None  # deterministic figures: score every row
        report.generate(
            _for_sdmetrics(train, schema),
            _for_sdmetrics(synth, schema),
            sdmetrics_metadata(schema),
            verbose=False,
        )
    props = report.get_properties().set_index("Property")["Score"]
    details: list[dict[str, Any]] = []
    shapes = report.get_details("Column Shapes")
    for row in shapes.to_dict("records"):
        details.append({
            "columns": [row["Column"]],
            "metric": row["Metric"],
            "value": _clean(float(row["Score"])) if pd.notna(row["Score"]) else None,
            "error": row.get("Error") if isinstance(row.get("Error"), str) else None,
        })
    pairs = report.get_details("Column Pair Trends")
    for row in pairs.to_dict("records"):
        details.append({
            "columns": [row["Column 1"], row["Column 2"]],
            "metric": row["Metric"],
            "value": _clean(float(row["Score"])) if pd.notna(row["Score"]) else None,
            "error": row.get("Error") if isinstance(row.get("Error"), str) else None,
        })
    figures = {
        "column_shapes": _clean(float(props.get("Column Shapes", float("nan")))),
        "column_pair_trends": _clean(float(props.get("Column Pair Trends", float("nan")))),
    }
    return {"figures": figures, "scores": dict(figures), "details": details}
