"""The schema contract: pydantic models, loading with aggregated errors, and table validation.

A schema is YAML (``schemas/<table>.yaml``)::

    name: adult
    target: income
    sensitive: [sex, race]
    columns:
      age: {kind: integer, min: 17, max: 90, nullable: false}
      workclass: {kind: categorical, categories: [Private, State-gov, ...]}
      income: {kind: categorical, categories: ["<=50K", ">50K"], nullable: false}

``schemas/schema.json`` is the JSON Schema exported from :class:`Schema`
(``synthdata schema json > schemas/schema.json``).
"""

from __future__ import annotations

import json
import math
from enum import Enum
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from synthdata.errors import DataError, SchemaError

__all__ = [
    "BiasConfig",
    "Column",
    "ColumnKind",
    "GateConfig",
    "GateRule",
    "PiiStrategy",
    "PiiType",
    "Schema",
    "SplitConfig",
    "SynthesizerConfig",
    "load_schema",
    "schema_from_dict",
]

MIN_ROWS = 10
_INT64_LIMIT = 2.0**63
_TRUE = {"true", "t", "yes", "y", "1", "1.0"}
_FALSE = {"false", "f", "no", "n", "0", "0.0"}


class ColumnKind(str, Enum):
    numerical = "numerical"
    integer = "integer"
    categorical = "categorical"
    ordinal = "ordinal"
    boolean = "boolean"
    datetime = "datetime"
    id = "id"
    pii = "pii"
    text = "text"


# kinds whose synthetic values are not learned from the data (ids numbered afresh, PII and free
# text invented), so they can be neither a sensitive attribute nor a quasi-identifier
UNMODELLED_KINDS = (ColumnKind.id, ColumnKind.pii, ColumnKind.text)

# the SDV / SDMetrics sdtype of each kind (SDV's ordinal sdtype needs an order transformer;
# the categories are what matters here); PII and free text have none: they are never modelled
SDTYPES = {
    ColumnKind.numerical: "numerical",
    ColumnKind.integer: "numerical",
    ColumnKind.categorical: "categorical",
    ColumnKind.ordinal: "categorical",
    ColumnKind.boolean: "boolean",
    ColumnKind.datetime: "datetime",
    ColumnKind.id: "id",
}


class PiiStrategy(str, Enum):
    fake = "fake"
    hash = "hash"
    drop = "drop"


class PiiType(str, Enum):
    name = "name"
    first_name = "first_name"
    last_name = "last_name"
    email = "email"
    phone = "phone"
    address = "address"
    national_id = "national_id"
    free_text_id = "free_text_id"
    other = "other"


Scalar = str | int | float | bool


class Column(BaseModel):
    """One column: what kind of values it holds and which values are allowed."""

    model_config = ConfigDict(extra="forbid", use_enum_values=False)

    kind: ColumnKind = Field(description="What the column holds; decides how it is modelled.")
    nullable: bool = Field(True, description="Whether missing values are allowed.")
    min: float | str | None = Field(
        None, description="Smallest allowed value (numbers; ISO date for datetime)."
    )
    max: float | str | None = Field(
        None, description="Largest allowed value (numbers; ISO date for datetime)."
    )
    categories: list[Scalar] | None = Field(
        None,
        description="Allowed values of a categorical/ordinal column; for ordinal, in order. "
        "Values are compared as text.",
    )
    datetime_format: str | None = Field(
        None, description="strftime format of a datetime column, e.g. '%Y-%m-%d'."
    )
    inferred: bool = Field(
        False, description="min/max, categories and nullable: false were inferred from a "
        "sample by `schema infer`, not declared: synthetic rows keep to them, but input rows "
        "outside them are accepted. Delete once reviewed to refuse such rows."
    )
    pii_type: PiiType | None = Field(
        None, description="For kind pii: what the values are; decides the fake values."
    )
    pii_strategy: PiiStrategy = Field(
        PiiStrategy.fake,
        description="For kind pii: fake (Faker values of the same type), hash (salted per-run "
        "tokens) or drop (column removed from the output).",
    )
    description: str | None = Field(None, description="Free text for humans; not used.")


def _default_synthesizer() -> str:
    from synthdata.synthesizers.registry import DEFAULT

    return DEFAULT


RESERVED_PARAMS = ("seed", "device")  # given per call (CLI: --seed, --device), not per schema


class SynthesizerConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(
        default_factory=_default_synthesizer,
        description="Registry name (see `synthdata synthesizers`); default: the registry's "
        "default.")
    epochs: int | None = Field(None, ge=1, description="Training epochs (synthesizers that "
                               "train in epochs).")
    batch_size: int | None = Field(None, ge=1, description="Training batch size (synthesizers "
                                   "that train in epochs).")
    params: dict[str, Any] = Field(
        default_factory=dict, description="Further synthesizer parameters, checked against the "
        "synthesizer's own parameters when the schema loads.")

    def problems(self, schema: Schema) -> list[str]:
        """The name and every parameter checked against the registry and the backend."""
        from synthdata.synthesizers.registry import REGISTRY, backend_class

        if self.name not in REGISTRY:
            return [f"synthesizer.name: expected one of {', '.join(REGISTRY)}, "
                    f"found '{self.name}'; use one of those names"]
        out = [f"synthesizer.params must not set '{key}'; pass it per run instead (CLI: "
               f"--{key})" for key in RESERVED_PARAMS if key in self.params]
        backend = backend_class(self.name)
        given = {k: v for k, v in self.params.items() if k not in RESERVED_PARAMS}
        for key in ("epochs", "batch_size"):  # kept for other synthesizers (run notes it)
            if not backend.trains_in_epochs():
                given.pop(key, None)
            elif getattr(self, key) is not None:
                given[key] = getattr(self, key)
        _, found = backend.param_problems(given, schema)
        return out + [f"synthesizer: {p}" for p in found]


class SplitConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    holdout: float = Field(
        0.2, gt=0.0, lt=1.0, description="Share of rows kept out of training for scoring."
    )
    stratify: bool = Field(True, description="Stratify the split on the target.")


class GateRule(BaseModel):
    """A further gate bound on any figure or score of the report, by its dotted path."""

    model_config = ConfigDict(extra="forbid")

    path: str = Field(
        pattern=r"^(fidelity|privacy|bias)\.(figures|scores)\.[^.]+(\.[^.]+)*$",
        description="e.g. fidelity.scores.ml_efficacy or privacy.figures.inference_risk.sex",
    )
    min: float | None = Field(None, description="The value must be at least this.")
    max: float | None = Field(None, description="The value must be at most this.")

    @model_validator(mode="after")
    def _one_bound(self) -> GateRule:
        if self.min is None and self.max is None:
            raise ValueError(f"gate rule {self.path!r} needs 'min', 'max' or both")
        return self


class GateConfig(BaseModel):
    """Export gate thresholds (enforced by the gate; documented defaults)."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(True, description="false turns the gate off (every run exports).")
    min_column_shapes: float = Field(0.70, ge=0, le=1, description="sdmetrics Column Shapes.")
    min_column_pair_trends: float = Field(
        0.60, ge=0, le=1, description="sdmetrics Column Pair Trends."
    )
    max_detection_auc: float = Field(
        0.95, ge=0.5, le=1, description="Classifier AUC separating holdout from synth."
    )
    min_ml_efficacy: float = Field(
        0.5, ge=0, le=1, description="With a target: share of a real-trained model's skill "
        "above chance that one trained on synth keeps ((TSTR - chance) / (TRTR - chance); "
        "0 = a coin toss). Fails only when its 95 % upper confidence bound is below."
    )
    max_dcr_share: float = Field(
        0.55, ge=0.5, le=1, description="Share of synth rows closer to train than to holdout. "
        "Fails only when its 95 % lower confidence bound is above."
    )
    max_exact_copy_excess: float = Field(
        0.01, ge=0, le=1, description="Exact-copy rate of train rows above the holdout's own. "
        "Fails only when its 95 % lower confidence bound is above."
    )
    max_mia_auc: float = Field(
        0.60, ge=0.5, le=1, description="Membership-inference AUC. Fails only when its 95 % "
        "lower confidence bound is above."
    )
    max_reidentification_risk: float = Field(
        0.10, ge=0, le=1, description="Upper bound of anonymeter risks."
    )
    max_constraint_violations: float = Field(
        0.0, ge=0, le=1, description="Share of synthetic rows breaking a declared range, "
        "category or nullability (evaluate scores tables from any tool)."
    )
    block_on_bias_flags: bool = Field(True, description="Fail on bias flags of severity block.")
    max_epsilon: float | None = Field(
        None, gt=0, description="Largest differential privacy epsilon of the model "
        "(privacy.dp.epsilon); a run whose model is not differentially private fails. None = "
        "no DP required."
    )
    rules: list[GateRule] = Field(
        default_factory=list, description="Further bounds on any figure or score of the report."
    )


class BiasConfig(BaseModel):
    """Bias checks: group sizes, tolerances and the error rate of their tests (defaults documented).

    A flag needs a change beyond its tolerance *and* beyond sampling noise: every test of one
    report shares the family-wise error rate ``alpha`` (Bonferroni).
    """

    model_config = ConfigDict(extra="forbid")

    min_group_size: int = Field(
        30, ge=1, description="Groups with fewer rows are skipped and listed with their sizes."
    )
    intersections: bool = Field(
        True, description="Also check each pair of sensitive columns (e.g. sex*race)."
    )
    alpha: float = Field(
        0.05, gt=0, lt=1, description="Family-wise error rate of all bias tests of a report."
    )
    representation_tolerance: float = Field(
        0.05, ge=0, le=1, description="Largest change of a group's share of the rows."
    )
    representation_ratio: float = Field(
        2.0, ge=1, description="A group's share may shrink or grow by at most this factor."
    )
    outcome_rate_tolerance: float = Field(
        0.03, ge=0, le=1, description="Largest change of a group's positive-outcome rate."
    )
    eo_gap_tolerance: float = Field(
        0.10, ge=0, le=1,
        description="Largest change of a downstream model's equalized-odds difference.",
    )


class Schema(BaseModel):
    """A table's schema: columns plus table-level settings."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field("table", description="Table name (used in SDV metadata and reports).")
    description: str | None = Field(None, description="Free text for humans; not used.")
    columns: dict[str, Column] = Field(description="Column name -> column spec, in table order.")
    target: str | None = Field(None, description="Column to predict (ML efficacy, stratification).")
    sensitive: list[str] = Field(
        default_factory=list, description="Protected attributes for bias checks."
    )
    quasi_identifiers: list[str] | None = Field(
        None, description="Columns an attacker may know (privacy checks)."
    )
    primary_key: str | None = Field(None, description="Unique row id column (kind id).")
    synthesizer: SynthesizerConfig = Field(default_factory=SynthesizerConfig,
                                           description="Which synthesizer run uses.")
    split: SplitConfig = Field(default_factory=SplitConfig,
                               description="How the holdout is split off.")
    bias: BiasConfig = Field(default_factory=BiasConfig,
                             description="Tolerances of the bias checks.")
    gate: GateConfig = Field(default_factory=GateConfig,
                             description="Bounds a run must meet to export.")

    # ---- derived views -------------------------------------------------------------
    def columns_of(self, *kinds: ColumnKind) -> list[str]:
        return [name for name, col in self.columns.items() if col.kind in kinds]

    @property
    def pii_columns(self) -> list[str]:
        return self.columns_of(ColumnKind.pii)

    @property
    def modelled_columns(self) -> list[str]:
        """Columns a synthesizer sees: everything except PII and free text."""
        return [
            n for n, c in self.columns.items() if c.kind not in (ColumnKind.pii, ColumnKind.text)
        ]

    # ---- semantic checks ------------------------------------------------------------
    def semantic_problems(self, *, check_synthesizer: bool = True) -> list[str]:
        problems: list[str] = []
        names = set(self.columns)
        if not self.columns:
            problems.append("'columns' is empty; declare at least one column")
        for field, value in (("target", self.target), ("primary_key", self.primary_key)):
            if value is not None and value not in names:
                problems.append(
                    f"{field}: column '{value}' is not declared under 'columns'; "
                    f"add it or fix the name (columns: {_short_list(sorted(names))})"
                )
        for field, values in (("sensitive", self.sensitive), ("quasi_identifiers",
                                                              self.quasi_identifiers or [])):
            for value in values:
                if value not in names:
                    problems.append(
                        f"{field}: column '{value}' is not declared under 'columns'; "
                        "add it or remove it from the list"
                    )
                elif self.columns[value].kind in UNMODELLED_KINDS:
                    kind = self.columns[value].kind.value
                    role = "a sensitive attribute" if field == "sensitive" \
                        else "a quasi-identifier"
                    problems.append(
                        f"{field}: column '{value}' has kind {kind}, which is never modelled "
                        "(its synthetic values are invented afresh), so it cannot be scored "
                        f"as {role}; remove it from {field}, or give it a modelled kind (e.g. "
                        "categorical) if it is not personal data")
        if self.columns and not [c for c in self.modelled_columns
                                 if self.columns[c].kind != ColumnKind.id]:
            kinds = sorted({c.kind.value for c in self.columns.values()})
            problems.append(
                f"no column is left to model: every column has kind {' or '.join(kinds)} "
                "(PII and free text are never modelled, ids are numbered afresh); expected at "
                "least one categorical, boolean, ordinal, integer, numerical or datetime "
                "column: declare one, or there is nothing to synthesize")
        if self.target is not None and self.target in self.columns:
            kind = self.columns[self.target].kind
            if kind in (ColumnKind.id, ColumnKind.pii, ColumnKind.text, ColumnKind.datetime):
                problems.append(
                    f"target: column '{self.target}' has kind {kind.value}; a target must be "
                    "categorical, boolean, ordinal, integer or numerical; pick another target"
                )
        if self.primary_key is not None and self.primary_key in self.columns:
            if self.columns[self.primary_key].kind != ColumnKind.id:
                problems.append(
                    f"primary_key: column '{self.primary_key}' must have kind id; "
                    f"set 'kind: id' on it"
                )
        if check_synthesizer:
            problems.extend(self.synthesizer.problems(self))
        for name, col in self.columns.items():
            problems.extend(_column_problems(name, col))
        return problems

    # ---- data validation ------------------------------------------------------------
    def conform(
        self, df: pd.DataFrame, *, holdout: float | None = None, role: str = "real"
    ) -> tuple[pd.DataFrame, list[str]]:
        """Type ``df`` per schema and list every problem (column, count, first bad row, fix).

        Row numbers are 1-based data rows (the header is not counted).

        ``role`` says what the table is: ``"real"`` (to be split: every check), ``"part"``
        (an already split train or holdout: no split-size check), ``"batch"`` (a slice of a
        streamed dataset: the checks of each value only; ``synthdata.dataset`` makes the
        whole-table ones over the stream) or ``"synthetic"`` (to be
        scored: only columns and types are checked, since out-of-range values, collapsed
        columns or missing PII columns are findings to report, not input errors).
        """
        if role not in ("real", "part", "batch", "synthetic"):
            raise ValueError(f"role must be 'real', 'part', 'batch' or 'synthetic', got "
                             f"{role!r}")
        lenient = role == "synthetic"
        problems: list[str] = []
        present = [str(c) for c in df.columns]
        # PII and free text are never modelled or scored: a train, holdout or synthetic table
        # given for scoring may leave them out
        declared = [
            c for c in self.columns
            if not (role != "real" and c not in present and c not in self.modelled_columns)
        ]
        df = df.copy()
        df.columns = present
        missing = [c for c in declared if c not in present]
        unknown = [c for c in present if c not in self.columns]
        for c in missing:
            problems.append(
                f"column '{c}': declared in the schema but missing from the table; "
                "add the column to the table or remove it from the schema"
            )
        for c in unknown:
            problems.append(
                f"column '{c}': in the table but not declared in the schema; declare it under "
                "'columns' (or run 'synthdata schema infer') or remove it from the table"
            )

        typed: dict[str, pd.Series] = {}
        for name in declared:
            if name not in present:
                continue
            series, col_problems = _conform_column(
                name, self.columns[name], df[name], lenient=lenient
            )
            typed[name] = series
            problems.extend(col_problems)

        n_rows = len(df)
        if lenient or role == "batch":
            if n_rows == 0 and lenient:
                problems.append("table: has no rows; provide the synthetic rows to score")
            out = pd.DataFrame(typed, index=pd.RangeIndex(n_rows)) if typed else df
            return out, problems
        if n_rows == 0:
            problems.append(
                "table: has a header but no data rows; provide a table with data rows"
            )
        for name, series in typed.items():
            if n_rows == 0:
                break
            n_null = int(series.isna().sum())
            # empty as written: cells that failed to parse are reported as such, not as empty
            if n_null == n_rows and int(_as_text(df[name]).isna().sum()) == n_rows:
                problems.append(
                    f"column '{name}': expected values, found all {n_rows} rows empty; "
                    "fill the column or remove it from the table and schema"
                )
            elif n_null == 0 and series.nunique(dropna=True) == 1 and n_rows > 1:
                problems.append(
                    f"column '{name}': expected varying values, found the constant "
                    f"{_show(series.iloc[0])} in all {n_rows} rows; a synthesizer learns nothing "
                    "from it: remove it from the table and schema"
                )

        if self.primary_key and self.primary_key in typed:
            pk = typed[self.primary_key]
            dup = pk.duplicated(keep="first") & pk.notna()
            if dup.any():
                problems.append(
                    f"column '{self.primary_key}': primary key expected unique, found "
                    f"{int(dup.sum())} duplicate values (first at row {_first_row(dup)}); "
                    "de-duplicate the rows or unset primary_key"
                )

        split = self.split if holdout is None else self.split.model_copy(
            update={"holdout": holdout}
        )
        if self.target and self.target in typed and n_rows > 0:
            counts = typed[self.target].value_counts(dropna=True)
            if len(counts) == 1:
                problems.append(
                    f"target '{self.target}': expected at least two classes, found only "
                    f"{_show(counts.index[0])} ({int(counts.iloc[0])} rows); use a table that "
                    "contains every class or unset 'target' in the schema"
                )
            elif len(counts) > 1 and self.columns[self.target].kind not in (
                ColumnKind.numerical,
            ) and split.stratify and len(counts) <= 50 and role == "real":
                rare = counts[counts < 2]
                if len(rare):
                    problems.append(
                        f"target '{self.target}': every class needs at least 2 rows for a "
                        f"stratified holdout, found {len(rare)} class(es) with 1 row "
                        f"({_short_list([str(v) for v in rare.index])}); add rows, merge the "
                        "rare classes, or set split.stratify: false"
                    )
        if 0 < n_rows and role == "real":
            n_holdout = math.floor(n_rows * split.holdout)
            need = rows_needed(split.holdout)
            if n_rows < need or n_holdout < 1 or n_rows - n_holdout < 2:
                problems.append(
                    f"table: expected at least {need:,} rows for a holdout fraction of "
                    f"{split.holdout:g} (at least 1 holdout row and 2 train rows), found "
                    f"{n_rows:,}, which would leave {n_holdout:,} holdout and "
                    f"{n_rows - n_holdout:,} train rows; provide more rows or change the "
                    "holdout fraction (default 0.2)"
                )
        out = pd.DataFrame(typed, index=pd.RangeIndex(n_rows)) if typed else df
        return out, problems

    def problems(
        self, df: pd.DataFrame, *, holdout: float | None = None, role: str = "real"
    ) -> list[str]:
        """Every problem of ``df`` against this schema; empty when the table is valid."""
        return self.conform(df, holdout=holdout, role=role)[1]

    def validate_table(
        self, df: pd.DataFrame, *, holdout: float | None = None, source: str = "table",
        role: str = "real",
    ) -> pd.DataFrame:
        """Return ``df`` typed per schema, or raise one :class:`DataError` listing every problem."""
        typed, problems = self.conform(df, holdout=holdout, role=role)
        if problems:
            raise DataError(problems, source=source)
        return typed



def rows_needed(holdout: float) -> int:
    """The fewest rows that split into a ``holdout`` fraction (at least 1 row) and a train
    part (at least 2 rows), and no fewer than :data:`MIN_ROWS`."""
    n = max(MIN_ROWS, math.ceil(2 / holdout), math.ceil(2 / (1 - holdout)))
    while math.floor(n * holdout) < 1 or n - math.floor(n * holdout) < 2:
        n += 1
    return n


def category_text(value: Scalar) -> str:
    """A category as the text it is compared as (``1.0`` and ``1`` are the same category)."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _short_list(items: list[str], n: int = 8) -> str:
    shown = ", ".join(items[:n])
    return shown + (f", ... ({len(items) - n} more)" if len(items) > n else "")


def _show(value: Any) -> str:
    text = str(value)
    return repr(text if len(text) <= 40 else text[:37] + "...")


def _first_row(mask: pd.Series) -> int:
    return int(mask.to_numpy().nonzero()[0][0]) + 1


def _column_problems(name: str, col: Column) -> list[str]:
    problems: list[str] = []
    where = f"columns.{name}"
    numeric_kinds = (ColumnKind.numerical, ColumnKind.integer)
    if col.min is not None or col.max is not None:
        if col.kind in numeric_kinds:
            for bound in ("min", "max"):
                value = getattr(col, bound)
                if isinstance(value, str):
                    problems.append(
                        f"{where}.{bound}: expected a number, found {value!r}; write a number"
                    )
            if (
                isinstance(col.min, float | int)
                and isinstance(col.max, float | int)
                and col.min > col.max
            ):
                problems.append(
                    f"{where}: min ({col.min:g}) is greater than max ({col.max:g}); swap them"
                )
        elif col.kind == ColumnKind.datetime:
            parsed = {}
            for bound in ("min", "max"):
                value = getattr(col, bound)
                if value is None:
                    continue
                try:
                    parsed[bound] = pd.Timestamp(str(value))
                except (ValueError, TypeError):
                    problems.append(
                        f"{where}.{bound}: expected an ISO date such as '2020-01-31', "
                        f"found {value!r}; write the date as YYYY-MM-DD"
                    )
            if len(parsed) == 2 and parsed["min"] > parsed["max"]:
                problems.append(f"{where}: min is after max; swap them")
        else:
            problems.append(
                f"{where}: min/max apply to numerical, integer and datetime columns, not "
                f"{col.kind.value}; remove min/max or change the kind"
            )
    if col.categories is not None:
        if col.kind not in (ColumnKind.categorical, ColumnKind.ordinal):
            problems.append(
                f"{where}.categories: only categorical and ordinal columns take categories, "
                f"this column is {col.kind.value}; remove 'categories' or change the kind"
            )
        elif len(col.categories) == 0:
            problems.append(f"{where}.categories: is empty; list the allowed values or remove it")
        else:
            texts = [category_text(c) for c in col.categories]
            if any(isinstance(c, bool) for c in col.categories):
                problems.append(
                    f"{where}.categories: found true/false, which is how YAML reads unquoted "
                    "yes/no/on/off/true/false; quote them (\"yes\") or use kind: boolean"
                )
            dups = sorted({t for t in texts if texts.count(t) > 1})
            if dups:
                problems.append(
                    f"{where}.categories: duplicate values {_short_list(dups)}; list each once"
                )
    if col.kind == ColumnKind.ordinal and not col.categories:
        problems.append(
            f"{where}: an ordinal column needs 'categories' listing its values in order; "
            "add them or use kind categorical"
        )
    if col.datetime_format is not None:
        if col.kind != ColumnKind.datetime:
            problems.append(
                f"{where}.datetime_format: only datetime columns take a format, this column is "
                f"{col.kind.value}; remove it or set kind: datetime"
            )
        elif "%" not in col.datetime_format:
            problems.append(
                f"{where}.datetime_format: expected a strftime format such as '%Y-%m-%d', "
                f"found {col.datetime_format!r}; fix the format"
            )
    if col.pii_type is not None and col.kind != ColumnKind.pii:
        problems.append(
            f"{where}.pii_type: only pii columns take a pii_type, this column is "
            f"{col.kind.value}; set kind: pii or remove pii_type"
        )
    return problems


# ---- per-column coercion ---------------------------------------------------------------
def _bad(name: str, mask: pd.Series, raw: pd.Series, expected: str, fix: str) -> str:
    first = _first_row(mask)
    example = raw[mask].iloc[0]
    return (
        f"column '{name}': expected {expected}, found {_show(example)} in {int(mask.sum())} "
        f"row(s) (first at row {first}); {fix}"
    )


def _as_text(raw: pd.Series) -> pd.Series:
    """Values as text, missing as None; integral floats print without '.0'."""

    def one(v: Any) -> Any:
        if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA or v is pd.NaT:
            return None
        if isinstance(v, float) and v.is_integer():
            return str(int(v))
        if isinstance(v, str):
            v = v.strip()
            return v if v != "" else None
        return str(v)

    return pd.Series([one(v) for v in raw.to_numpy(dtype=object)], index=raw.index, dtype=object)


def _conform_column(
    name: str, col: Column, raw: pd.Series, *, lenient: bool = False
) -> tuple[pd.Series, list[str]]:
    raw = raw.reset_index(drop=True)
    problems: list[str] = []
    text = _as_text(raw)
    present = text.notna()
    kind = col.kind
    # declared constraints refuse input; inferred ones (col.inferred) and a synthetic table's
    # (lenient: scored by constraint_violations instead) do not
    enforce = not lenient and not col.inferred

    if kind in (ColumnKind.numerical, ColumnKind.integer):
        values = pd.to_numeric(text, errors="coerce").astype("float64")
        bad = present & values.isna()
        if bad.any():
            problems.append(
                _bad(name, bad, text, "numbers", "fix the data or declare the column categorical")
            )
        infinite = values.notna() & ~np.isfinite(values)
        if infinite.any():
            problems.append(
                _bad(name, infinite, text, "finite numbers",
                     "replace infinities with a number or leave the cell empty")
            )
            values = values.where(~infinite)
        if kind == ColumnKind.integer:
            frac = values.notna() & (values % 1 != 0)
            if frac.any():
                problems.append(
                    _bad(name, frac, text, "whole numbers", "fix the data or set kind: numerical")
                )
            huge = values.notna() & (values.abs() >= _INT64_LIMIT)
            if huge.any():
                problems.append(
                    _bad(name, huge, text, "whole numbers below 9.2e18 in size",
                         "fix the data or set kind: numerical")
                )
            values = values.where(~frac & ~huge)
            series = values.round().astype("Int64")
        else:
            series = values.astype("float64")
        if enforce:
            problems.extend(_range_problems(name, col, series.astype("float64"), text))
    elif kind == ColumnKind.boolean:
        lowered = text.str.lower()
        mapped = lowered.map(lambda v: True if v in _TRUE else (False if v in _FALSE else None))
        bad = present & mapped.isna()
        if bad.any():
            problems.append(
                _bad(name, bad, text, "true/false values", "fix the data or declare it categorical")
            )
        series = mapped.astype("boolean")
    elif kind == ColumnKind.datetime and pd.api.types.is_datetime64_any_dtype(raw):
        series = raw if raw.dt.tz is None else raw.dt.tz_convert(None)
        if enforce:
            problems.extend(_range_problems(name, col, series, text))
    elif kind == ColumnKind.datetime:
        # utc=True accepts zone offsets (also mixed ones); naive text is read as UTC, so
        # dropping the zone afterwards leaves naive values unchanged
        if col.datetime_format:
            parsed = pd.to_datetime(text, format=col.datetime_format, errors="coerce", utc=True)
            expected = f"dates in format {col.datetime_format!r}"
        else:
            parsed = pd.to_datetime(text, format="mixed", errors="coerce", utc=True)
            expected = "dates"
        parsed = parsed.dt.tz_convert(None)
        bad = present & parsed.isna()
        far = bad & text.map(lambda v: _outside_timestamp_range(v, col.datetime_format))
        if far.any():
            problems.append(_bad(
                name, far, text, f"dates from {pd.Timestamp.min:%Y-%m-%d} to "
                f"{pd.Timestamp.max:%Y-%m-%d} (the range a pandas timestamp holds)",
                "a placeholder such as 9999-12-31 usually means 'unknown' or 'never': leave "
                "those cells empty (nullable: true); real dates that far out can be declared "
                "kind: integer holding the year, or kind: categorical"))
            bad &= ~far
        if bad.any():
            problems.append(
                _bad(name, bad, text, expected, "fix the data or set datetime_format to match it")
            )
        series = parsed
        if enforce:
            problems.extend(_range_problems(name, col, series, text))
    elif kind in (ColumnKind.categorical, ColumnKind.ordinal):
        series = text
        if col.categories and enforce:
            allowed = {category_text(c) for c in col.categories}
            bad = present & ~text.isin(allowed)
            if bad.any():
                unseen = sorted(set(text[bad]))
                problems.append(
                    f"column '{name}': expected one of the declared categories, found "
                    f"{len(unseen)} unknown value(s) {_short_list([repr(u) for u in unseen], 5)} "
                    f"in {int(bad.sum())} row(s) (first at row {_first_row(bad)}); add them to "
                    "'categories' in the schema or fix the data"
                )
    else:  # id, pii, text
        series = text

    if not col.nullable and enforce:
        missing = ~present
        if missing.any() and not missing.all():
            problems.append(
                f"column '{name}': declared nullable: false, found {int(missing.sum())} empty "
                f"row(s) (first at row {_first_row(missing)}); fill them or set nullable: true"
            )
    return series, problems


def _outside_timestamp_range(value: Any, fmt: str | None) -> bool:
    """A valid date that pandas cannot hold as a timestamp (before 1677-09-21 or after
    2262-04-11), e.g. the placeholder 9999-12-31 or the year 1553."""
    import datetime as dt

    if not isinstance(value, str):
        return False
    try:
        when = dt.datetime.strptime(value, fmt) if fmt else dt.datetime.fromisoformat(value)
    except ValueError:
        return False
    # whole days inside pandas' bounds (1677-09-21 00:12:43 .. 2262-04-11 23:47:16)
    return not dt.datetime(1677, 9, 22) <= when.replace(tzinfo=None) < dt.datetime(2262, 4, 11)


def _range_problems(name: str, col: Column, values: pd.Series, text: pd.Series) -> list[str]:
    problems = []
    is_dt = col.kind == ColumnKind.datetime
    for bound, op in (("min", "lt"), ("max", "gt")):
        limit = getattr(col, bound)
        if limit is None:
            continue
        try:
            limit_v = pd.Timestamp(str(limit)) if is_dt else float(limit)
        except (TypeError, ValueError):
            continue  # reported by the schema check
        outside = values.notna() & getattr(values, op)(limit_v)
        if outside.any():
            word = "at least" if bound == "min" else "at most"
            shown = f"{limit:g}" if isinstance(limit, float) else str(limit)
            problems.append(
                _bad(
                    name,
                    outside.fillna(False).astype(bool),
                    text,
                    f"values {word} {shown}",
                    f"fix the data or widen '{bound}' in the schema",
                )
            )
    return problems


# ---- loading ---------------------------------------------------------------------------
_FIXES = {
    "missing": "add it",
    "extra_forbidden": "remove it or check its spelling",
    "enum": "use one of the allowed values",
}


def _is_type_tag(part: str) -> bool:
    """pydantic adds the union member it tried (``float``, ``list[...]``) to an error's loc."""
    return part in {"str", "int", "float", "bool"} or "[" in part or part.startswith("function-")


def _format_pydantic(error: ValidationError) -> list[str]:
    import reprlib

    problems = []
    seen: set[str] = set()
    for err in error.errors():
        parts = [str(p) for i, p in enumerate(err["loc"]) if i == 0 or not _is_type_tag(str(p))]
        loc = ".".join(parts) or "(top level)"
        if loc in seen:  # a union reports once per member; one line per location is enough
            continue
        seen.add(loc)
        found = err.get("input")
        # reprlib: bounded however large the input (repr of a huge structure never ends)
        found_s = "nothing" if err["type"] == "missing" else reprlib.repr(found)
        if len(found_s) > 60:
            found_s = found_s[:57] + "..."
        fix = _FIXES.get(err["type"], "correct the value")
        problems.append(f"{loc}: {err['msg']}, found {found_s}; {fix}")
    return problems


def _reference_problems(data: dict[str, Any]) -> list[str]:
    """Name checks on the raw mapping, so they are listed even beside structural errors."""
    columns = data.get("columns")
    if not isinstance(columns, dict):
        return []
    names = {str(c) for c in columns}
    problems = []
    for field in ("target", "primary_key"):
        value = data.get(field)
        if isinstance(value, str) and value not in names:
            problems.append(
                f"{field}: column '{value}' is not declared under 'columns'; add it or fix the name"
            )
    for field in ("sensitive", "quasi_identifiers"):
        values = data.get(field)
        for value in values if isinstance(values, list) else []:
            if str(value) not in names:
                problems.append(
                    f"{field}: column '{value}' is not declared under 'columns'; add it or "
                    "remove it from the list"
                )
    return problems


def _normalise_raw(data: dict[str, Any]) -> dict[str, Any]:
    """YAML shorthand and YAML's own typing: `age: integer`; unquoted dates in min/max."""
    import datetime as dt

    data = dict(data)
    columns = data.get("columns")
    if isinstance(columns, dict):
        fixed = {}
        for key, spec in columns.items():
            if isinstance(spec, str):
                spec = {"kind": spec}
            elif isinstance(spec, dict):
                spec = {
                    k: (v.isoformat() if k in ("min", "max") and isinstance(v, dt.date) else v)
                    for k, v in spec.items()
                }
            fixed[str(key)] = spec
        data["columns"] = fixed
    return data


def schema_from_dict(data: Any, *, source: str = "schema", check_synthesizer: bool = True
                     ) -> Schema:
    """Build a :class:`Schema` from plain data, raising one :class:`SchemaError` on problems.

    ``check_synthesizer=False`` for a schema stored with a saved model or run: its
    ``synthesizer`` block need not suit the backend that was actually used (or this version's).
    """
    if not isinstance(data, dict):
        raise SchemaError(
            [f"expected a mapping with 'columns' at the top level, found {type(data).__name__}; "
             "see schemas/adult.yaml for the format"],
            source=source,
        )
    data = _normalise_raw(data)
    try:
        schema = Schema.model_validate(data)
    except ValidationError as exc:
        problems = _format_pydantic(exc) + _reference_problems(data)
        raise SchemaError(problems, source=source) from None
    problems = schema.semantic_problems(check_synthesizer=check_synthesizer)
    if problems:
        raise SchemaError(problems, source=source)
    return schema


def load_schema(path: str | Path) -> Schema:
    """Load and validate a YAML (or JSON) schema file.

    Raises:
        SchemaError: listing every problem with its fix.
    """
    import yaml

    from synthdata._yaml import YamlProblem, load_yaml

    path = Path(path)
    source = f"schema '{path}'"
    if not path.exists():
        raise SchemaError(
            [f"file not found: expected a YAML schema at '{path}'; check the path or create one "
             "with 'synthdata schema infer TABLE -o SCHEMA.yaml'"],
            source=source,
        )
    if path.is_dir():
        raise SchemaError(
            [f"'{path}' is a folder; expected a YAML schema file: pass the file's path"],
            source=source,
        )
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise SchemaError(
            ["expected UTF-8 text, found bytes in another encoding; re-save the schema as UTF-8"],
            source=source,
        ) from None
    if not text.strip():
        raise SchemaError(
            ["the file is empty; expected YAML with a 'columns' mapping "
             "(create one with 'synthdata schema infer TABLE -o SCHEMA.yaml')"],
            source=source,
        )
    try:
        data = load_yaml(text)
    except YamlProblem as exc:
        raise SchemaError([str(exc)], source=source) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise SchemaError(
            [f"invalid YAML{where}: {problem}; fix the YAML syntax (indentation, colons, quotes)"],
            source=source,
        ) from None
    return schema_from_dict(data, source=source)


def json_schema() -> str:
    return json.dumps(Schema.model_json_schema(), indent=2) + "\n"


def reference_markdown() -> str:
    """Every schema field with its default and meaning, as a Markdown table (README)."""
    rows = ["| field | default | meaning |", "|---|---|---|"]

    def default_of(field: Any) -> str:
        if field.is_required():
            return "required"
        if field.default_factory is not None:
            value = field.default_factory()
            if isinstance(value, str):
                return value
            return "[]" if value == [] else "{}" if value == {} else "see below"
        value = field.default
        if isinstance(value, Enum):
            value = value.value
        return "null" if value is None else str(value).lower() if isinstance(value, bool) \
            else str(value)

    def walk(model: Any, prefix: str) -> None:
        nested = []
        for name, field in model.model_fields.items():
            text = (field.description or "").replace("|", "\\|")
            rows.append(f"| `{prefix}{name}` | {default_of(field)} | {text} |")
            sub = field.annotation
            if isinstance(sub, type) and issubclass(sub, BaseModel):
                nested.append((sub, f"{prefix}{name}."))
        for sub, sub_prefix in nested:
            walk(sub, sub_prefix)

    walk(Schema, "")
    walk(Column, "columns.<name>.")
    walk(GateRule, "gate.rules[].")
    return "\n".join(rows) + "\n"
